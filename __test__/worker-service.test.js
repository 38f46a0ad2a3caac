'use strict';
// `uho-backfill worker`, the deployable service: configured from the environment, it works
// the queue, answers /health and /metrics, and on SIGTERM drains and exits 0.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');

const { enqueue, waitForJob, migrate } = require('../lib');
const { testPool, demoArchive } = require('./runner-fixtures');

let pool;
let archive;

before(async () => {
  pool = testPool();
  archive = await demoArchive({ seed: 51, epoch: 680, boundaries: 1, width: 100 });
});
after(async () => {
  await pool.end();
  await archive.host.close();
});

test('the worker service works the queue, reports health and metrics, and stops on SIGTERM', { timeout: 120_000 }, async () => {
  const schema = `service_${process.pid}`;
  await migrate(pool, { schema });
  // A writer module, as a deployment would give with --writers / BACKFILL_WRITERS.
  await pool.query(`CREATE TABLE "${schema}".mine (tx_signature text, event_index int, PRIMARY KEY (tx_signature, event_index))`);
  const writers = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uho-writers-')), 'writers.js');
  fs.writeFileSync(writers, `module.exports = {
    mine: async (client, events) => {
      for (const e of events) await client.query('INSERT INTO "${schema}".mine VALUES ($1, $2)', [e.txSignature, e.eventIndex]);
    },
  };\n`);
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'lib', 'cli', 'main.js'), 'worker', '--port', '0'], {
    env: { ...process.env, DATABASE_URL: process.env.UHO_TEST_DATABASE_URL, BACKFILL_SCHEMA: schema, BACKFILL_ARCHIVE_URL: archive.host.url, BACKFILL_WORKER_ID: 'service-1', BACKFILL_WRITERS: writers },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /health and metrics on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const health = await (await fetch(`${url}health`)).json();
    assert.equal(health.status, 'ok');
    assert.equal(health.activeJobs, 0);
    assert.ok(health.memoryMb > 0 && Number.isInteger(health.uptimeSeconds));

    const id = await enqueue(pool, {
      programId: archive.programId, startSlot: archive.startSlot, endSlot: archive.endSlot, idls: archive.idls, target: { schema: `${schema}_events` },
    }, { schema });
    const status = await waitForJob(pool, id, { schema });
    assert.equal(status.status, 'completed', status.error);
    assert.equal(status.eventsWritten, archive.events.length);
    const viaWriter = await enqueue(pool, {
      programId: archive.programId, startSlot: archive.startSlot, endSlot: archive.endSlot, idls: archive.idls, target: { writer: 'mine' },
    }, { schema });
    assert.equal((await waitForJob(pool, viaWriter, { schema })).status, 'completed');
    const { rows: [{ n }] } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".mine`);
    assert.equal(n, archive.events.length);

    const metrics = await (await fetch(`${url}metrics`)).text();
    const written = new RegExp(`^uho_backfill_events_written_total\\{program_id="${archive.programId}"\\} (\\d+)$`, 'm').exec(metrics);
    assert.ok(written, metrics);
    assert.equal(Number(written[1]), 2 * archive.events.length);
    assert.match(metrics, /^uho_backfill_jobs_total\{status="completed"\} 2$/m);
    assert.match(metrics, /^process_resident_memory_bytes /m);
  } finally {
    child.kill('SIGTERM');
  }
  assert.deepEqual(await exited, { code: 0, signal: null });
  assert.match(stderr, /stopping: finishing the batches in flight/);
});
