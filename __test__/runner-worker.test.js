'use strict';
// BackfillWorker in this process against the throwaway PostgreSQL: fan-out, retries,
// cancellation, priority and lease takeover, each on a generated demo-program archive.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { enqueue, BackfillWorker, getStatus, cancelJob, waitForJob } = require('../lib');
const { testPool, freshSchema, plainWriter, expectedRows, plainRows, tableRows, demoArchive } = require('./runner-fixtures');

let pool;
let archive;
const workers = new Set();

before(async () => {
  pool = testPool();
  archive = await demoArchive({ seed: 11, epoch: 600, boundaries: 1, width: 300 });
});
after(async () => {
  await Promise.all([...workers].map((w) => w.stop()));
  await pool.end();
  await archive.host.close();
});

function worker(schema, options = {}) {
  const w = new BackfillWorker({
    pool, schema, archiveUrl: archive.host.url, pollMs: 100, retryBaseMs: 50, threads: 1, batchSize: 200,
    writers: { plain: plainWriter(schema) }, ...options,
  });
  workers.add(w);
  return w;
}

async function stop(w) {
  await w.stop();
  workers.delete(w);
}

// A grid wide enough that the archive's range sits in one chunk.
const ONE_CHUNK = 10_000_000;

function job(overrides) {
  return { programId: archive.programId, startSlot: archive.startSlot, endSlot: archive.endSlot, idls: archive.idls, chunkSlots: 100, ...overrides };
}

test('overlapping jobs of one program share one stream per chunk; each gets its own events and target', async () => {
  const schema = await freshSchema(pool, 'fanout');
  const target = `${schema}_events`;
  const mid = archive.startSlot + Math.floor((archive.endSlot - archive.startSlot) * 0.6);
  const a = await enqueue(pool, job({ endSlot: mid, enabledEvents: ['Deposited'], target: { schema: target } }), { schema });
  const b = await enqueue(pool, job({ startSlot: archive.startSlot + 150, target: { writer: 'plain' } }), { schema });
  const w = worker(schema);
  const runs = new Map();
  w.on('chunkStarted', ({ chunkId, jobIds }) => runs.set(chunkId, [...(runs.get(chunkId) ?? []), jobIds]));
  await w.start();
  const [statusA, statusB] = await Promise.all([waitForJob(pool, a, { schema }), waitForJob(pool, b, { schema })]);
  await stop(w);
  assert.equal(statusA.status, 'completed');
  assert.equal(statusB.status, 'completed');
  const { rows: chunks } = await pool.query(`SELECT id::int, status FROM "${schema}".chunks ORDER BY id`);
  assert.ok(chunks.every((c) => c.status === 'done'));
  assert.deepEqual([...runs.keys()].sort((x, y) => x - y), chunks.map((c) => c.id), 'every chunk streamed');
  for (const [chunkId, starts] of runs) assert.equal(starts.length, 1, `chunk ${chunkId} streamed ${starts.length} times`);
  const shared = [...runs.values()].filter(([ids]) => ids.length === 2).length;
  assert.ok(shared >= 2, `only ${shared} chunks served both jobs`);

  const wantA = expectedRows(archive.events, [archive.startSlot, mid], ['Deposited']);
  const wantB = expectedRows(archive.events, [archive.startSlot + 150, archive.endSlot]);
  assert.ok(wantA.length > 100 && wantB.length > wantA.length);
  assert.deepEqual(await tableRows(pool, target), wantA);
  assert.deepEqual(await plainRows(pool, schema, b), wantB);
  assert.equal(statusA.eventsWritten, wantA.length);
  assert.equal(statusB.eventsWritten, wantB.length);
  assert.equal(statusB.progress, 1);
  assert.equal(statusB.frontierSlot, archive.endSlot);
});

test('a chunk that fails is retried with backoff and then succeeds', async () => {
  const retried = await demoArchive({ seed: 12, epoch: 620, boundaries: 1, width: 100 });
  const schema = await freshSchema(pool, 'retry');
  let faults = 0;
  retried.host.setFault((req) => (req.url.includes('epoch-62') && faults < 3 ? ((faults += 1), 503) : undefined));
  const id = await enqueue(pool, { ...job(), startSlot: retried.startSlot, endSlot: retried.endSlot, chunkSlots: ONE_CHUNK, maxRetries: 5, target: { writer: 'plain' } }, { schema });
  const w = worker(schema, { retry: { maxAttempts: 1 } });
  const outcomes = [];
  w.on('chunkFinished', ({ outcome, error }) => outcomes.push([outcome, error?.code]));
  await w.start();
  const status = await waitForJob(pool, id, { schema });
  await stop(w);
  retried.host.setFault(undefined);
  assert.equal(status.status, 'completed', status.error);
  assert.ok(outcomes.some(([outcome, code]) => outcome === 'retry' && code === 'ERR_BACKFILL_ARCHIVE'), JSON.stringify(outcomes));
  assert.equal(outcomes.at(-1)[0], 'done');
  const { rows } = await pool.query(`SELECT attempts, last_error FROM "${schema}".chunks`);
  assert.ok(rows[0].attempts >= 1);
  assert.deepEqual(await plainRows(pool, schema, id), expectedRows(retried.events, [retried.startSlot, retried.endSlot]));
});

test('a chunk that keeps failing fails its job after maxRetries, with the error', async () => {
  const broken = await demoArchive({ seed: 13, epoch: 640, boundaries: 1, width: 50 });
  const schema = await freshSchema(pool, 'exhaust');
  broken.host.setFault((req) => (req.url.includes('epoch-64') ? 503 : undefined));
  try {
    const id = await enqueue(pool, { ...job(), startSlot: broken.startSlot, endSlot: broken.endSlot, chunkSlots: ONE_CHUNK, maxRetries: 2, target: { writer: 'plain' } }, { schema });
    const w = worker(schema, { retry: { maxAttempts: 1 } });
    await w.start();
    const status = await waitForJob(pool, id, { schema });
    await stop(w);
    assert.equal(status.status, 'failed');
    assert.match(status.error, /failed after 3 attempts: ERR_BACKFILL_ARCHIVE/);
    assert.match(status.error, /503/);
    const { rows } = await pool.query(`SELECT attempts, status FROM "${schema}".chunks`);
    assert.deepEqual(rows, [{ attempts: 3, status: 'failed' }]);
  } finally {
    broken.host.setFault(undefined);
  }
});

test('cancelJob stops a running chunk within about a second and nothing is written after it', async () => {
  const schema = await freshSchema(pool, 'cancel');
  let writes = 0;
  const slow = plainWriter(schema);
  const w = worker(schema, {
    batchSize: 20,
    writers: { plain: async (client, events, j) => { writes += 1; await new Promise((r) => setTimeout(r, 150)); return slow(client, events, j); } },
  });
  const id = await enqueue(pool, job({ chunkSlots: ONE_CHUNK, target: { writer: 'plain' } }), { schema });
  const finished = new Promise((resolve) => w.on('chunkFinished', resolve));
  let firstBatch;
  const batched = new Promise((resolve) => { firstBatch = resolve; });
  w.on('batch', () => firstBatch());
  await w.start();
  await batched;
  const cancelledAt = Date.now();
  assert.equal(await cancelJob(pool, id, { schema }), true);
  const writesAtCancel = writes;
  const { outcome } = await finished;
  const took = Date.now() - cancelledAt;
  await stop(w);
  assert.equal(outcome, 'cancelled');
  assert.ok(took < 5_000, `stopped ${took} ms after cancelJob`);
  assert.ok(writes <= writesAtCancel + 1, 'at most the batch in flight was handed to the writer');
  const status = await getStatus(pool, id, { schema });
  assert.equal(status.status, 'cancelled');
  assert.ok(status.progress < 1);
  assert.equal(await cancelJob(pool, id, { schema }), false, 'an ended job cannot be cancelled again');
  const { rows } = await pool.query(`SELECT status, lease_owner FROM "${schema}".chunks`);
  assert.deepEqual(rows, [{ status: 'pending', lease_owner: null }], 'the chunk was handed back');
  // What was committed matches what the subscription's checkpoint says it covers.
  const { rows: [sub] } = await pool.query(`SELECT completed_ranges FROM "${schema}".subscriptions`);
  const covered = sub.completed_ranges.flatMap(([a, b]) => archive.events.filter((e) => e.slot >= a && e.slot <= b));
  assert.equal((await plainRows(pool, schema, id)).length, covered.length);
});

test('higher-priority chunks are claimed first', async () => {
  const schema = await freshSchema(pool, 'priority');
  const low = await enqueue(pool, job({ endSlot: archive.startSlot + 299, priority: 1, target: { writer: 'plain' } }), { schema });
  const high = await enqueue(pool, job({ startSlot: archive.endSlot - 299, priority: 9, target: { writer: 'plain' } }), { schema });
  const w = worker(schema, { concurrency: 1 });
  const order = [];
  w.on('chunkStarted', ({ jobIds }) => order.push(...jobIds));
  await w.start();
  await Promise.all([waitForJob(pool, low, { schema }), waitForJob(pool, high, { schema })]);
  await stop(w);
  const firstLow = order.indexOf(low);
  assert.ok(firstLow > 0 && order.slice(0, firstLow).every((id) => id === high), `claim order ${order}`);
  assert.ok(order.slice(firstLow).every((id) => id === low));
});

test('an expired lease is taken over, and the old holder can no longer commit', async () => {
  const schema = await freshSchema(pool, 'lease');
  const id = await enqueue(pool, job({ chunkSlots: ONE_CHUNK, target: { writer: 'plain' } }), { schema });
  // A worker that stalls between batches (a long GC pause, a partition) and stops renewing.
  const stale = worker(schema, { workerId: 'stale', leaseMs: 400, batchSize: 20 });
  stale.tick = async () => {};
  const commit = stale.commitBatch.bind(stale);
  let commits = 0;
  stale.commitBatch = async (...args) => {
    commits += 1;
    if (commits > 1) await new Promise((r) => setTimeout(r, 1500));
    return commit(...args);
  };
  const staleOutcome = new Promise((resolve) => stale.on('chunkFinished', resolve));
  let staleBatches = 0;
  const staleStarted = new Promise((resolve) => stale.on('batch', () => { staleBatches += 1; resolve(); }));
  await stale.start();
  await staleStarted;
  const fresh = worker(schema, { workerId: 'fresh', leaseMs: 400 });
  const takeover = new Promise((resolve) => fresh.on('chunkStarted', resolve));
  await fresh.start();
  await takeover;
  assert.equal((await staleOutcome).outcome, 'leaseLost');
  const status = await waitForJob(pool, id, { schema });
  await Promise.all([stop(stale), stop(fresh)]);
  assert.equal(status.status, 'completed');
  assert.ok(staleBatches >= 1);
  assert.deepEqual(await plainRows(pool, schema, id), expectedRows(archive.events, [archive.startSlot, archive.endSlot]));
});

test('stop() lets the batch in flight commit and hands the chunk back for another worker', async () => {
  const schema = await freshSchema(pool, 'stop');
  const id = await enqueue(pool, job({ chunkSlots: ONE_CHUNK, target: { writer: 'plain' } }), { schema });
  const slow = plainWriter(schema);
  const first = worker(schema, { batchSize: 20, writers: { plain: async (c, e, j) => { await new Promise((r) => setTimeout(r, 50)); return slow(c, e, j); } } });
  const batched = new Promise((resolve) => first.on('batch', resolve));
  await first.start();
  await batched;
  await stop(first);
  const { rows } = await pool.query(`SELECT status, lease_owner FROM "${schema}".chunks`);
  assert.deepEqual(rows, [{ status: 'pending', lease_owner: null }]);
  const second = worker(schema);
  await second.start();
  const status = await waitForJob(pool, id, { schema });
  await stop(second);
  assert.equal(status.status, 'completed');
  assert.deepEqual(await plainRows(pool, schema, id), expectedRows(archive.events, [archive.startSlot, archive.endSlot]));
});

test('a job whose options startBackfill rejects fails at once instead of retrying', async () => {
  const schema = await freshSchema(pool, 'permanent');
  const id = await enqueue(pool, job({
    chunkSlots: ONE_CHUNK, maxRetries: 5, idls: [{ programId: archive.programId, idl: 'not json' }], target: { writer: 'plain' },
  }), { schema });
  const w = worker(schema);
  await w.start();
  const status = await waitForJob(pool, id, { schema });
  await stop(w);
  assert.equal(status.status, 'failed');
  assert.match(status.error, /^rejected: ERR_INVALID_ARG_TYPE: idls\[0\]\.idl: is not valid JSON/);
  await assert.rejects(enqueue(pool, job({ idls: [{ programId: 'nope', idl: {} }] }), { schema }), /idls\[0\]\.programId/);
  await assert.rejects(enqueue(pool, job({ idls: [{ programId: archive.programId }] }), { schema }), /idls\[0\]\.idl/);
});

test('a job that subscribes while its chunk is streaming gets the whole chunk, from a second run', async () => {
  const schema = await freshSchema(pool, 'late');
  const slow = plainWriter(schema);
  const w = worker(schema, {
    batchSize: 20,
    writers: { plain: async (c, e, j) => { await new Promise((r) => setTimeout(r, 20)); return slow(c, e, j); } },
  });
  const runs = [];
  w.on('chunkStarted', ({ jobIds }) => runs.push(jobIds));
  const outcomes = [];
  w.on('chunkFinished', ({ outcome }) => outcomes.push(outcome));
  const early = await enqueue(pool, job({ chunkSlots: ONE_CHUNK, target: { writer: 'plain' } }), { schema });
  let joined;
  const late = new Promise((resolve) => { joined = resolve; });
  w.once('batch', async () => joined(await enqueue(pool, job({ chunkSlots: ONE_CHUNK, enabledEvents: ['Swapped'], target: { writer: 'plain' } }), { schema })));
  await w.start();
  const lateId = await late;
  const [a, b] = await Promise.all([waitForJob(pool, early, { schema }), waitForJob(pool, lateId, { schema })]);
  await stop(w);
  assert.equal(a.status, 'completed');
  assert.equal(b.status, 'completed');
  assert.deepEqual(runs, [[early], [lateId]], 'the first run served the early job only; the late one got its own');
  assert.deepEqual(outcomes, ['reopened', 'done']);
  const range = [archive.startSlot, archive.endSlot];
  assert.deepEqual(await plainRows(pool, schema, early), expectedRows(archive.events, range));
  assert.deepEqual(await plainRows(pool, schema, lateId), expectedRows(archive.events, range, ['Swapped']));
});

test("one job's bad IDL fails that job alone; the stream goes on for the others, at their priority", async () => {
  const schema = await freshSchema(pool, 'badidl');
  const steady = await enqueue(pool, job({ chunkSlots: 100, priority: 1, target: { writer: 'plain' } }), { schema });
  // The same chunks, with a valid IDL and then a malformed one (its index 1).
  const broken = await enqueue(pool, job({
    chunkSlots: 100, priority: 9, idls: [archive.idls[0], { programId: archive.programId, idl: 'not json' }], target: { writer: 'plain' },
  }), { schema });
  const w = worker(schema, { concurrency: 1 });
  await w.start();
  const [a, b] = await Promise.all([waitForJob(pool, steady, { schema }), waitForJob(pool, broken, { schema })]);
  await stop(w);
  assert.equal(b.status, 'failed');
  assert.match(b.error, /^rejected: ERR_INVALID_ARG_TYPE: idls\[1\]\.idl: is not valid JSON/);
  assert.equal(a.status, 'completed', a.error);
  assert.deepEqual(await plainRows(pool, schema, steady), expectedRows(archive.events, [archive.startSlot, archive.endSlot]));
  const { rows } = await pool.query(`SELECT DISTINCT priority, attempts FROM "${schema}".chunks`);
  assert.deepEqual(rows, [{ priority: 1, attempts: 0 }], 'back to the waiting job\'s priority, and no attempt charged');
});
