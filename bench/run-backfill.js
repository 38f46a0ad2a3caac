'use strict';
// One measured startBackfill run, in its own process (Jetstreamer pins one archive URL per
// process and caches indexes). Prints one JSON line. SLEEP_MS makes onBatch that slow.
//   node bench/run-backfill.js URL START END THREADS PROGRAM [MATCH] [SLEEP_MS]

const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { startBackfill } = require('../lib');

const [url, start, end, threads, program, match = 'invokes', sleepMs = '0'] = process.argv.slice(2);

/** Peak resident set of this process so far (VmHWM), in MB; the current RSS elsewhere. */
function peakRssMb() {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
    return Number(kb) / 1024;
  } catch {
    return process.memoryUsage().rss / 2 ** 20;
  }
}

async function main() {
  let transactions = 0;
  let events = 0;
  const pause = Number(sleepMs);
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const job = startBackfill(
    { programIds: [program], startSlot: Number(start), endSlot: Number(end), threads: Number(threads), archiveUrl: url, match, batchSize: 1000 },
    async (batch) => {
      transactions += batch.transactions.length;
      events += batch.events.length;
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    },
  );
  const summary = await job.done;
  const seconds = (performance.now() - started) / 1000;
  const used = performance.eventLoopUtilization(elu);
  console.log(JSON.stringify({
    transactions,
    scanned: summary.transactionsScanned,
    events,
    seconds,
    scannedPerSecond: summary.transactionsScanned / seconds,
    deliveredPerSecond: transactions / seconds,
    // Busy time of the event loop (ELU × wall time) per delivered transaction.
    mainThreadBusyUsPerTx: transactions ? (used.active * 1000) / transactions : 0,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    peakRssMb: peakRssMb(),
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
