'use strict';
// The runner's tables. Jobs are what the backend asks for; chunks are fixed slot windows of
// one program (aligned to chunkSlots, so jobs over the same program share them: one stream,
// many subscribers); subscriptions hold each job's own progress through a chunk.

const { transaction } = require('./transaction');

const SCHEMA_VERSION = 1;
// Serialises concurrent migrations from several workers starting at once.
const MIGRATION_LOCK = 0x75686f62; // "uhob"

function quoteIdent(name) {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new TypeError(`schema must be a plain SQL identifier, got ${JSON.stringify(name)}`);
  }
  return `"${name}"`;
}

function statements(schema) {
  const s = quoteIdent(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.schema_version (
       version integer PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.jobs (
       id bigserial PRIMARY KEY,
       program_id text NOT NULL,
       start_slot bigint NOT NULL,
       end_slot bigint NOT NULL CHECK (end_slot >= start_slot),
       idls jsonb NOT NULL DEFAULT '[]',
       enabled_events text[],
       target jsonb NOT NULL,
       priority integer NOT NULL DEFAULT 0,
       max_retries integer NOT NULL DEFAULT 3,
       chunk_slots bigint NOT NULL,
       status text NOT NULL DEFAULT 'pending'
         CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
       error text,
       events_written bigint NOT NULL DEFAULT 0,
       decode_failures jsonb NOT NULL DEFAULT '[]',
       created_at timestamptz NOT NULL DEFAULT now(),
       started_at timestamptz,
       completed_at timestamptz,
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE IF NOT EXISTS ${s}.chunks (
       id bigserial PRIMARY KEY,
       program_id text NOT NULL,
       start_slot bigint NOT NULL,
       end_slot bigint NOT NULL CHECK (end_slot >= start_slot),
       status text NOT NULL DEFAULT 'pending'
         CHECK (status IN ('pending', 'running', 'done', 'failed')),
       priority integer NOT NULL DEFAULT 0,
       attempts integer NOT NULL DEFAULT 0,
       next_attempt_at timestamptz NOT NULL DEFAULT now(),
       lease_owner text,
       lease_expires_at timestamptz,
       completed_ranges jsonb NOT NULL DEFAULT '[]',
       events_written bigint NOT NULL DEFAULT 0,
       last_error text,
       started_at timestamptz,
       completed_at timestamptz,
       UNIQUE (program_id, start_slot, end_slot))`,
    `CREATE INDEX IF NOT EXISTS chunks_claimable ON ${s}.chunks (priority DESC, next_attempt_at)
       WHERE status IN ('pending', 'running')`,
    `CREATE TABLE IF NOT EXISTS ${s}.subscriptions (
       job_id bigint NOT NULL REFERENCES ${s}.jobs (id) ON DELETE CASCADE,
       chunk_id bigint NOT NULL REFERENCES ${s}.chunks (id) ON DELETE CASCADE,
       start_slot bigint NOT NULL,
       end_slot bigint NOT NULL,
       completed_ranges jsonb NOT NULL DEFAULT '[]',
       events_written bigint NOT NULL DEFAULT 0,
       done boolean NOT NULL DEFAULT false,
       PRIMARY KEY (job_id, chunk_id))`,
    `CREATE INDEX IF NOT EXISTS subscriptions_by_chunk ON ${s}.subscriptions (chunk_id)`,
  ];
}

/**
 * Creates the runner's tables in `schema` (default `uho_backfill`) if they are missing.
 * Idempotent, and safe to call from several workers at once. Resolves to the schema version.
 */
async function migrate(pool, { schema = 'uho_backfill' } = {}) {
  quoteIdent(schema);
  return transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    for (const statement of statements(schema)) await client.query(statement);
    const { rows } = await client.query(`SELECT max(version) AS version FROM ${quoteIdent(schema)}.schema_version`);
    const current = rows[0].version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`schema ${schema} is at version ${current}, newer than this package's ${SCHEMA_VERSION}: upgrade @uho/backfill`);
    }
    if (current < SCHEMA_VERSION) {
      await client.query(`INSERT INTO ${quoteIdent(schema)}.schema_version (version) VALUES ($1)`, [SCHEMA_VERSION]);
    }
    return SCHEMA_VERSION;
  });
}

module.exports = { migrate, SCHEMA_VERSION, quoteIdent };
