'use strict';
// A chunk's priority is the highest among the jobs waiting on it. When jobs end early
// (cancelled, failed), their chunks fall back to what the remaining jobs asked for.

/**
 * After `jobIds` have left the active states, in a statement of its own: it locks chunk rows
 * only, so it cannot deadlock with a batch transaction (which locks a chunk, then its jobs).
 */
async function repriceChunksOf(db, s, jobIds) {
  await db.query(
    `UPDATE ${s}.chunks c SET priority = COALESCE((
       SELECT max(j.priority) FROM ${s}.subscriptions sub JOIN ${s}.jobs j ON j.id = sub.job_id
       WHERE sub.chunk_id = c.id AND j.status IN ('pending', 'running')), c.priority)
     WHERE c.id IN (SELECT chunk_id FROM ${s}.subscriptions WHERE job_id = ANY($1))`,
    [jobIds],
  );
}

module.exports = { repriceChunksOf };
