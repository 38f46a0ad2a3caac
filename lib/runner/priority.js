'use strict';
// A chunk's priority is the highest among the jobs waiting on it. When jobs end early
// (cancelled, failed), their chunks fall back to what the remaining jobs asked for.

/** Inside a transaction, after `jobIds` have left the active states. */
async function repriceChunksOf(client, s, jobIds) {
  await client.query(
    `UPDATE ${s}.chunks c SET priority = COALESCE((
       SELECT max(j.priority) FROM ${s}.subscriptions sub JOIN ${s}.jobs j ON j.id = sub.job_id
       WHERE sub.chunk_id = c.id AND j.status IN ('pending', 'running')), c.priority)
     WHERE c.id IN (SELECT chunk_id FROM ${s}.subscriptions WHERE job_id = ANY($1))`,
    [jobIds],
  );
}

module.exports = { repriceChunksOf };
