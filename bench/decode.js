'use strict';
// Events per second on the same logs (the real corpus transactions of ../shared/corpus,
// repeated): @coral-xyz/anchor's EventParser; the package's Rust decoder alone
// (bench/decode_events.rs, in the release test binary); and startBackfill with `idls`, the
// whole pipeline (archive read, filter, decode, delivery to JS). Counts log events, the only
// kind EventParser returns, and, for startBackfill, all events too. Run after `npm run build`.
//   node bench/decode.js [--repeat 3000] [--anchor-repeat 300] [--json]
// Anchor runs fewer rounds (it is two orders slower); rates are compared, not totals.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');

const anchor031 = require('anchor-0.31');
const anchor029 = require('anchor-0.29');
const { startBackfill, writeArchive } = require('../lib');
const { encodeBase58 } = require('../lib/base58');
const { readIdl, readTx, txNames } = require('../__test__/corpus');
const { ROOT, SLOTS_PER_EPOCH, hostTriple, serveInChild, machine } = require('./common');

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3000' }, 'anchor-repeat': { type: 'string', default: '300' }, json: { type: 'boolean', default: false } } });
const REPEAT = Number(values.repeat);
const ANCHOR_REPEAT = Number(values['anchor-repeat']);
const FIRST_SLOT = 930 * SLOTS_PER_EPOCH + 1;
// One IDL per program: the version that reads this corpus's log events exactly.
const PROGRAMS = [
  ['pump-fun-2025-04', '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P'],
  ['pump-amm-2025-10', 'pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA'],
  ['raydium-clmm', 'CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK'],
  ['raydium-cp-swap', 'CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C'],
  ['drift', 'dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH'],
];

function anchorRate(logs) {
  const parsers = PROGRAMS.map(([idlName, programId]) => {
    const idl = readIdl(idlName);
    const anchor = idl.address ? anchor031 : anchor029;
    return new anchor.EventParser(new anchor.web3.PublicKey(programId), new anchor.BorshCoder(idl));
  });
  let events = 0;
  const started = performance.now();
  for (let round = 0; round < ANCHOR_REPEAT; round += 1) {
    for (const lines of logs) {
      for (const parser of parsers) {
        try {
          for (const _event of parser.parseLogs(lines)) events += 1;
        } catch {
          // parseLogs throws on a payload it cannot read; Uho's decoder catches it too.
        }
      }
    }
  }
  return { events, seconds: (performance.now() - started) / 1000 };
}

/** The decoder alone, through the ignored bench test in the release test binary. */
function rustDecoderRate(logs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-decoder-'));
  const input = path.join(dir, 'input.json');
  fs.writeFileSync(input, JSON.stringify({ idls: PROGRAMS.map(([idlName, programId]) => ({ programId, idl: readIdl(idlName) })), logs, rounds: REPEAT }));
  try {
    const out = execFileSync('cargo', ['test', '--release', '--target', hostTriple(), '--lib', 'decode_bench', '--', '--ignored', '--nocapture'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, UHO_DECODE_BENCH: input }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.split('\n').find((line) => line.startsWith('{"events"')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const corpus = txNames().map(readTx).filter((tx) => tx.logs);
  const programIds = PROGRAMS.map(([, id]) => id);
  const template = corpus.map((tx, i) => {
    if (tx.archiveTx) {
      const { signature, ...rest } = tx.archiveTx;
      return rest;
    }
    const invoked = [...new Set(tx.logs.map((l) => /^Program (\w+) invoke/.exec(l)?.[1]).filter(Boolean))];
    return { accountKeys: [encodeBase58(Buffer.alloc(32, i + 1)), ...invoked], logs: tx.logs };
  });
  const blocks = Array.from({ length: REPEAT }, (_, r) => ({ slot: FIRST_SLOT + r, transactions: template }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-decode-'));
  await writeArchive({ blocks }, dir);
  const server = await serveInChild(dir);
  const { url } = server;
  try {
    let logEvents = 0;
    let allEvents = 0;
    const started = performance.now();
    const job = startBackfill({
      programIds, match: 'mentions', startSlot: FIRST_SLOT, endSlot: FIRST_SLOT + REPEAT - 1, archiveUrl: url, threads: 2,
      idls: PROGRAMS.map(([idlName, programId]) => ({ programId, idl: readIdl(idlName) })),
    }, async (batch) => {
      allEvents += batch.events.length;
      logEvents += batch.events.filter((e) => e.source === 'log').length;
    });
    await job.done;
    const oursSeconds = (performance.now() - started) / 1000;
    const anchor = anchorRate(corpus.map((tx) => tx.logs));
    const rust = rustDecoderRate(corpus.map((tx) => tx.logs));
    const ours = logEvents / oursSeconds;
    const theirs = anchor.events / anchor.seconds;
    const result = { anchor: theirs, rustAlone: rust.eventsPerSecond, pipelineLog: ours, pipelineAll: allEvents / oursSeconds };
    if (values.json) {
      console.log(JSON.stringify(result));
      return;
    }
    console.log(`${corpus.length} corpus transactions × ${REPEAT} (Anchor × ${ANCHOR_REPEAT}); log events only (ours with emit_cpi: ${allEvents}); ${machine()}`);
    console.log('Anchor counts payloads it misreads (zero-filled short reads); startBackfill reports those as decode failures.');
    console.table([
      { decoder: '@coral-xyz/anchor EventParser (decode only)', events: anchor.events, seconds: anchor.seconds.toFixed(2), 'events/s': Math.round(theirs) },
      { decoder: 'Rust decoder alone, log events', events: rust.events, seconds: rust.seconds.toFixed(2), 'events/s': Math.round(rust.eventsPerSecond) },
      { decoder: 'startBackfill + idls, log events', events: logEvents, seconds: oursSeconds.toFixed(2), 'events/s': Math.round(ours) },
      { decoder: 'startBackfill + idls, all events (log + emit_cpi)', events: allEvents, seconds: oursSeconds.toFixed(2), 'events/s': Math.round(allEvents / oursSeconds) },
    ]);
    console.log(`ratio, decoder alone: ${(rust.eventsPerSecond / theirs).toFixed(0)}× (target ≥ 20×); whole pipeline: ${(ours / theirs).toFixed(0)}× on log events, ${(allEvents / oursSeconds / theirs).toFixed(0)}× on all events`);
    console.log('startBackfill\'s time includes reading the archive and delivering every transaction to JS.');
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
