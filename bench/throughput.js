'use strict';
// startBackfill next to Jetstreamer's raw firehose() with a no-op handler, on the same
// generated archive and thread count. Needs the release builds (`npm run bench` makes them).
//   node bench/throughput.js [--slots 2000] [--per-slot 50] [--threads 1,2] [--runs 3]

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { writeArchive } = require('../lib');
const { encodeBase58 } = require('../lib/base58');

const { values } = parseArgs({
  options: {
    slots: { type: 'string', default: '2000' },
    'per-slot': { type: 'string', default: '50' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '3' },
  },
});

const ROOT = path.resolve(__dirname, '..');
const EPOCH = 900;
const FIRST_SLOT = EPOCH * 432_000 + 1;
const key = (n) => encodeBase58(Buffer.from(Array.from({ length: 32 }, (_, i) => (n * 31 + i * 7 + 1) % 256)));
const PROGRAM = key(1);
const OTHER = key(2);

function hostTriple() {
  return execFileSync('rustc', ['-vV'], { encoding: 'utf8' }).match(/host: (\S+)/)[1];
}

function rawFirehoseBinary() {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  return path.join(target, hostTriple(), 'release', 'examples', 'raw_firehose');
}

/** Every other transaction invokes PROGRAM (with a realistic dozen log lines). */
function spec(slots, perSlot) {
  const blocks = [];
  for (let s = 0; s < slots; s += 1) {
    const transactions = [];
    for (let i = 0; i < perSlot; i += 1) {
      const program = i % 2 === 0 ? PROGRAM : OTHER;
      transactions.push({
        accountKeys: [key(1000 + ((s * perSlot + i) % 5000)), program, key(3)],
        instructions: [{ programIdIndex: 1, accounts: [0, 2], data: '3Bxs4h' }],
        logs: [
          `Program ComputeBudget111111111111111111111111111111 invoke [1]`,
          `Program ComputeBudget111111111111111111111111111111 success`,
          `Program ${program} invoke [1]`,
          'Program log: Instruction: Buy',
          `Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]`,
          'Program log: Instruction: Transfer',
          `Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed 4645 of 180000 compute units`,
          `Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA success`,
          'Program data: vdt/007mYe6vD/zSwKVABR3En2wsrB5uQlUSaqLSd4OBqB5G4IQuyCbOlHr8ZvVpcDv1JNn4bkdyDgn3a5o1AkqcVMhKZQ6hhmT2uA==',
          `Program ${program} consumed 36532 of 199550 compute units`,
          `Program ${program} success`,
        ],
        fee: 5000,
        computeUnitsConsumed: 36532,
      });
    }
    blocks.push({ slot: FIRST_SLOT + s, transactions });
  }
  return { blocks };
}

function runJson(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${command} exited ${code}`))));
  });
}

function best(results, field) {
  return results.reduce((a, b) => (b[field] > a[field] ? b : a));
}

async function main() {
  const slots = Number(values.slots);
  const perSlot = Number(values['per-slot']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-'));
  process.stderr.write(`writing ${slots * perSlot} transactions in ${slots} slots...\n`);
  await writeArchive(spec(slots, perSlot), dir);
  const server = spawn(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'lib'))}).serveArchive(${JSON.stringify(dir)}).then((s) => console.log(s.url))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => server.stdout.once('data', (chunk) => resolve(String(chunk).trim())));
  const end = FIRST_SLOT + slots - 1;
  const rows = [];
  try {
    for (const threads of values.threads.split(',').map(Number)) {
      const raw = [];
      const ours = [];
      for (let run = 0; run < Number(values.runs); run += 1) {
        raw.push(await runJson(rawFirehoseBinary(), [url, String(FIRST_SLOT), String(end), String(threads)]));
        ours.push(await runJson(process.execPath, [path.join(__dirname, 'run-backfill.js'), url, String(FIRST_SLOT), String(end), String(threads), PROGRAM]));
      }
      const rawBest = best(raw, 'transactionsPerSecond');
      const oursBest = best(ours, 'scannedPerSecond');
      rows.push({
        threads,
        'raw firehose tx/s': Math.round(rawBest.transactionsPerSecond),
        'startBackfill tx/s': Math.round(oursBest.scannedPerSecond),
        ratio: (oursBest.scannedPerSecond / rawBest.transactionsPerSecond).toFixed(3),
        'delivered/s': Math.round(oursBest.deliveredPerSecond),
        'main thread µs/delivered tx': oursBest.mainThreadBusyUsPerTx.toFixed(2),
        'RSS MB': Math.round(oursBest.rssMb),
      });
    }
  } finally {
    server.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`archive: ${slots * perSlot} transactions, ${slots} slots, 50% matching; best of ${values.runs} runs; ${os.cpus().length} × ${os.cpus()[0].model}`);
  console.table(rows);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
