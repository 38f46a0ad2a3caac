'use strict';
// `npm run bench`: every measurement, each in its own processes on archives generated for
// it, gathered into one table. Needs the release builds and a database (npm run bench makes
// both: scripts/with-postgres.sh sets UHO_TEST_DATABASE_URL).
//   node bench/index.js [--runs 3] [--skip throughput,sidecar,decode,memory,runner]

const path = require('node:path');
const { parseArgs } = require('node:util');
const { runJson, machine } = require('./common');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, skip: { type: 'string', default: '' } } });
const skip = new Set(values.skip.split(',').filter(Boolean));

const int = (n) => Math.round(n).toLocaleString('en-US');
const x = (n) => `${n.toFixed(2)}×`;

async function measure(name, args = []) {
  if (skip.has(name)) return null;
  process.stderr.write(`\n== ${name} ==\n`);
  const started = Date.now();
  const result = await runJson(process.execPath, [path.join(__dirname, `${name}.js`), '--json', ...args]);
  process.stderr.write(`== ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return result;
}

async function main() {
  const runs = ['--runs', values.runs];
  const throughput = await measure('throughput', runs);
  const sidecar = await measure('sidecar', runs);
  const decode = await measure('decode');
  const memory = await measure('memory');
  const runner = await measure('runner', runs);

  const rows = [];
  const row = (measurement, ours, baseline, ratio, target) => rows.push({ measurement, ours, baseline, ratio, target });
  if (throughput) {
    const two = throughput.rows.find((r) => r.threads === 2) ?? throughput.rows[0];
    row(`1. scan, startBackfill vs raw \`firehose()\` no-op, ${two.threads} threads (tx/s)`, int(two.oursTxPerSecond), int(two.rawTxPerSecond), x(two.ratio), '≥ 0.95×');
  }
  if (sidecar) {
    row(`2a. matched tx with logs into JS, 100% match, ${sidecar.threads} threads (tx/s end to end)`, int(sidecar.ours.deliveredPerSecond), `${int(sidecar.sidecar.deliveredPerSecond)} (NDJSON sidecar)`, x(sidecar.ours.deliveredPerSecond / sidecar.sidecar.deliveredPerSecond), '≥ 0.95×');
    row('2b. Node main-thread busy time per delivered tx (µs)', sidecar.ours.mainThreadUsPerTx.toFixed(2), sidecar.sidecar.mainThreadUsPerTx.toFixed(2), x(sidecar.ours.mainThreadUsPerTx / sidecar.sidecar.mainThreadUsPerTx), '≤ 0.5×');
  }
  if (decode) {
    row('3a. events decoded/s, Rust decoder alone vs Anchor `EventParser`', int(decode.rustAlone), int(decode.anchor), x(decode.rustAlone / decode.anchor), '≥ 20×');
    row('3b. events decoded/s, whole startBackfill pipeline (log events)', int(decode.pipelineLog), int(decode.anchor), x(decode.pipelineLog / decode.anchor), '≥ 20×');
  }
  if (memory) {
    const [first] = memory.rows;
    for (const r of memory.rows) {
      row(`4. peak RSS, consumer sleeping ${memory.sleepMs} ms/batch, ${r.scale}× (${int(r.transactions)} tx) (MB)`, int(r.peakRssMb), r === first ? '' : `${int(first.peakRssMb)} (1×)`, r === first ? '' : x(r.peakRssMb / first.peakRssMb), 'flat, ≤ 200 MB');
    }
  }
  if (runner) row('5. events/s written to Postgres by the runner, checkpoints on (end to end)', int(runner.endToEnd), `${int(runner.writing)} inside the write transactions`, '', '≥ 100,000');
  if (throughput) {
    for (const r of throughput.rows) {
      row(`6. scaling, ${r.threads} thread${r.threads > 1 ? 's' : ''}: startBackfill vs raw (tx/s)`, int(r.oursTxPerSecond), int(r.rawTxPerSecond), x(r.ratio), '');
    }
  }
  console.log(`\nMachine: ${machine()}. Best of ${values.runs} runs where repeated.\n`);
  console.log('| measurement | @uho/backfill | baseline | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.measurement} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.target} |`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
