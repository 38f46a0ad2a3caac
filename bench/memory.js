'use strict';
// Peak RSS of a startBackfill process whose consumer sleeps 100 ms per batch, on archives of
// 1×, 10× and 100× a base size: backpressure must keep it flat. Archives are written one
// epoch per piece so that generating them stays small too.
//   node bench/memory.js [--base 10000] [--scales 1,10,100] [--sleep-ms 100] [--json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { writeArchive } = require('../lib');
const { PROGRAM, SLOTS_PER_EPOCH, blocks, serveInChild, runJson, machine, report } = require('./common');

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: '10000' },
    scales: { type: 'string', default: '1,10,100' },
    'sleep-ms': { type: 'string', default: '100' },
    json: { type: 'boolean', default: false },
  },
});

const PER_SLOT = 50;
const PIECE = 100_000; // transactions per epoch written

async function main() {
  const base = Number(values.base);
  const rows = [];
  // Each scale gets its own epochs: Jetstreamer caches indexes per epoch within a process,
  // and each run is its own process anyway.
  let epoch = 1000;
  for (const scale of values.scales.split(',').map(Number)) {
    const total = base * scale;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-memory-'));
    const firstEpoch = epoch;
    for (let written = 0; written < total; written += PIECE) {
      const count = Math.min(PIECE, total - written);
      process.stderr.write(`memory: ${scale}×: writing transactions ${written}..${written + count} in epoch ${epoch}\n`);
      await writeArchive({ blocks: blocks({ firstSlot: epoch * SLOTS_PER_EPOCH + 1, slots: Math.ceil(count / PER_SLOT), perSlot: PER_SLOT }) }, dir);
      epoch += 1;
    }
    const server = await serveInChild(dir);
    try {
      const r = await runJson(process.execPath, [path.join(__dirname, 'run-backfill.js'), server.url, String(firstEpoch * SLOTS_PER_EPOCH), String(epoch * SLOTS_PER_EPOCH - 1), '2', PROGRAM, 'invokes', values['sleep-ms']]);
      rows.push({ scale, transactions: r.scanned, delivered: r.transactions, seconds: r.seconds, peakRssMb: r.peakRssMb });
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  report(values.json, { sleepMs: Number(values['sleep-ms']), rows }, () => {
    console.log(`consumer sleeping ${values['sleep-ms']} ms per batch of ≤1000; 50% matching; ${machine()}`);
    console.table(rows.map((r) => ({ scale: `${r.scale}×`, transactions: r.transactions, delivered: r.delivered, seconds: r.seconds.toFixed(1), 'peak RSS MB': Math.round(r.peakRssMb) })));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
