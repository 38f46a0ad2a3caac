'use strict';
// What a batch carries: `transactionDetails: 'none'` and `decodeInstructions: false` leave
// out transactions and instructions and change nothing else, for events-only consumers.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');

const { startBackfill } = require('../lib');
const { demoActivity } = require('../lib/demo/activity');
const { archiveHost } = require('./fixtures');

let host;
let activity;

before(async () => {
  host = await archiveHost();
  activity = demoActivity({ seed: 61, epoch: 690, boundaries: 1, width: 150 });
  await host.write(activity.spec);
});
after(() => host.close());

async function run(extra) {
  const batches = [];
  const job = startBackfill({
    programIds: [activity.programId], startSlot: activity.startSlot, endSlot: activity.endSlot, archiveUrl: host.url,
    idls: [{ programId: activity.programId, idl: activity.idl }], batchSize: 50, ...extra,
  }, async (batch) => {
    batches.push(batch);
  });
  return { batches, summary: await job.done };
}

test("transactionDetails 'none' and decodeInstructions false deliver the same events and nothing else", async () => {
  const full = await run({});
  const lean = await run({ transactionDetails: 'none', decodeInstructions: false });
  const events = ({ batches }) => batches.flatMap((b) => b.events).map((e) => `${e.txSignature}#${e.eventIndex} ${e.eventName} ${JSON.stringify(e.data)}`).sort();
  assert.ok(full.batches.flatMap((b) => b.transactions).length > 100);
  assert.ok(full.batches.flatMap((b) => b.instructions).length > 100);
  assert.ok(lean.batches.every((b) => b.transactions.length === 0 && b.instructions.length === 0));
  assert.equal(events(full).length, activity.events.length);
  assert.deepEqual(events(lean), events(full));
  assert.equal(lean.summary.transactionsMatched, full.summary.transactionsMatched);
  assert.deepEqual(lean.summary.completedRanges, full.summary.completedRanges);
});

test('transactionDetails and decodeInstructions are checked', () => {
  const base = { programIds: [activity.programId], startSlot: 1, endSlot: 2, archiveUrl: host.url };
  assert.throws(() => startBackfill({ ...base, transactionDetails: 'signatures' }, async () => {}), (error) => error.code === 'ERR_INVALID_ARG_TYPE' && /transactionDetails/.test(error.message));
  assert.throws(() => startBackfill({ ...base, decodeInstructions: 'no' }, async () => {}), (error) => error.code === 'ERR_INVALID_ARG_TYPE' && /decodeInstructions/.test(error.message));
});
