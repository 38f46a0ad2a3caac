'use strict';
// The runner's tables and queue against a real PostgreSQL (`scripts/with-postgres.sh` provides one
// and sets UHO_TEST_DATABASE_URL; .ci/run runs the tests under it).

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { Pool } = require('pg');

const { migrate, SCHEMA_VERSION } = require('../lib/runner/schema');

const url = process.env.UHO_TEST_DATABASE_URL;
let pool;

before(() => {
  assert.ok(url, 'UHO_TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh (npm test does)');
  pool = new Pool({ connectionString: url, max: 4 });
});
after(() => pool?.end());

test('migrate creates the tables once, however many workers run it at the same time', async () => {
  const schema = `test_${process.pid}`;
  const versions = await Promise.all([1, 2, 3].map(() => migrate(pool, { schema })));
  assert.deepEqual(versions, [SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]);
  assert.equal(await migrate(pool, { schema }), SCHEMA_VERSION);
  const { rows } = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
  assert.deepEqual(rows.map((r) => r.table_name), ['chunks', 'jobs', 'schema_version', 'subscriptions']);
  const { rows: applied } = await pool.query(`SELECT version FROM "${schema}".schema_version`);
  assert.deepEqual(applied.map((r) => r.version), [SCHEMA_VERSION]);
});

test('a newer schema than the package refuses to run, and bad schema names are rejected', async () => {
  const schema = `newer_${process.pid}`;
  await migrate(pool, { schema });
  await pool.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [SCHEMA_VERSION + 1]);
  await assert.rejects(migrate(pool, { schema }), /newer than this package/);
  await assert.rejects(migrate(pool, { schema: 'x"; DROP TABLE y; --' }), TypeError);
});

test('enqueue splits a job into grid chunks that overlapping jobs of one program share', async () => {
  const { enqueue } = require('../lib/runner/enqueue');
  const schema = `enqueue_${process.pid}`;
  await migrate(pool, { schema });
  const programId = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';
  const first = await enqueue(pool, { programId, startSlot: 150, endSlot: 420, chunkSlots: 100, target: { schema: 'public' } }, { schema });
  const second = await enqueue(pool, { programId, startSlot: 390, endSlot: 510, chunkSlots: 100, priority: 5, enabledEvents: ['TradeEvent'], target: { writer: 'uho' } }, { schema });
  const { rows: chunks } = await pool.query(`SELECT start_slot::int, end_slot::int, priority FROM "${schema}".chunks ORDER BY start_slot`);
  assert.deepEqual(chunks, [
    { start_slot: 100, end_slot: 199, priority: 0 },
    { start_slot: 200, end_slot: 299, priority: 0 },
    { start_slot: 300, end_slot: 399, priority: 5 },
    { start_slot: 400, end_slot: 499, priority: 5 },
    { start_slot: 500, end_slot: 599, priority: 5 },
  ]);
  const { rows: subscriptions } = await pool.query(
    `SELECT s.job_id::int AS job, s.start_slot::int AS start, s.end_slot::int AS end FROM "${schema}".subscriptions s ORDER BY s.job_id, s.start_slot`,
  );
  assert.deepEqual(subscriptions, [
    { job: first, start: 150, end: 199 }, { job: first, start: 200, end: 299 }, { job: first, start: 300, end: 399 }, { job: first, start: 400, end: 420 },
    { job: second, start: 390, end: 399 }, { job: second, start: 400, end: 499 }, { job: second, start: 500, end: 510 },
  ]);
  // A finished chunk is opened again for a new subscriber.
  await pool.query(`UPDATE "${schema}".chunks SET status = 'done'`);
  await enqueue(pool, { programId, startSlot: 120, endSlot: 130, chunkSlots: 100 }, { schema });
  const { rows: reopened } = await pool.query(`SELECT status FROM "${schema}".chunks WHERE start_slot = 100`);
  assert.equal(reopened[0].status, 'pending');
});

test('enqueue rejects bad jobs before touching the database, naming the field', async () => {
  const { enqueue } = require('../lib/runner/enqueue');
  const base = { programId: '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P', startSlot: 1, endSlot: 2 };
  for (const [change, type, pattern] of [
    [{ programId: 'abc' }, TypeError, /programId/],
    [{ startSlot: 5 }, RangeError, /startSlot/],
    [{ endSlot: 1.5 }, TypeError, /endSlot/],
    [{ chunkSlots: 0 }, RangeError, /chunkSlots/],
    [{ priority: 2 ** 31 }, RangeError, /priority must be between/],
    [{ enabledEvents: 'TradeEvent' }, TypeError, /enabledEvents/],
    [{ target: { schema: 'a', writer: 'b' } }, TypeError, /target/],
  ]) {
    await assert.rejects(enqueue(pool, { ...base, ...change }), (error) => error instanceof type && pattern.test(error.message));
  }
});

test("cancelling a job lowers its chunks to the priority of the jobs still waiting on them", async () => {
  const { enqueue } = require('../lib/runner/enqueue');
  const { cancelJob } = require('../lib/runner/status');
  const schema = `reprice_${process.pid}`;
  await migrate(pool, { schema });
  const programId = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';
  await enqueue(pool, { programId, startSlot: 0, endSlot: 150, chunkSlots: 100, priority: 2 }, { schema });
  const urgent = await enqueue(pool, { programId, startSlot: 50, endSlot: 250, chunkSlots: 100, priority: 9 }, { schema });
  const priorities = async () => (await pool.query(`SELECT start_slot::int AS s, priority FROM "${schema}".chunks ORDER BY start_slot`)).rows.map((r) => [r.s, r.priority]);
  assert.deepEqual(await priorities(), [[0, 9], [100, 9], [200, 9]]);
  assert.equal(await cancelJob(pool, urgent, { schema }), true);
  assert.deepEqual(await priorities(), [[0, 2], [100, 2], [200, 9]], 'a chunk nobody else waits on keeps its priority; it is never claimed');
  assert.equal(await cancelJob(pool, urgent, { schema }), false);
});

test('enqueue refuses IDLs that are all for other programs', async () => {
  const { enqueue } = require('../lib/runner/enqueue');
  const job = { programId: '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P', startSlot: 1, endSlot: 2, idls: [{ programId: 'GKz69iyGnAoz5YQoR25c5JP5UrubWEyb5okCbdufVqXv', idl: {} }] };
  await assert.rejects(enqueue(pool, job), /idls has no IDL for programId 6EF8/);
});
