'use strict';
// One measured startBackfill run, in its own process (Jetstreamer pins one archive URL per
// process and caches indexes). Prints one JSON line.
//   node bench/run-backfill.js URL START END THREADS PROGRAM [MATCH]

const { performance } = require('node:perf_hooks');
const { startBackfill } = require('../lib');

const [url, start, end, threads, program, match = 'invokes'] = process.argv.slice(2);

async function main() {
  let transactions = 0;
  let events = 0;
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const job = startBackfill(
    { programIds: [program], startSlot: Number(start), endSlot: Number(end), threads: Number(threads), archiveUrl: url, match, batchSize: 1000 },
    async (batch) => {
      transactions += batch.transactions.length;
      events += batch.events.length;
    },
  );
  const summary = await job.done;
  const seconds = (performance.now() - started) / 1000;
  const used = performance.eventLoopUtilization(elu);
  const busyMs = used.active;
  console.log(JSON.stringify({
    transactions,
    scanned: summary.transactionsScanned,
    events,
    seconds,
    scannedPerSecond: summary.transactionsScanned / seconds,
    deliveredPerSecond: transactions / seconds,
    mainThreadBusyUsPerTx: transactions ? (busyMs * 1000) / transactions : 0,
    rssMb: process.memoryUsage().rss / 2 ** 20,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
