'use strict';
// Delivering matched transactions with their logs into JavaScript: this package against the
// seed design's sidecar (bench/ndjson_sidecar.rs writing NDJSON, read with readline +
// JSON.parse), on one archive where every transaction matches, same firehose threads.
//   node bench/sidecar.js [--slots 2066] [--per-slot 100] [--threads 2] [--runs 3] [--json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { writeArchive } = require('../lib');
const { PROGRAM, SLOTS_PER_EPOCH, blocks, exampleBinary, serveInChild, runJson, best, machine, report } = require('./common');

const { values } = parseArgs({
  options: {
    slots: { type: 'string', default: '2066' },
    'per-slot': { type: 'string', default: '100' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

const FIRST_SLOT = 910 * SLOTS_PER_EPOCH + 1;

async function main() {
  const slots = Number(values.slots);
  const perSlot = Number(values['per-slot']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-sidecar-'));
  process.stderr.write(`sidecar: writing ${slots * perSlot} transactions, all matching...\n`);
  await writeArchive({ blocks: blocks({ firstSlot: FIRST_SLOT, slots, perSlot, matchEvery: 1 }) }, dir);
  const server = await serveInChild(dir);
  const range = [server.url, String(FIRST_SLOT), String(FIRST_SLOT + slots - 1), values.threads, PROGRAM];
  const sidecar = [];
  const ours = [];
  try {
    for (let run = 0; run < Number(values.runs); run += 1) {
      sidecar.push(await runJson(process.execPath, [path.join(__dirname, 'read-ndjson.js'), exampleBinary('ndjson_sidecar'), ...range]));
      ours.push(await runJson(process.execPath, [path.join(__dirname, 'run-backfill.js'), ...range]));
    }
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const r of [...sidecar, ...ours]) {
    if (r.transactions !== slots * perSlot) throw new Error(`a run delivered ${r.transactions} of ${slots * perSlot} transactions`);
  }
  const result = {
    transactions: slots * perSlot,
    threads: Number(values.threads),
    sidecar: { deliveredPerSecond: best(sidecar, 'deliveredPerSecond').deliveredPerSecond, mainThreadUsPerTx: best(sidecar, 'mainThreadBusyUsPerTx', true).mainThreadBusyUsPerTx },
    ours: { deliveredPerSecond: best(ours, 'deliveredPerSecond').deliveredPerSecond, mainThreadUsPerTx: best(ours, 'mainThreadBusyUsPerTx', true).mainThreadBusyUsPerTx },
  };
  report(values.json, result, () => {
    console.log(`archive: ${result.transactions} transactions, all matching; ${values.threads} firehose threads; best of ${values.runs}; ${machine()}`);
    console.table([
      { path: 'NDJSON sidecar + readline/JSON.parse', 'tx/s end to end': Math.round(result.sidecar.deliveredPerSecond), 'main thread µs/tx': result.sidecar.mainThreadUsPerTx.toFixed(2) },
      { path: 'startBackfill', 'tx/s end to end': Math.round(result.ours.deliveredPerSecond), 'main thread µs/tx': result.ours.mainThreadUsPerTx.toFixed(2) },
    ]);
    console.log(`end to end ${(result.ours.deliveredPerSecond / result.sidecar.deliveredPerSecond).toFixed(2)}× the sidecar (target ≥ 0.95); main thread ${(result.ours.mainThreadUsPerTx / result.sidecar.mainThreadUsPerTx).toFixed(2)}× (target ≤ 0.5)`);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
