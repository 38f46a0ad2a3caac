'use strict';
// startBackfill against generated Old Faithful archives, read by the real Jetstreamer code
// over HTTP on 127.0.0.1: exact delivery, resume, backpressure, failures.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');

const { startBackfill } = require('../lib');
const { PROGRAM, SECOND_PROGRAM, archiveHost, expectedKeys, mixedArchive, prng, SLOTS_PER_EPOCH } = require('./fixtures');

let host;
let mixed;

before(async () => {
  host = await archiveHost();
  mixed = mixedArchive({ seed: 7, epoch: 700 });
  await host.write(mixed.spec);
});
after(() => host.close());

function jobOptions(overrides = {}) {
  return {
    programIds: [PROGRAM],
    startSlot: mixed.startSlot,
    endSlot: mixed.endSlot,
    archiveUrl: host.url,
    threads: 2,
    batchSize: 100,
    flushIntervalMs: 50,
    ...overrides,
  };
}

async function collect(options, handle) {
  const batches = [];
  const job = startBackfill(options, async (batch) => {
    batches.push(batch);
    if (handle) await handle(batch, job);
  });
  const summary = await job.done;
  return { batches, summary, job };
}

function deliveredKeys(batches) {
  const keys = batches.flatMap((batch) => batch.transactions.map((tx) => `${tx.signature}@${tx.slot}`));
  const unique = new Set(keys);
  assert.equal(unique.size, keys.length, 'a transaction was delivered twice');
  return unique;
}

describe('exact delivery', () => {
  for (const threads of [1, 3]) {
    for (const match of ['invokes', 'mentions']) {
      for (const includeFailed of [false, true]) {
        test(`threads=${threads} match=${match} includeFailed=${includeFailed}`, async () => {
          const { batches, summary } = await collect(jobOptions({ threads, match, includeFailed }));
          const expected = expectedKeys(mixed.transactions, { match, includeFailed });
          assert.ok(expected.size > 100, 'the fixture should have a meaningful number of matches');
          assert.deepEqual(deliveredKeys(batches), expected);
          assert.equal(summary.cancelled, false);
          assert.equal(summary.transactionsMatched, expected.size);
          assert.equal(summary.transactionsScanned, mixed.transactions.length);
          assert.deepEqual(summary.completedRanges, [[mixed.startSlot, mixed.endSlot]]);
          assert.equal(summary.frontierSlot, mixed.endSlot);
          assert.equal(summary.slotsProcessed, mixed.endSlot - mixed.startSlot + 1);
          const batchOfSlot = new Map();
          batches.forEach((batch, number) => {
            assert.ok(batch.transactions.length <= 100);
            for (const tx of batch.transactions) {
              assert.equal(batchOfSlot.get(tx.slot) ?? number, number, `slot ${tx.slot} was split across batches`);
              batchOfSlot.set(tx.slot, number);
            }
          });
        });
      }
    }
  }

  test('several program ids', async () => {
    const { batches } = await collect(jobOptions({ programIds: [PROGRAM, SECOND_PROGRAM] }));
    assert.deepEqual(deliveredKeys(batches), expectedKeys(mixed.transactions, { programs: [PROGRAM, SECOND_PROGRAM] }));
  });

  test('each transaction carries its block time, position and full record', async () => {
    const { batches } = await collect(jobOptions({ includeFailed: true }));
    const bySignature = new Map(mixed.transactions.map((t) => [t.signature, t]));
    const seenKinds = new Set();
    for (const tx of batches.flatMap((b) => b.transactions)) {
      const source = bySignature.get(tx.signature);
      assert.equal(tx.slot, source.slot);
      assert.equal(tx.blockTime, source.blockTime);
      assert.equal(tx.index, source.index);
      assert.deepEqual(tx.logs, source.tx.logs);
      assert.equal(tx.fee, source.tx.fee);
      assert.equal(tx.computeUnitsConsumed, source.tx.computeUnitsConsumed);
      const loaded = source.tx.loadedAddresses || { writable: [], readonly: [] };
      assert.deepEqual(tx.accountKeys, [...source.tx.accountKeys, ...loaded.writable, ...loaded.readonly]);
      assert.equal(tx.version, source.tx.version === 0 ? 0 : 'legacy');
      assert.deepEqual(tx.err ?? null, source.tx.err ?? null);
      assert.deepEqual(
        tx.instructions.map(({ programIdIndex, accounts, data }) => ({ programIdIndex, accounts, data })),
        source.tx.instructions,
      );
      if (source.tx.innerInstructions) {
        assert.deepEqual(tx.innerInstructions, source.tx.innerInstructions);
        seenKinds.add('inner');
      }
      if (source.tx.err) seenKinds.add('failed');
      if (source.tx.version === 0) seenKinds.add('v0');
    }
    assert.deepEqual([...seenKinds].sort(), ['failed', 'inner', 'v0']);
  });

  test('epochs form covers whole epochs', async () => {
    const { batches, summary } = await collect({ programIds: [PROGRAM], epochs: [700, 701], archiveUrl: host.url, threads: 3, batchSize: 1000 });
    assert.deepEqual(deliveredKeys(batches), expectedKeys(mixed.transactions));
    assert.deepEqual(summary.completedRanges, [[700 * SLOTS_PER_EPOCH, 702 * SLOTS_PER_EPOCH - 1]]);
  });
});

describe('checkpoints and resume', () => {
  test('every checkpoint covers exactly what was delivered so far', async () => {
    const seen = [];
    await collect(jobOptions({ threads: 3, batchSize: 37 }), (batch) => {
      seen.push(...batch.transactions);
      const covered = (slot) => batch.checkpoint.completedRanges.some(([s, e]) => slot >= s && slot <= e);
      const delivered = new Set(seen.map((tx) => tx.signature));
      for (const t of expectedKeys(mixed.transactions)) {
        const [signature, slot] = t.split('@');
        if (covered(Number(slot))) assert.ok(delivered.has(signature), `slot ${slot} is checkpointed but ${signature} was not delivered`);
      }
      const frontier = batch.checkpoint.frontierSlot;
      if (frontier !== null) assert.ok(covered(frontier) && covered(mixed.startSlot));
    });
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`cancel at a random point and resume (seed ${seed})`, async () => {
      const random = prng(seed);
      const all = [];
      let skipRanges = [];
      let runs = 0;
      for (;;) {
        runs += 1;
        assert.ok(runs < 50, 'resume made no progress');
        const cancelAfter = 1 + Math.floor(random() * 4);
        let delivered = 0;
        let persisted = skipRanges;
        const { summary } = await collect(jobOptions({ threads: 1 + Math.floor(random() * 3), batchSize: 20 + Math.floor(random() * 60), skipRanges }), (batch, job) => {
          all.push(...batch.transactions.map((tx) => `${tx.signature}@${tx.slot}`));
          persisted = batch.checkpoint.completedRanges;
          delivered += 1;
          if (delivered === cancelAfter) job.cancel();
        });
        assert.deepEqual(summary.completedRanges, persisted, 'the summary reports the last delivered checkpoint');
        skipRanges = persisted;
        if (!summary.cancelled) break;
      }
      assert.ok(runs > 1, 'the job should have been cancelled at least once');
      assert.equal(new Set(all).size, all.length, 'a transaction was delivered in two runs');
      assert.deepEqual(new Set(all), expectedKeys(mixed.transactions));
    });
  }

  test('a fully skipped range delivers one batch that says so', async () => {
    const { batches, summary } = await collect(jobOptions({ skipRanges: [[mixed.startSlot - 10, mixed.endSlot + 10]] }));
    assert.equal(batches.length, 1);
    assert.equal(batches[0].transactions.length, 0);
    assert.equal(summary.frontierSlot, mixed.endSlot);
    assert.equal(summary.slotsProcessed, 0);
  });
});

describe('backpressure', () => {
  test('a slow consumer holds the firehose back and memory stays bounded', async () => {
    const big = mixedArchive({ seed: 11, epoch: 702, slotsPerSide: 400, txPerSlot: [20, 40], skipRate: 0.05 });
    await host.write(big.spec);
    const maxQueuedBatches = 2;
    let maxQueued = 0;
    let peakRss = 0;
    const started = Date.now();
    const { batches, summary } = await collect(
      { programIds: [PROGRAM], startSlot: big.startSlot, endSlot: big.endSlot, archiveUrl: host.url, threads: 3, batchSize: 200, maxQueuedBatches, match: 'mentions' },
      async (_batch, job) => {
        maxQueued = Math.max(maxQueued, job.progress.queuedBatches);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        await new Promise((resolve) => setTimeout(resolve, 40));
      },
    );
    const elapsed = Date.now() - started;
    console.log(`backpressure: ${summary.transactionsMatched} matched in ${batches.length} batches, ${elapsed} ms, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, max queued ${maxQueued}`);
    assert.deepEqual(deliveredKeys(batches), expectedKeys(big.transactions, { match: 'mentions' }));
    assert.ok(maxQueued <= maxQueuedBatches, `queued ${maxQueued} > ${maxQueuedBatches}`);
    assert.ok(maxQueued >= 1, 'the producer should have got ahead of a slow consumer');
    // The consumer's 40 ms per batch is the floor on the run's duration: the firehose waited.
    assert.ok(elapsed >= batches.length * 40);
  });
});

describe('consumer failures and cancellation', () => {
  test('onBatch throwing rejects done with the error as cause', async () => {
    const boom = new Error('boom');
    const job = startBackfill(jobOptions(), () => {
      throw boom;
    });
    await assert.rejects(job.done, (error) => {
      assert.equal(error.code, 'ERR_BACKFILL_ON_BATCH');
      assert.match(error.message, /boom/);
      assert.equal(error.cause, boom);
      return true;
    });
  });

  test('onBatch rejecting rejects done with the rejection as cause', async () => {
    const reason = new TypeError('db down');
    let calls = 0;
    const job = startBackfill(jobOptions({ batchSize: 10 }), async () => {
      calls += 1;
      if (calls === 2) throw reason;
    });
    await assert.rejects(job.done, (error) => error.cause === reason && /db down/.test(error.message));
    assert.equal(calls, 2, 'no batch is delivered after a failure');
  });

  test('cancel mid-batch: the batch in flight settles, nothing starts after', async () => {
    let calls = 0;
    let inFlight = false;
    let cancelledAt;
    const job = startBackfill(jobOptions({ batchSize: 10, threads: 3 }), async () => {
      calls += 1;
      assert.equal(cancelledAt, undefined, 'onBatch started after cancel() returned');
      inFlight = true;
      if (calls === 3) {
        job.cancel();
        job.cancel(); // idempotent
        cancelledAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      inFlight = false;
    });
    const summary = await job.done;
    assert.equal(summary.cancelled, true);
    assert.equal(inFlight, false, 'done settled while a batch was in flight');
    assert.equal(calls, 3);
    assert.ok(Date.now() - cancelledAt < 1500, 'cancel took too long');
    assert.equal(summary.batches, 3);
  });

  test('cancel right after start resolves promptly', async () => {
    const job = startBackfill(jobOptions(), async () => {});
    job.cancel();
    const summary = await job.done;
    assert.equal(summary.cancelled, true);
  });
});

describe('archive failures', () => {
  test('an epoch missing from the mirror fails with its URL, epoch and slot', async () => {
    const started = Date.now();
    const job = startBackfill(jobOptions({ startSlot: 720 * SLOTS_PER_EPOCH + 5, endSlot: 720 * SLOTS_PER_EPOCH + 50, retry: { maxAttempts: 2 } }), async () => {});
    await assert.rejects(job.done, (error) => {
      assert.equal(error.code, 'ERR_BACKFILL_ARCHIVE');
      assert.match(error.message, /epoch-720-slot-ranges\.raw/);
      assert.match(error.message, /404/);
      assert.equal(error.epoch, 720);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
  });

  test('a server error on the CAR exhausts the retry budget', async () => {
    const archive = mixedArchive({ seed: 3, epoch: 704, slotsPerSide: 20 });
    await host.write(archive.spec);
    host.setFault((req) => (req.url.endsWith('epoch-704.car') ? 503 : undefined));
    try {
      const job = startBackfill(jobOptions({ startSlot: archive.startSlot, endSlot: archive.startSlot + 10, retry: { maxAttempts: 2 }, threads: 1 }), async () => {});
      await assert.rejects(job.done, (error) => {
        assert.equal(error.code, 'ERR_BACKFILL_ARCHIVE');
        assert.match(error.message, /epoch-704\.car/);
        assert.equal(typeof error.slot, 'number');
        return true;
      });
    } finally {
      host.setFault(undefined);
    }
  });

  test('a truncated CAR fails instead of reporting the range complete', async () => {
    const archive = mixedArchive({ seed: 5, epoch: 706, slotsPerSide: 30 });
    await host.write(archive.spec);
    const car = path.join(host.dir, '707', 'epoch-707.car');
    const { size } = fs.statSync(car);
    fs.truncateSync(car, Math.floor(size / 2));
    const job = startBackfill(
      jobOptions({ startSlot: 707 * SLOTS_PER_EPOCH, endSlot: archive.endSlot, retry: { maxAttempts: 2 }, threads: 1 }),
      async () => {},
    );
    await assert.rejects(job.done, (error) => {
      assert.match(error.code, /ERR_BACKFILL_(ARCHIVE|COVERAGE)/);
      assert.match(error.message, /707/);
      return true;
    });
  });
});

describe('bad input', () => {
  const valid = () => jobOptions();
  const cases = [
    ['programIds missing', { programIds: undefined }, TypeError, /programIds/],
    ['programIds empty', { programIds: [] }, TypeError, /programIds/],
    ['invalid base58', { programIds: ['0OIl'] }, TypeError, /programIds\[0\]/],
    ['wrong-length key', { programIds: ['abc'] }, TypeError, /programIds\[0\].*32/],
    ['startSlot > endSlot', { startSlot: 10, endSlot: 5 }, RangeError, /startSlot/],
    ['negative slot', { startSlot: -1 }, RangeError, /startSlot/],
    ['fractional slot', { endSlot: 1.5 }, TypeError, /endSlot/],
    ['both range forms', { epochs: [1, 2] }, TypeError, /epochs/],
    ['threads < 1', { threads: 0 }, RangeError, /threads/],
    ['malformed skipRanges', { skipRanges: [[1]] }, TypeError, /skipRanges\[0\]/],
    ['inverted skip range', { skipRanges: [[5, 1]] }, RangeError, /skipRanges\[0\]/],
    ['unknown match', { match: 'calls' }, TypeError, /match/],
    ['bad URL', { archiveUrl: 'not a url' }, TypeError, /archiveUrl/],
    ['unknown option', { programId: PROGRAM }, TypeError, /programId.*did you mean programIds/],
  ];
  for (const [name, change, type, pattern] of cases) {
    test(name, () => {
      const options = { ...valid(), ...change };
      for (const [key, value] of Object.entries(change)) if (value === undefined) delete options[key];
      assert.throws(() => startBackfill(options, async () => {}), (error) => {
        assert.ok(error instanceof type, `${error.name}: ${error.message}`);
        assert.match(error.message, pattern);
        return true;
      });
    });
  }

  test('onBatch must be a function', () => {
    assert.throws(() => startBackfill(valid(), 'nope'), (error) => error instanceof TypeError && /onBatch/.test(error.message));
  });

  test('a second archive URL in one process is refused', () => {
    assert.throws(() => startBackfill(jobOptions({ archiveUrl: 'http://127.0.0.1:1/' }), async () => {}), (error) => {
      assert.equal(error.code, 'ERR_BACKFILL_ARCHIVE_URL');
      assert.match(error.message, /another process/);
      return true;
    });
  });
});

describe('concurrency', () => {
  test('two jobs at once in one process are both exact', async () => {
    const [a, b] = await Promise.all([
      collect(jobOptions({ threads: 2 })),
      collect(jobOptions({ threads: 3, match: 'mentions', includeFailed: true })),
    ]);
    assert.deepEqual(deliveredKeys(a.batches), expectedKeys(mixed.transactions));
    assert.deepEqual(deliveredKeys(b.batches), expectedKeys(mixed.transactions, { match: 'mentions', includeFailed: true }));
  });
});
