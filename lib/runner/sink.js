'use strict';
// Where a subscriber's events go, inside the runner's batch transaction: the `events` table
// of a target schema, or a writer function the worker was given (Uho's EventWriter, say).

const { quoteIdent } = require('./schema');
const { transaction } = require('./transaction');

// Two workers creating the same table at once would race in the catalog.
const TABLE_LOCK = 0x75686f65; // "uhoe"

function eventsTable(schema) {
  const s = quoteIdent(schema);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.events (
       program_id text NOT NULL,
       event_name text NOT NULL,
       tx_signature text NOT NULL,
       slot bigint NOT NULL,
       block_time timestamptz,
       ix_index integer NOT NULL,
       inner_ix_index integer,
       event_index integer NOT NULL,
       data jsonb NOT NULL,
       PRIMARY KEY (tx_signature, event_index))`,
    `CREATE INDEX IF NOT EXISTS events_by_name_slot ON ${s}.events (event_name, slot)`,
  ];
}

/** Creates `schema.events` if it is missing; once per pool and schema. */
async function ensureEventsTable(pool, schema, created) {
  if (created.has(schema)) return;
  await transaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [TABLE_LOCK]);
    for (const statement of eventsTable(schema)) await client.query(statement);
  });
  created.add(schema);
}

/**
 * One statement for the whole batch: the events travel as one JSON text that Postgres
 * unpacks, and rows already present (another job into the same schema) are left alone.
 * Resolves to the number of rows written.
 */
async function insertEvents(client, schema, events) {
  if (events.length === 0) return 0;
  const s = quoteIdent(schema);
  const { rowCount } = await client.query(
    `INSERT INTO ${s}.events (program_id, event_name, tx_signature, slot, block_time, ix_index, inner_ix_index, event_index, data)
     SELECT "programId", "eventName", "txSignature", slot, to_timestamp("blockTime"), "ixIndex", "innerIxIndex", "eventIndex", data
     FROM json_to_recordset($1::json) AS e("programId" text, "eventName" text, "txSignature" text, slot bigint,
       "blockTime" bigint, "ixIndex" integer, "innerIxIndex" integer, "eventIndex" integer, data jsonb)
     ON CONFLICT (tx_signature, event_index) DO NOTHING`,
    [JSON.stringify(events)],
  );
  return rowCount;
}

/**
 * Writes `events` for `job` to its target. A writer function gets the transaction's client
 * and may resolve to the number of rows it wrote (default: all of them).
 */
async function writeEvents(client, job, events, writers) {
  if (job.target.schema !== undefined) return insertEvents(client, job.target.schema, events);
  const writer = writers[job.target.writer];
  if (typeof writer !== 'function') throw new Error(`job ${job.id} targets writer '${job.target.writer}', which this worker was not given`);
  if (events.length === 0) return 0;
  const view = { id: job.id, programId: job.programId, target: job.target, enabledEvents: job.enabledEvents ? [...job.enabledEvents] : null, range: job.range };
  const written = await writer(client, events, view);
  return Number.isInteger(written) ? written : events.length;
}

module.exports = { ensureEventsTable, writeEvents };
