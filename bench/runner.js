'use strict';
// Events per second written to Postgres by the runner, checkpoints on: one job over an
// event-heavy demo-program archive, worked by one BackfillWorker, into a target schema's
// `events` table. Prints the end-to-end rate and the rate inside the batch transactions.
// Needs a database: `scripts/with-postgres.sh node bench/runner.js` starts a throwaway one
// (`npm run bench` runs it that way).
//   node bench/runner.js [--width 3000] [--log-events 10] [--batch-size 2000] [--threads 2] [--runs 3] [--json]

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Pool } = require('pg');

const { writeArchive, migrate, enqueue, BackfillWorker, waitForJob } = require('../lib');
const { serveInChild, machine } = require('./common');
const { demoActivity } = require('../lib/demo/activity');

const { values } = parseArgs({
  options: {
    width: { type: 'string', default: '3000' },
    'log-events': { type: 'string', default: '10' },
    'batch-size': { type: 'string', default: '2000' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});

async function main() {
  const url = process.env.UHO_TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!url) throw new Error('set DATABASE_URL, or run through scripts/with-postgres.sh');
  const activity = demoActivity({ seed: 5, epoch: 950, boundaries: 1, width: Number(values.width), txPerSlot: [6, 12], logEvents: Number(values['log-events']) });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uho-bench-runner-'));
  await writeArchive(activity.spec, dir);
  const server = await serveInChild(dir);
  const pool = new Pool({ connectionString: url, max: 8 });
  const log = values.json ? (line) => process.stderr.write(`${line}\n`) : console.log;
  log(`archive: ${activity.transactions} transactions, ${activity.events.length} events over ${activity.endSlot - activity.startSlot + 1} slots; ${machine()}`);
  const results = [];
  try {
    for (let run = 1; run <= Number(values.runs); run += 1) {
      const schema = `bench_${process.pid}_${run}`;
      await migrate(pool, { schema });
      const id = await enqueue(pool, {
        programId: activity.programId, startSlot: activity.startSlot, endSlot: activity.endSlot,
        idls: [{ programId: activity.programId, idl: activity.idl }], target: { schema: `${schema}_events` }, chunkSlots: 10_000_000,
      }, { schema });
      const worker = new BackfillWorker({ pool, schema, archiveUrl: server.url, threads: Number(values.threads), batchSize: Number(values['batch-size']), concurrency: 1 });
      // Time spent inside the batch transactions: the write path alone.
      const commit = worker.commitBatch.bind(worker);
      let committing = 0;
      worker.commitBatch = async (...args) => {
        const t = process.hrtime.bigint();
        try {
          return await commit(...args);
        } finally {
          committing += Number(process.hrtime.bigint() - t) / 1e9;
        }
      };
      const started = process.hrtime.bigint();
      await worker.start();
      const status = await waitForJob(pool, id, { schema, pollMs: 20 });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await worker.stop();
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}_events".events`);
      if (status.status !== 'completed' || rows[0].n !== activity.events.length) {
        throw new Error(`run ${run}: ${status.status}, ${rows[0].n} rows for ${activity.events.length} events`);
      }
      results.push({ endToEnd: rows[0].n / seconds, writing: rows[0].n / committing, seconds, committing });
      log(`run ${run}: ${rows[0].n} events in ${seconds.toFixed(2)} s = ${Math.round(rows[0].n / seconds)} events/s end to end; `
        + `${committing.toFixed(2)} s in batch transactions = ${Math.round(rows[0].n / committing)} events/s written`);
      await pool.query(`DROP SCHEMA "${schema}" CASCADE; DROP SCHEMA "${schema}_events" CASCADE`);
    }
  } finally {
    await pool.end();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const best = results.reduce((a, b) => (b.endToEnd > a.endToEnd ? b : a));
  if (values.json) {
    console.log(JSON.stringify({ events: activity.events.length, endToEnd: best.endToEnd, writing: best.writing }));
    return;
  }
  console.log(`\nbest of ${results.length}: ${Math.round(best.endToEnd)} events/s end to end, ${Math.round(best.writing)} events/s in the write transactions (target >= 100,000)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
