'use strict';
// Shared by the benchmarks: the generated archive's transactions, serving an archive from a
// separate process (so the server does not share the measured process's event loop), running
// one measurement per process (Jetstreamer pins one archive URL per process), and reporting.

const { execFileSync, spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { encodeBase58 } = require('../lib/base58');

const ROOT = path.resolve(__dirname, '..');
const SLOTS_PER_EPOCH = 432_000;
const key = (n) => encodeBase58(Buffer.from(Array.from({ length: 32 }, (_, i) => (n * 31 + i * 7 + 1) % 256)));
const PROGRAM = key(1);
const OTHER = key(2);

/**
 * `perSlot` transactions per slot from `firstSlot`; one in `matchEvery` invokes PROGRAM,
 * each with the dozen log lines of a typical swap.
 */
function blocks({ firstSlot, slots, perSlot, matchEvery = 2 }) {
  const out = [];
  for (let s = 0; s < slots; s += 1) {
    const transactions = [];
    for (let i = 0; i < perSlot; i += 1) {
      const program = i % matchEvery === 0 ? PROGRAM : OTHER;
      transactions.push({
        accountKeys: [key(1000 + ((s * perSlot + i) % 5000)), program, key(3)],
        instructions: [{ programIdIndex: 1, accounts: [0, 2], data: '3Bxs4h' }],
        logs: [
          'Program ComputeBudget111111111111111111111111111111 invoke [1]',
          'Program ComputeBudget111111111111111111111111111111 success',
          `Program ${program} invoke [1]`,
          'Program log: Instruction: Buy',
          'Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA invoke [2]',
          'Program log: Instruction: Transfer',
          'Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA consumed 4645 of 180000 compute units',
          'Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA success',
          'Program data: vdt/007mYe6vD/zSwKVABR3En2wsrB5uQlUSaqLSd4OBqB5G4IQuyCbOlHr8ZvVpcDv1JNn4bkdyDgn3a5o1AkqcVMhKZQ6hhmT2uA==',
          `Program ${program} consumed 36532 of 199550 compute units`,
          `Program ${program} success`,
        ],
        fee: 5000,
        computeUnitsConsumed: 36532,
      });
    }
    out.push({ slot: firstSlot + s, transactions });
  }
  return out;
}

function hostTriple() {
  return execFileSync('rustc', ['-vV'], { encoding: 'utf8' }).match(/host: (\S+)/)[1];
}

/** A release example binary (`npm run bench` builds them). */
function exampleBinary(name) {
  const target = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
  return path.join(target, hostTriple(), 'release', 'examples', name);
}

/** Serves `dir` from a child process; resolves to { url, close }. */
async function serveInChild(dir) {
  const server = spawn(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'lib'))}).serveArchive(${JSON.stringify(dir)}).then((s) => console.log(s.url))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve) => server.stdout.once('data', (chunk) => resolve(String(chunk).trim())));
  return { url, close: () => server.kill() };
}

/** Runs a command that prints JSON as its last stdout line; resolves to that JSON. */
function runJson(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${path.basename(command)} ${args.join(' ')} exited ${code}`))));
  });
}

function best(results, field, lowest = false) {
  return results.reduce((a, b) => ((lowest ? b[field] < a[field] : b[field] > a[field]) ? b : a));
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0].model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** With --json, the result as one JSON line (bench/index.js reads it); else the human form. */
function report(json, result, human) {
  if (json) console.log(JSON.stringify(result));
  else human();
}

module.exports = { ROOT, SLOTS_PER_EPOCH, PROGRAM, OTHER, blocks, hostTriple, exampleBinary, serveInChild, runJson, best, machine, report };
