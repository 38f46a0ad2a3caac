'use strict';
// The seed design's Node side: spawn the NDJSON sidecar and read its stdout with readline +
// JSON.parse, one line per transaction. Prints one JSON line, like run-backfill.js.
//   node bench/read-ndjson.js SIDECAR URL START END THREADS PROGRAM

const { spawn } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const readline = require('node:readline');

const [sidecar, ...args] = process.argv.slice(2);

async function main() {
  let transactions = 0;
  let logLines = 0;
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  const child = spawn(sidecar, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for await (const line of readline.createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const record = JSON.parse(line);
    transactions += 1;
    logLines += record.logs.length;
  }
  const code = await exited;
  if (code !== 0) throw new Error(`sidecar exited ${code}`);
  const seconds = (performance.now() - started) / 1000;
  const used = performance.eventLoopUtilization(elu);
  console.log(JSON.stringify({
    transactions,
    logLines,
    seconds,
    deliveredPerSecond: transactions / seconds,
    mainThreadBusyUsPerTx: transactions ? (used.active * 1000) / transactions : 0,
  }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
