'use strict';
// Worker processes killed with SIGKILL at random moments, and two workers on one queue: the
// rows that end up in the targets are exactly the generator's, with no duplicates (one target
// is a keyless table, so a repeated batch would show) and no gaps.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { after, before, test } = require('node:test');

const { enqueue, getStatus } = require('../lib');
const { prng } = require('./fixtures');
const { testPool, freshSchema, expectedRows, plainRows, tableRows, demoArchive } = require('./runner-fixtures');

let pool;
let archive;

before(async () => {
  pool = testPool();
  archive = await demoArchive({ seed: 21, epoch: 650, boundaries: 1, width: 300 });
});
after(async () => {
  await pool.end();
  await archive.host.close();
});

function spawnWorker(schema, id) {
  const child = spawn(process.execPath, [path.join(__dirname, 'worker-process.js')], {
    env: { ...process.env, SCHEMA: schema, ARCHIVE_URL: archive.host.url, WORKER_ID: id, LEASE_MS: '800' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  readline.createInterface({ input: child.stdout }).on('line', (text) => lines.push(JSON.parse(text)));
  let gone = false;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { gone = true; resolve({ code, signal }); }));
  /** Resolves true once `predicate(lines)` holds; false if the process exits or the jobs end first. */
  const until = async (predicate) => {
    for (;;) {
      if (predicate(lines)) return true;
      if (gone || (await jobsDone(schema))) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { child, lines, exited, until };
}

async function enqueueBoth(schema) {
  const common = { programId: archive.programId, startSlot: archive.startSlot, endSlot: archive.endSlot, idls: archive.idls, chunkSlots: 150 };
  const plain = await enqueue(pool, { ...common, target: { writer: 'plain' } }, { schema });
  const table = await enqueue(pool, { ...common, startSlot: archive.startSlot + 100, enabledEvents: ['Swapped'], target: { schema: `${schema}_t` } }, { schema });
  return { plain, table };
}

async function assertExact(schema, { plain, table }) {
  for (const id of [plain, table]) assert.equal((await getStatus(pool, id, { schema })).status, 'completed');
  assert.deepEqual(await plainRows(pool, schema, plain), expectedRows(archive.events, [archive.startSlot, archive.endSlot]));
  assert.deepEqual(await tableRows(pool, `${schema}_t`), expectedRows(archive.events, [archive.startSlot + 100, archive.endSlot], ['Swapped']));
  const { rows } = await pool.query(`SELECT sum(events_written)::int AS n FROM "${schema}".jobs`);
  const expected = expectedRows(archive.events, [archive.startSlot, archive.endSlot]).length
    + expectedRows(archive.events, [archive.startSlot + 100, archive.endSlot], ['Swapped']).length;
  assert.equal(rows[0].n, expected, 'eventsWritten counts each row once');
}

async function jobsDone(schema) {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".jobs WHERE status <> 'completed'`);
  return rows[0].n === 0;
}

test('SIGKILL at random moments, then a restart: every row exactly once', { timeout: 600_000 }, async () => {
  let kills = 0;
  for (const seed of [1, 2, 3, 4, 5]) {
    const random = prng(seed);
    const schema = await freshSchema(pool, `crash${seed}`);
    const jobs = await enqueueBoth(schema);
    for (let round = 0; round < 50 && !(await jobsDone(schema)); round += 1) {
      const worker = spawnWorker(schema, `crash-${seed}-${round}`);
      // Kill after a random number of committed batches, plus a random few milliseconds, so
      // the kill lands before, inside or after a batch's transaction.
      const batches = 1 + Math.floor(random() * 6);
      const reached = await worker.until((lines) => lines.filter((l) => l.batch !== undefined).length >= batches);
      if (reached) {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 30)));
        worker.child.kill('SIGKILL');
        const { signal } = await worker.exited;
        if (signal === 'SIGKILL') kills += 1;
      } else {
        worker.child.kill('SIGKILL');
        await worker.exited;
      }
      if (round >= 4) {
        // Enough kills for this seed: let a worker finish.
        const last = spawnWorker(schema, `finish-${seed}`);
        while (!(await jobsDone(schema))) await new Promise((resolve) => setTimeout(resolve, 100));
        last.child.kill('SIGTERM');
        await last.exited;
        break;
      }
    }
    await assertExact(schema, jobs);
  }
  assert.ok(kills >= 20, `only ${kills} kills landed while a worker was streaming`);
});

test('two worker processes on one queue: every chunk streamed once, nothing missing', { timeout: 300_000 }, async () => {
  const schema = await freshSchema(pool, 'pair');
  const jobs = await enqueueBoth(schema);
  const pair = [spawnWorker(schema, 'left'), spawnWorker(schema, 'right')];
  while (!(await jobsDone(schema))) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const w of pair) w.child.kill('SIGTERM');
  await Promise.all(pair.map((w) => w.exited));
  await assertExact(schema, jobs);
  const started = pair.flatMap((w) => w.lines.filter((l) => l.started !== undefined).map((l) => l.started));
  const { rows } = await pool.query(`SELECT id::int FROM "${schema}".chunks ORDER BY id`);
  assert.deepEqual([...started].sort((a, b) => a - b), rows.map((r) => r.id), 'each chunk streamed by exactly one worker, once');
  assert.ok(pair.every((w) => w.lines.some((l) => l.started !== undefined)), 'both workers took chunks');
});
