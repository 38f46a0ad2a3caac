'use strict';
// A worker process for the crash tests: runs a BackfillWorker until SIGTERM, printing one
// JSON line per chunk start, committed batch and chunk end, so the test can kill it at chosen
// moments. Configured by environment: UHO_TEST_DATABASE_URL, SCHEMA, ARCHIVE_URL, LEASE_MS.

const { Pool } = require('pg');
const { BackfillWorker } = require('../lib');
const { plainWriter } = require('./runner-fixtures');

const { SCHEMA: schema, ARCHIVE_URL: archiveUrl } = process.env;
const pool = new Pool({ connectionString: process.env.UHO_TEST_DATABASE_URL, max: 4 });
const worker = new BackfillWorker({
  pool,
  schema,
  archiveUrl,
  workerId: process.env.WORKER_ID,
  concurrency: 2,
  threads: 1,
  batchSize: 25,
  leaseMs: Number(process.env.LEASE_MS || 1000),
  pollMs: 100,
  writers: { plain: plainWriter(schema) },
});
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
worker.on('chunkStarted', ({ chunkId }) => say({ started: chunkId }));
worker.on('batch', ({ chunkId, events }) => say({ batch: chunkId, events }));
worker.on('chunkFinished', ({ chunkId, outcome }) => say({ finished: chunkId, outcome }));
worker.on('warning', (error) => process.stderr.write(`warning: ${error.stack}\n`));
process.on('SIGTERM', async () => {
  await worker.stop();
  await pool.end();
  process.exit(0);
});
worker.start().then(() => say({ ready: true }));
