'use strict';
// Enqueueing a backfill job: its row, the chunks of its program that cover its range, and
// its subscription to each. Chunks sit on a grid of chunkSlots per program, so a second job
// over the same program and window subscribes to the existing chunk: one stream, several
// subscribers, each with its own progress.

const { isPublicKey } = require('../base58');
const { quoteIdent } = require('./schema');
const { transaction } = require('./transaction');

// priority and maxRetries are Postgres `integer` columns.
const MAX_INT32 = 2 ** 31 - 1;

/** An integer option in [min, max], or `fallback` when absent; errors name the option. */
function integerOption(name, value, { min = 0, max = Number.MAX_SAFE_INTEGER, fallback } = {}) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${JSON.stringify(value)}`);
  if (value < min || value > max) throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function validate(job) {
  if (!job || typeof job !== 'object') throw new TypeError('job must be an object');
  const { programId, idls = [], enabledEvents = null, target = { schema: 'public' } } = job;
  if (!isPublicKey(programId)) throw new TypeError(`programId must be a base58 public key, got ${JSON.stringify(programId)}`);
  const startSlot = integerOption('startSlot', job.startSlot);
  const endSlot = integerOption('endSlot', job.endSlot);
  if (startSlot === undefined || endSlot === undefined) throw new TypeError('startSlot and endSlot are required (inclusive)');
  if (startSlot > endSlot) throw new RangeError(`startSlot ${startSlot} is after endSlot ${endSlot}`);
  if (!Array.isArray(idls)) throw new TypeError('idls must be an array of { programId, idl, fromSlot?, toSlot? }');
  idls.forEach((entry, i) => {
    if (!entry || typeof entry !== 'object' || !isPublicKey(entry.programId)) throw new TypeError(`idls[${i}].programId must be a base58 public key`);
    if (!(typeof entry.idl === 'string' || (entry.idl && typeof entry.idl === 'object'))) throw new TypeError(`idls[${i}].idl must be an IDL object or its JSON text`);
  });
  // The runner decodes the job's own program only; IDLs of other programs would find nothing.
  if (idls.length > 0 && !idls.some((entry) => entry.programId === programId)) {
    throw new TypeError(`idls has no IDL for programId ${programId}: the runner decodes the events of the job's own program`);
  }
  if (enabledEvents !== null && !(Array.isArray(enabledEvents) && enabledEvents.every((e) => typeof e === 'string'))) {
    throw new TypeError('enabledEvents must be null (every event) or an array of event names');
  }
  const validTarget = target && typeof target === 'object'
    && ((typeof target.schema === 'string' && target.writer === undefined) || (typeof target.writer === 'string' && target.schema === undefined));
  if (!validTarget) throw new TypeError("target must be { schema: 'name' } (an events table there) or { writer: 'name' } (a writer given to the worker)");
  if (target.schema !== undefined) quoteIdent(target.schema);
  return {
    programId,
    startSlot,
    endSlot,
    idls,
    enabledEvents,
    target,
    priority: integerOption('priority', job.priority, { min: -MAX_INT32 - 1, max: MAX_INT32, fallback: 0 }),
    maxRetries: integerOption('maxRetries', job.maxRetries, { max: MAX_INT32, fallback: 3 }),
    chunkSlots: integerOption('chunkSlots', job.chunkSlots, { min: 1, fallback: 100_000 }),
  };
}

/**
 * Adds a job to the queue and resolves to its id. Workers of any process sharing the
 * database pick its chunks up, highest priority first.
 */
async function enqueue(pool, job, { schema = 'uho_backfill' } = {}) {
  const j = validate(job);
  const s = quoteIdent(schema);
  return transaction(pool, async (client) => {
    const { rows } = await client.query(
      `INSERT INTO ${s}.jobs (program_id, start_slot, end_slot, idls, enabled_events, target, priority, max_retries, chunk_slots)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [j.programId, j.startSlot, j.endSlot, JSON.stringify(j.idls), j.enabledEvents, JSON.stringify(j.target), j.priority, j.maxRetries, j.chunkSlots],
    );
    const jobId = rows[0].id;
    // A chunk another job already finished is opened again: this subscriber has not had it.
    await client.query(
      `WITH windows AS (
         SELECT g * $3::bigint AS start_slot, g * $3::bigint + $3::bigint - 1 AS end_slot
         FROM generate_series($4::bigint / $3::bigint, $5::bigint / $3::bigint) AS g
       ), chunk AS (
         INSERT INTO ${s}.chunks (program_id, start_slot, end_slot, priority)
         SELECT $2, start_slot, end_slot, $6 FROM windows
         ON CONFLICT (program_id, start_slot, end_slot) DO UPDATE SET
           priority = GREATEST(${s}.chunks.priority, EXCLUDED.priority),
           status = CASE WHEN ${s}.chunks.status IN ('done', 'failed') THEN 'pending' ELSE ${s}.chunks.status END,
           attempts = CASE WHEN ${s}.chunks.status IN ('done', 'failed') THEN 0 ELSE ${s}.chunks.attempts END,
           next_attempt_at = CASE WHEN ${s}.chunks.status IN ('done', 'failed') THEN now() ELSE ${s}.chunks.next_attempt_at END
         RETURNING id, start_slot, end_slot
       )
       INSERT INTO ${s}.subscriptions (job_id, chunk_id, start_slot, end_slot)
       SELECT $1, id, GREATEST(start_slot, $4::bigint), LEAST(end_slot, $5::bigint) FROM chunk`,
      [jobId, j.programId, j.chunkSlots, j.startSlot, j.endSlot, j.priority],
    );
    return Number(jobId);
  });
}

module.exports = { enqueue, integerOption };
