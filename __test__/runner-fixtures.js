'use strict';
// Shared pieces of the runner's tests: a pool on the throwaway cluster, a fresh schema per
// test, demo-program archives, a writer that keeps duplicates (so exactly-once is checked,
// not hidden by ON CONFLICT), and the rows a job must end with, from the generator's events.

const assert = require('node:assert/strict');
const { Pool } = require('pg');
const { migrate } = require('../lib/runner/schema');
const { demoActivity } = require('../lib/demo/activity');
const { archiveHost, canonical } = require('./fixtures');

function testPool() {
  const url = process.env.UHO_TEST_DATABASE_URL;
  assert.ok(url, 'UHO_TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh (npm test does)');
  return new Pool({ connectionString: url, max: 8 });
}

let schemas = 0;
/** A new runner schema, with a `plain_events` table that has no key at all. */
async function freshSchema(pool, name) {
  const schema = `${name}_${process.pid}_${(schemas += 1)}`;
  await migrate(pool, { schema });
  await pool.query(`CREATE TABLE "${schema}".plain_events (job_id bigint, tx_signature text, event_index int, event_name text, slot bigint, data jsonb)`);
  return schema;
}

/** Writer `plain`: every row it is handed, duplicates included. */
function plainWriter(schema) {
  return async (client, events, job) => {
    const { rowCount } = await client.query(
      `INSERT INTO "${schema}".plain_events (job_id, tx_signature, event_index, event_name, slot, data)
       SELECT $2, "txSignature", "eventIndex", "eventName", slot, data
       FROM json_to_recordset($1::json) AS e("txSignature" text, "eventIndex" int, "eventName" text, slot bigint, data jsonb)`,
      [JSON.stringify(events), job.id],
    );
    return rowCount;
  };
}

const rowKey = (r) => `${r.txSignature}#${r.eventIndex} ${r.eventName}@${r.slot} ${canonical(r.data)}`;

/** The generator's events a job over `range` with `enabledEvents` must write, as sorted keys. */
function expectedRows(events, [first, last], enabledEvents = null) {
  return events
    .filter((e) => e.slot >= first && e.slot <= last && (!enabledEvents || enabledEvents.includes(e.eventName)))
    .map(rowKey)
    .sort();
}

/** Rows a job wrote to the keyless writer table, duplicates kept, as sorted keys. */
async function plainRows(pool, schema, jobId) {
  const { rows } = await pool.query(
    `SELECT tx_signature AS "txSignature", event_index AS "eventIndex", event_name AS "eventName", slot::float8 AS slot, data
     FROM "${schema}".plain_events WHERE job_id = $1`,
    [jobId],
  );
  return rows.map(rowKey).sort();
}

/** Rows of a target schema's `events` table, as sorted keys. */
async function tableRows(pool, schema) {
  const { rows } = await pool.query(
    `SELECT tx_signature AS "txSignature", event_index AS "eventIndex", event_name AS "eventName", slot::float8 AS slot, data FROM "${schema}".events`,
  );
  return rows.map(rowKey).sort();
}

/** A demo-program archive served by this process's archive host, on its own epochs. */
async function demoArchive(options) {
  const host = await archiveHost();
  const activity = demoActivity(options);
  await host.write(activity.spec);
  return { host, ...activity, idls: [{ programId: activity.programId, idl: activity.idl }] };
}

module.exports = { testPool, freshSchema, plainWriter, expectedRows, plainRows, tableRows, demoArchive };
