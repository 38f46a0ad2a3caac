'use strict';
// Progress for people and for programs: a live bar (cli-progress) on a terminal; otherwise,
// or with --json, a JSON line every few seconds on stdout and a JSON summary at the end.

const cliProgress = require('cli-progress');

function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * `sample()` returns `{ slotsProcessed, slotsTotal, transactionsScanned, transactionsMatched,
 * events, slotsPerSecond, etaMs }`; the reporter polls it.
 */
function progressReporter({ json, stream = process.stderr, out = process.stdout, intervalMs, sample }) {
  if (!json && stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream,
      format: '{bar} {percentage}% | slots {value}/{total} | tx {scanned} scanned, {matched} matched | {events} events | {rate} slots/s | ETA {etaText}',
      hideCursor: true,
      barsize: 24,
      fps: 5,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    const update = () => {
      const p = sample();
      if (!p) return;
      const fields = { scanned: p.transactionsScanned ?? '-', matched: p.transactionsMatched ?? '-', events: p.events, rate: Math.round(p.slotsPerSecond), etaText: formatDuration(p.etaMs) };
      if (!started) {
        bar.start(Math.max(p.slotsTotal, 1), p.slotsProcessed, fields);
        started = true;
      } else {
        bar.setTotal(Math.max(p.slotsTotal, 1));
        bar.update(p.slotsProcessed, fields);
      }
    };
    const timer = setInterval(update, intervalMs ?? 200);
    return {
      stop() {
        clearInterval(timer);
        update();
        if (started) bar.stop();
      },
      summary(summary, lines) {
        for (const line of lines) stream.write(`${line}\n`);
      },
    };
  }
  const timer = setInterval(() => {
    const p = sample();
    if (p) out.write(`${JSON.stringify({ type: 'progress', ...p })}\n`);
  }, intervalMs ?? 5_000);
  return {
    stop() {
      clearInterval(timer);
    },
    summary(summary) {
      out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
    },
  };
}

module.exports = { progressReporter, formatDuration };
