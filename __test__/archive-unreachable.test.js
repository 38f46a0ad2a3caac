'use strict';
// A mirror that refuses connections: the job fails within its retry budget, naming the URL.
// Its own file, hence its own process: Jetstreamer pins one archive URL per process.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const { startBackfill } = require('../lib');
const { PROGRAM, SLOTS_PER_EPOCH, freePort } = require('./fixtures');

test('a refused connection fails the job with the URL and epoch, within the budget', async () => {
  const url = `http://127.0.0.1:${await freePort()}/`;
  const started = Date.now();
  const job = startBackfill(
    { programIds: [PROGRAM], startSlot: 800 * SLOTS_PER_EPOCH + 10, endSlot: 800 * SLOTS_PER_EPOCH + 99, archiveUrl: url, retry: { maxAttempts: 3 } },
    async () => assert.fail('no batch can be delivered from an unreachable archive'),
  );
  await assert.rejects(job.done, (error) => {
    assert.equal(error.code, 'ERR_BACKFILL_ARCHIVE');
    assert.ok(error.message.includes(`${url}800/epoch-800-slot-ranges.raw`), error.message);
    assert.match(error.message, /refused|connect/i);
    assert.equal(error.epoch, 800);
    assert.equal(error.slot, 800 * SLOTS_PER_EPOCH + 10);
    assert.match(error.message, /3 attempt/);
    return true;
  });
  assert.ok(Date.now() - started < 15_000, 'the retry budget should end the job quickly');
});
