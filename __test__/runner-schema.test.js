'use strict';
// The runner's migration against a real PostgreSQL (`scripts/with-postgres.sh` provides one
// and sets UHO_TEST_DATABASE_URL; .ci/run runs the tests under it).

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { Pool } = require('pg');

const { migrate, SCHEMA_VERSION } = require('../lib/runner/schema');

const url = process.env.UHO_TEST_DATABASE_URL;
let pool;

before(() => {
  assert.ok(url, 'UHO_TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh (npm test does)');
  pool = new Pool({ connectionString: url, max: 4 });
});
after(() => pool?.end());

test('migrate creates the tables once, however many workers run it at the same time', async () => {
  const schema = `test_${process.pid}`;
  const versions = await Promise.all([1, 2, 3].map(() => migrate(pool, { schema })));
  assert.deepEqual(versions, [SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]);
  assert.equal(await migrate(pool, { schema }), SCHEMA_VERSION);
  const { rows } = await pool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema]);
  assert.deepEqual(rows.map((r) => r.table_name), ['chunks', 'jobs', 'schema_version', 'subscriptions']);
  const { rows: applied } = await pool.query(`SELECT version FROM "${schema}".schema_version`);
  assert.deepEqual(applied.map((r) => r.version), [SCHEMA_VERSION]);
});

test('a newer schema than the package refuses to run, and bad schema names are rejected', async () => {
  const schema = `newer_${process.pid}`;
  await migrate(pool, { schema });
  await pool.query(`INSERT INTO "${schema}".schema_version (version) VALUES ($1)`, [SCHEMA_VERSION + 1]);
  await assert.rejects(migrate(pool, { schema }), /newer than this package/);
  await assert.rejects(migrate(pool, { schema: 'x"; DROP TABLE y; --' }), TypeError);
});
