'use strict';
// startBackfill next to Jetstreamer's raw firehose() with a no-op handler, on the same
// generated archive, for each thread count. Needs the release builds (`npm run bench`).
//   node bench/throughput.js [--slots 2000] [--per-slot 50] [--threads 1,2,4] [--runs 3] [--json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { writeArchive } = require('../lib');
const { PROGRAM, SLOTS_PER_EPOCH, blocks, exampleBinary, serveInChild, runJson, best, machine, report } = require('./common');

const { values } = parseArgs({
  options: {
    slots: { type: 'string', default: '2000' },
    'per-slot': { type: 'string', default: '50' },
    threads: { type: 'string', default: '1,2,4' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

const FIRST_SLOT = 900 * SLOTS_PER_EPOCH + 1;

async function main() {
  const slots = Number(values.slots);
  const perSlot = Number(values['per-slot']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-'));
  process.stderr.write(`throughput: writing ${slots * perSlot} transactions in ${slots} slots...\n`);
  await writeArchive({ blocks: blocks({ firstSlot: FIRST_SLOT, slots, perSlot }) }, dir);
  const server = await serveInChild(dir);
  const end = FIRST_SLOT + slots - 1;
  const rows = [];
  try {
    for (const threads of values.threads.split(',').map(Number)) {
      const raw = [];
      const ours = [];
      for (let run = 0; run < Number(values.runs); run += 1) {
        raw.push(await runJson(exampleBinary('raw_firehose'), [server.url, String(FIRST_SLOT), String(end), String(threads)]));
        ours.push(await runJson(process.execPath, [path.join(__dirname, 'run-backfill.js'), server.url, String(FIRST_SLOT), String(end), String(threads), PROGRAM]));
      }
      const rawBest = best(raw, 'transactionsPerSecond');
      const oursBest = best(ours, 'scannedPerSecond');
      rows.push({
        threads,
        rawTxPerSecond: rawBest.transactionsPerSecond,
        oursTxPerSecond: oursBest.scannedPerSecond,
        ratio: oursBest.scannedPerSecond / rawBest.transactionsPerSecond,
        deliveredPerSecond: oursBest.deliveredPerSecond,
        mainThreadUsPerTx: oursBest.mainThreadBusyUsPerTx,
        rssMb: oursBest.peakRssMb,
      });
    }
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report(values.json, { transactions: slots * perSlot, runs: Number(values.runs), rows }, () => {
    console.log(`archive: ${slots * perSlot} transactions, ${slots} slots, 50% matching; best of ${values.runs} runs; ${machine()}`);
    console.table(rows.map((r) => ({
      threads: r.threads,
      'raw firehose tx/s': Math.round(r.rawTxPerSecond),
      'startBackfill tx/s': Math.round(r.oursTxPerSecond),
      ratio: r.ratio.toFixed(3),
      'delivered/s': Math.round(r.deliveredPerSecond),
      'main thread µs/delivered tx': r.mainThreadUsPerTx.toFixed(2),
      'peak RSS MB': Math.round(r.rssMb),
    })));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
