'use strict';
// Reading and steering jobs from outside the workers: status for an API (seed §11.1),
// cancellation, and waiting for a job to end.

const { quoteIdent } = require('./schema');
const { runnerMetrics } = require('./metrics');
const { repriceChunksOf } = require('./priority');
const ranges = require('./ranges');

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

function isoOrNull(value) {
  return value ? new Date(value).toISOString() : null;
}

/**
 * The job's state, or null if there is no such job. `progress` is the share of its slots
 * committed; `frontierSlot` the highest slot S with every slot from startSlot to S
 * committed; `throughput` committed slots per second since it started.
 */
async function getStatus(pool, jobId, { schema = 'uho_backfill' } = {}) {
  const s = quoteIdent(schema);
  const { rows } = await pool.query(
    `SELECT j.id, j.status, j.program_id, j.start_slot, j.end_slot, j.events_written, j.decode_failures, j.error,
            j.created_at, j.started_at, j.completed_at,
            COALESCE((SELECT json_agg(sub.completed_ranges) FROM ${s}.subscriptions sub WHERE sub.job_id = j.id), '[]') AS completed
     FROM ${s}.jobs j WHERE j.id = $1`,
    [jobId],
  );
  if (rows.length === 0) return null;
  const job = rows[0];
  const range = [Number(job.start_slot), Number(job.end_slot)];
  const completed = ranges.intersect(job.completed.flat(), range);
  const total = range[1] - range[0] + 1;
  const done = ranges.size(completed);
  const first = completed[0];
  const startedAt = job.started_at ? new Date(job.started_at) : null;
  const endedAt = job.completed_at ? new Date(job.completed_at) : new Date();
  const seconds = startedAt ? Math.max((endedAt - startedAt) / 1000, 0.001) : 0;
  const throughput = startedAt ? done / seconds : 0;
  return {
    id: Number(job.id),
    status: job.status,
    programId: job.program_id,
    startSlot: range[0],
    endSlot: range[1],
    progress: done / total,
    frontierSlot: first && first[0] === range[0] ? first[1] : null,
    slotsDone: done,
    slotsTotal: total,
    eventsWritten: Number(job.events_written),
    decodeFailures: job.decode_failures,
    throughput,
    etaMs: TERMINAL.has(job.status) ? 0 : throughput > 0 ? Math.round(((total - done) / throughput) * 1000) : null,
    error: job.error,
    createdAt: isoOrNull(job.created_at),
    startedAt: isoOrNull(job.started_at),
    completedAt: isoOrNull(job.completed_at),
  };
}

/**
 * Marks a pending or running job cancelled; workers streaming its chunks stop within one of
 * their poll intervals. Resolves to false if the job had already ended (or does not exist).
 */
async function cancelJob(pool, jobId, { schema = 'uho_backfill', registry } = {}) {
  const s = quoteIdent(schema);
  const { rowCount } = await pool.query(
    `UPDATE ${s}.jobs SET status = 'cancelled', completed_at = now(), updated_at = now()
     WHERE id = $1 AND status IN ('pending', 'running')`,
    [jobId],
  );
  if (rowCount === 0) return false;
  await repriceChunksOf(pool, s, [jobId]);
  runnerMetrics(registry).jobs.inc({ status: 'cancelled' });
  return true;
}

/** Resolves to the job's status once it is completed, failed or cancelled. */
async function waitForJob(pool, jobId, { schema = 'uho_backfill', pollMs = 250, signal, onStatus } = {}) {
  for (;;) {
    const status = await getStatus(pool, jobId, { schema });
    if (!status) throw new Error(`no job ${jobId} in schema ${schema}`);
    onStatus?.(status);
    if (TERMINAL.has(status.status)) return status;
    signal?.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

module.exports = { getStatus, cancelJob, waitForJob };
