'use strict';
// A worker claims chunks from the runner's tables and streams each through startBackfill.
// Workers share nothing but the database: a claim is a row lock (SKIP LOCKED), ownership is a
// lease every write re-checks, and each batch's events and checkpoints commit together, so a
// worker killed at any instant leaves either all of a batch or none of it.

const { EventEmitter } = require('node:events');
const os = require('node:os');
const crypto = require('node:crypto');

const { startBackfill } = require('../../index.js');
const { quoteIdent, migrate } = require('./schema');
const { transaction } = require('./transaction');
const { integerOption } = require('./enqueue');
const { repriceChunksOf } = require('./priority');
const { ensureEventsTable, writeEvents } = require('./sink');
const { runnerMetrics } = require('./metrics');
const ranges = require('./ranges');

const ACTIVE = "('pending', 'running')";
const PERMANENT = new Set(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']);
/** Whether chunk `c` still has a job waiting on it. */
const HAS_LIVE_SUBSCRIBER = (s) => `EXISTS (SELECT 1 FROM ${s}.subscriptions sub JOIN ${s}.jobs j ON j.id = sub.job_id
  WHERE sub.chunk_id = c.id AND NOT sub.done AND j.status IN ${ACTIVE})`;

class LeaseLost extends Error {
  constructor(chunkId) {
    super(`chunk ${chunkId}: lease taken over by another worker`);
    this.name = 'LeaseLost';
  }
}

/** Per-name failure counts, merged; at most five sample signatures per name. */
function mergeFailures(into, add) {
  const byName = new Map(into.map((f) => [f.name, { ...f, sampleSignatures: [...f.sampleSignatures] }]));
  for (const { name, count, sampleSignatures } of add) {
    const entry = byName.get(name) ?? { name, count: 0, sampleSignatures: [] };
    entry.count += count;
    for (const signature of sampleSignatures) {
      if (entry.sampleSignatures.length < 5 && !entry.sampleSignatures.includes(signature)) entry.sampleSignatures.push(signature);
    }
    byName.set(name, entry);
  }
  return [...byName.values()];
}

/** What a run's cumulative tally added since the last batch. */
function failuresSince(previous, current) {
  const delta = [];
  for (const f of current) {
    const before = previous.get(f.name) ?? 0;
    if (f.count > before) delta.push({ name: f.name, count: f.count - before, sampleSignatures: f.sampleSignatures });
    previous.set(f.name, f.count);
  }
  return delta;
}

/** A rejected `idls[i]` names the jobs that gave it, and their own index for it. */
function blameIdlGivers(error, givers) {
  const rejected = /^options\.idls\[(\d+)\]/.exec(error?.message ?? '');
  if (rejected && PERMANENT.has(error.code)) {
    const owners = givers[Number(rejected[1])];
    error.jobIds = owners.map((owner) => owner.jobId);
    error.message = error.message.replace(rejected[0], `idls[${owners[0].index}]`);
  }
  return error;
}

function errorText(error) {
  return error instanceof Error ? `${error.code ? `${error.code}: ` : ''}${error.message}` : String(error);
}

class BackfillWorker extends EventEmitter {
  /**
   * @param {object} options see index.d.ts (`BackfillWorkerOptions`)
   */
  constructor(options = {}) {
    super();
    const { pool, schema = 'uho_backfill', writers = {}, registry } = options;
    if (!pool || typeof pool.connect !== 'function') throw new TypeError('pool must be a pg Pool');
    quoteIdent(schema);
    if (typeof writers !== 'object' || Object.values(writers).some((w) => typeof w !== 'function')) {
      throw new TypeError('writers must map names to functions (client, events, job) => Promise');
    }
    this.pool = pool;
    this.schema = schema;
    this.s = quoteIdent(schema);
    this.writers = writers;
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.concurrency = integerOption('concurrency', options.concurrency, { min: 1, fallback: 2 });
    this.leaseMs = integerOption('leaseMs', options.leaseMs, { min: 1, fallback: 30_000 });
    this.pollMs = integerOption('pollMs', options.pollMs, { min: 1, fallback: 500 });
    this.retryBaseMs = integerOption('retryBaseMs', options.retryBaseMs, { min: 1, fallback: 1_000 });
    this.retryMaxMs = integerOption('retryMaxMs', options.retryMaxMs, { min: 1, fallback: 300_000 });
    this.backfillOptions = {
      threads: options.threads,
      archiveUrl: options.archiveUrl,
      batchSize: options.batchSize,
      logLevel: options.logLevel,
      retry: options.retry,
    };
    this.metrics = runnerMetrics(registry);
    this.runs = new Map(); // chunk id -> { chunk, job, subscribers, finished, leaseLost }
    this.tables = new Set();
    this.stopping = false;
    this.loop = null;
    this.wake = null;
  }

  /** Chunks this worker is streaming now. */
  get activeChunks() {
    return this.runs.size;
  }

  /** Jobs this worker is serving now (a shared chunk serves several). */
  get activeJobs() {
    const ids = new Set();
    for (const run of this.runs.values()) for (const sub of run.subscribers) ids.add(sub.id);
    return ids.size;
  }

  /** Creates the tables if needed and starts claiming. */
  async start() {
    if (this.loop) throw new Error('worker already started');
    await migrate(this.pool, { schema: this.schema });
    this.stopping = false;
    this.loop = this.claimLoop();
    this.ticker = setInterval(() => this.tick().catch((error) => this.emit('warning', error)), this.pollMs);
  }

  /** Stops claiming, lets each batch in flight commit, and hands the chunks back. */
  async stop() {
    this.stopping = true;
    this.wake?.();
    for (const run of this.runs.values()) run.job?.cancel();
    await this.loop;
    clearInterval(this.ticker);
    this.loop = null;
  }

  async claimLoop() {
    while (!this.stopping) {
      let claimed = null;
      if (this.runs.size < this.concurrency) {
        try {
          claimed = await this.claim();
        } catch (error) {
          this.emit('warning', error);
        }
      }
      if (claimed) {
        this.launch(claimed);
        continue;
      }
      await new Promise((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, this.pollMs);
      });
    }
    await Promise.allSettled([...this.runs.values()].map((run) => run.finished));
  }

  /** The most urgent chunk nobody holds (or whose holder's lease ran out), leased to us. */
  async claim() {
    const { s } = this;
    const { rows } = await this.pool.query(
      `WITH next AS (
         SELECT c.id FROM ${s}.chunks c
         WHERE ((c.status = 'pending' AND c.next_attempt_at <= now())
             OR (c.status = 'running' AND c.lease_expires_at < now()))
           AND ${HAS_LIVE_SUBSCRIBER(s)}
         ORDER BY c.priority DESC, c.id
         LIMIT 1
         FOR UPDATE OF c SKIP LOCKED)
       UPDATE ${s}.chunks c SET status = 'running', lease_owner = $1,
         lease_expires_at = now() + $2 * interval '1 millisecond', started_at = COALESCE(c.started_at, now())
       FROM next WHERE c.id = next.id
       RETURNING c.id, c.program_id, c.start_slot, c.end_slot, c.attempts`,
      [this.workerId, this.leaseMs],
    );
    if (rows.length === 0) return null;
    const chunk = { id: Number(rows[0].id), programId: rows[0].program_id, startSlot: Number(rows[0].start_slot), endSlot: Number(rows[0].end_slot) };
    const { rows: started } = await this.pool.query(
      `UPDATE ${s}.jobs SET status = 'running', started_at = COALESCE(started_at, now()), updated_at = now()
       WHERE status = 'pending' AND id IN (SELECT job_id FROM ${s}.subscriptions WHERE chunk_id = $1) RETURNING id`,
      [chunk.id],
    );
    if (started.length) this.metrics.jobs.inc({ status: 'running' }, started.length);
    return chunk;
  }

  /** The chunk's live subscribers at the start of a run: what each wants and where it goes. */
  async subscribers(chunkId) {
    const { s } = this;
    const { rows } = await this.pool.query(
      `SELECT j.id, j.program_id, j.idls, j.enabled_events, j.target, sub.start_slot, sub.end_slot, sub.completed_ranges
       FROM ${s}.subscriptions sub JOIN ${s}.jobs j ON j.id = sub.job_id
       WHERE sub.chunk_id = $1 AND NOT sub.done AND j.status IN ${ACTIVE}
       ORDER BY j.id`,
      [chunkId],
    );
    return rows.map((row) => {
      const range = [Number(row.start_slot), Number(row.end_slot)];
      return {
        id: Number(row.id),
        programId: row.program_id,
        idls: row.idls,
        enabledEvents: row.enabled_events ? new Set(row.enabled_events) : null,
        target: row.target,
        range,
        // What the run must cover for this job; batches re-read its progress under lock.
        pending: ranges.subtract(range, row.completed_ranges),
      };
    });
  }

  /**
   * Each live subscriber's progress, locked for the batch transaction: a job cancelled
   * meanwhile is absent once its cancellation has committed.
   */
  async lockedProgress(client, chunkId) {
    const { s } = this;
    const { rows } = await client.query(
      `SELECT j.id, j.decode_failures, sub.completed_ranges
       FROM ${s}.subscriptions sub JOIN ${s}.jobs j ON j.id = sub.job_id
       WHERE sub.chunk_id = $1 AND NOT sub.done AND j.status IN ${ACTIVE}
       ORDER BY j.id FOR UPDATE OF j, sub`,
      [chunkId],
    );
    return rows.map((row) => ({ id: Number(row.id), decodeFailures: row.decode_failures, completed: row.completed_ranges }));
  }

  async hasLiveSubscriber(client, chunkId) {
    const { rows } = await client.query(`SELECT ${HAS_LIVE_SUBSCRIBER(this.s)} AS live FROM ${this.s}.chunks c WHERE c.id = $1`, [chunkId]);
    return rows[0].live;
  }

  launch(chunk) {
    const run = { chunk, job: null, subscribers: [], finished: null };
    this.runs.set(chunk.id, run);
    run.finished = this.runChunk(run)
      .catch((error) => this.emit('warning', error))
      .finally(() => {
        this.runs.delete(chunk.id);
        for (const sub of run.subscribers) this.metrics.throughput.remove({ job_id: String(sub.id) });
        this.wake?.();
      });
  }

  async runChunk(run) {
    const { chunk } = run;
    let outcome;
    let failure;
    try {
      const subscribers = await this.subscribers(chunk.id);
      run.subscribers = subscribers;
      this.emit('chunkStarted', { chunkId: chunk.id, programId: chunk.programId, startSlot: chunk.startSlot, endSlot: chunk.endSlot, jobIds: subscribers.map((s) => s.id) });
      for (const sub of subscribers) {
        if (sub.target.schema !== undefined) await ensureEventsTable(this.pool, sub.target.schema, this.tables);
      }
      const summary = await this.stream(run, subscribers);
      if (!summary.cancelled) outcome = await this.finish(run, summary);
      else outcome = run.leaseLost ? 'leaseLost' : this.stopping ? 'stopped' : 'cancelled';
    } catch (error) {
      failure = error instanceof LeaseLost ? null : error;
      outcome = failure ? await this.fail(chunk, failure) : 'leaseLost';
    } finally {
      if (outcome === 'stopped' || outcome === 'cancelled') await this.release(chunk).catch((error) => this.emit('warning', error));
    }
    this.emit('chunkFinished', { chunkId: chunk.id, outcome, error: failure });
  }

  /** One startBackfill over the union of what the subscribers still need. */
  async stream(run, subscribers) {
    const { chunk } = run;
    const work = ranges.union(...subscribers.map((sub) => sub.pending));
    if (work.length === 0) return { cancelled: false, completedRanges: [] };
    const first = work[0][0];
    const last = work[work.length - 1][1];
    const idls = [];
    // For each entry of `idls`, the jobs that gave it and where: a rejected IDL fails those
    // jobs, not every job sharing the stream.
    const givers = [];
    const seen = new Map();
    for (const sub of subscribers) {
      // Only the chunk's program: event indexes then do not depend on who else subscribed.
      sub.idls.forEach((idl, index) => {
        if (idl.programId !== chunk.programId) return;
        const key = JSON.stringify(idl);
        if (!seen.has(key)) {
          seen.set(key, idls.length);
          idls.push(idl);
          givers.push([]);
        }
        givers[seen.get(key)].push({ jobId: sub.id, index });
      });
    }
    const previousFailures = new Map();
    const started = Date.now();
    let lost = null;
    const options = {
      ...Object.fromEntries(Object.entries(this.backfillOptions).filter(([, v]) => v !== undefined)),
      programIds: [chunk.programId],
      startSlot: first,
      endSlot: last,
      skipRanges: ranges.subtract([first, last], work),
      idls,
      // The runner stores events only: the Node thread need not parse anything else.
      transactionDetails: 'none',
      decodeInstructions: false,
    };
    const onBatch = async (batch) => {
      try {
        const failures = failuresSince(previousFailures, batch.progress.decodeFailures);
        await this.commitBatch(run, batch.checkpoint.completedRanges, batch.events, failures);
        const seconds = (Date.now() - started) / 1000;
        for (const sub of run.subscribers) this.metrics.throughput.set({ job_id: String(sub.id) }, batch.progress.transactionsScanned / Math.max(seconds, 0.001));
        this.emit('batch', { chunkId: chunk.id, checkpoint: batch.checkpoint, progress: batch.progress, events: batch.events.length });
      } catch (error) {
        if (error instanceof LeaseLost) {
          lost = error;
          run.job.cancel();
          return;
        }
        throw error;
      }
    };
    try {
      run.job = startBackfill(options, onBatch);
    } catch (error) {
      throw blameIdlGivers(error, givers);
    }
    if (this.stopping) run.job.cancel();
    const summary = await run.job.done;
    if (lost) throw lost;
    return summary;
  }

  /**
   * One transaction: fence on our lease, then each live subscriber's events and checkpoint.
   * The subscriber rows are locked, so a job cancelled meanwhile gets nothing after its
   * cancellation commits.
   */
  async commitBatch(run, completedRanges, events, failures) {
    const { chunk } = run;
    const { s } = this;
    // A job that subscribed after the run began missed its earlier batches: it is served by
    // the next run, not credited with this one's checkpoint.
    const present = new Map(run.subscribers.map((sub) => [sub.id, sub]));
    const failureCount = failures.reduce((sum, f) => sum + f.count, 0);
    const { total, completedJobs } = await transaction(this.pool, async (client) => {
      const fence = await client.query(
        `UPDATE ${s}.chunks SET completed_ranges = $3, lease_expires_at = now() + $4 * interval '1 millisecond'
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
        [chunk.id, this.workerId, JSON.stringify(completedRanges), this.leaseMs],
      );
      if (fence.rowCount === 0) throw new LeaseLost(chunk.id);
      let written = 0;
      const finished = [];
      for (const live of await this.lockedProgress(client, chunk.id)) {
        const sub = present.get(live.id);
        if (!sub) continue;
        // The stream carries only this program's events (its IDLs alone are passed).
        const pending = ranges.subtract(sub.range, live.completed);
        const theirs = events.filter((e) => ranges.contains(pending, e.slot) && (!sub.enabledEvents || sub.enabledEvents.has(e.eventName)));
        const count = await writeEvents(client, sub, theirs, this.writers);
        const completed = ranges.union(live.completed, ranges.intersect(completedRanges, sub.range));
        const done = ranges.subtract(sub.range, completed).length === 0;
        await client.query(
          `UPDATE ${s}.subscriptions SET completed_ranges = $3, events_written = events_written + $4, done = $5
           WHERE job_id = $1 AND chunk_id = $2`,
          [sub.id, chunk.id, JSON.stringify(completed), count, done],
        );
        if (count > 0 || failureCount > 0) {
          await client.query(
            `UPDATE ${s}.jobs SET events_written = events_written + $2, decode_failures = $3, updated_at = now() WHERE id = $1`,
            [sub.id, count, JSON.stringify(mergeFailures(live.decodeFailures, failures))],
          );
        }
        written += count;
        if (done) finished.push(sub.id);
      }
      if (written > 0) await client.query(`UPDATE ${s}.chunks SET events_written = events_written + $2 WHERE id = $1`, [chunk.id, written]);
      // Completing here, with the last checkpoint, means a crash before finish() cannot
      // strand a job whose every slot is already written.
      const { rows } = finished.length === 0 ? { rows: [] } : await client.query(
        `UPDATE ${s}.jobs j SET status = 'completed', completed_at = now(), updated_at = now()
         WHERE j.id = ANY($1) AND j.status = 'running'
           AND NOT EXISTS (SELECT 1 FROM ${s}.subscriptions o WHERE o.job_id = j.id AND NOT o.done)
         RETURNING j.id`,
        [finished],
      );
      return { total: written, completedJobs: rows.length };
    });
    if (completedJobs) this.metrics.jobs.inc({ status: 'completed' }, completedJobs);
    if (total > 0) this.metrics.eventsWritten.inc({ program_id: chunk.programId }, total);
    if (failureCount > 0) this.metrics.decodeErrors.inc({ program_id: chunk.programId }, failureCount);
  }

  /**
   * The run covered its range: record the final checkpoint (a run with no matches may have
   * sent no batch), then close the chunk, or open it again for a subscriber that joined
   * mid-run.
   */
  async finish(run, summary) {
    const { chunk } = run;
    await this.commitBatch(run, summary.completedRanges, [], []);
    const { s } = this;
    return transaction(this.pool, async (client) => {
      const status = (await this.hasLiveSubscriber(client, chunk.id)) ? 'pending' : 'done';
      const closed = await client.query(
        `UPDATE ${s}.chunks SET status = $3, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL,
           completed_at = CASE WHEN $3 = 'done' THEN now() END
         WHERE id = $1 AND lease_owner = $2 RETURNING id`,
        [chunk.id, this.workerId, status],
      );
      if (closed.rowCount === 0) throw new LeaseLost(chunk.id);
      return status === 'done' ? 'done' : 'reopened';
    });
  }

  /**
   * A failed attempt: back off exponentially; subscribers whose maxRetries are spent fail
   * with this error; with none left the chunk fails too.
   */
  async fail(chunk, error) {
    const { s } = this;
    const message = errorText(error);
    // Options startBackfill rejects fail the same way every time. When they are one job's
    // IDL, that job fails alone and the chunk is not charged an attempt.
    const permanent = PERMANENT.has(error?.code);
    const blamed = permanent && Array.isArray(error.jobIds) ? error.jobIds : null;
    const { outcome, failed } = await transaction(this.pool, async (client) => {
      const { rows } = await client.query(
        `UPDATE ${s}.chunks SET attempts = attempts + $6, last_error = $3, lease_owner = NULL, lease_expires_at = NULL,
           status = 'pending', next_attempt_at = now() + $6 * LEAST($4 * power(2, attempts), $5) * interval '1 millisecond'
         WHERE id = $1 AND lease_owner = $2 RETURNING attempts`,
        [chunk.id, this.workerId, message, this.retryBaseMs, this.retryMaxMs, blamed ? 0 : 1],
      );
      if (rows.length === 0) return { outcome: 'leaseLost', failed: [] };
      const { attempts } = rows[0];
      const { rows: failedJobs } = await client.query(
        `UPDATE ${s}.jobs j SET status = 'failed', error = $3, completed_at = now(), updated_at = now()
         WHERE j.status IN ${ACTIVE}
           AND (CASE WHEN $5::bigint[] IS NULL THEN $4 OR $2 > j.max_retries ELSE j.id = ANY($5) END)
           AND j.id IN (SELECT job_id FROM ${s}.subscriptions WHERE chunk_id = $1 AND NOT done)
         RETURNING j.id`,
        [chunk.id, attempts, blamed ? `rejected: ${message}` : `chunk ${chunk.startSlot}-${chunk.endSlot} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message}`, permanent, blamed],
      );
      const left = await this.hasLiveSubscriber(client, chunk.id);
      if (!left) await client.query(`UPDATE ${s}.chunks SET status = 'failed' WHERE id = $1`, [chunk.id]);
      return { outcome: left ? 'retry' : 'failed', failed: failedJobs.map((j) => j.id) };
    });
    if (failed.length) {
      await repriceChunksOf(this.pool, s, failed);
      this.metrics.jobs.inc({ status: 'failed' }, failed.length);
    }
    return outcome;
  }

  /** Hands a chunk back at once (stop, or every subscriber cancelled); no attempt spent. */
  async release(chunk) {
    await this.pool.query(
      `UPDATE ${this.s}.chunks SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL
       WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
      [chunk.id, this.workerId],
    );
  }

  /**
   * Every pollMs: renew our leases, and stop any run whose lease was taken or whose
   * subscribers were all cancelled (cancelJob takes effect within one tick).
   */
  async tick() {
    const ids = [...this.runs.keys()];
    if (ids.length === 0) return;
    const { s } = this;
    const { rows } = await this.pool.query(
      `WITH renewed AS (
         UPDATE ${s}.chunks SET lease_expires_at = now() + $3 * interval '1 millisecond'
         WHERE id = ANY($1) AND lease_owner = $2 AND status = 'running' RETURNING id)
       SELECT c.id, c.id IN (SELECT id FROM renewed) AS ours,
              ${HAS_LIVE_SUBSCRIBER(s)} AS wanted
       FROM ${s}.chunks c WHERE c.id = ANY($1)`,
      [ids, this.workerId, this.leaseMs],
    );
    for (const row of rows) {
      const run = this.runs.get(Number(row.id));
      if (!run?.job) continue;
      if (!row.ours) run.leaseLost = true;
      if (!row.ours || !row.wanted) run.job.cancel();
    }
  }
}

module.exports = { BackfillWorker };
