'use strict';
// The README's quick start is run as written, so the first thing a user tries keeps working.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

function example(name) {
  const marker = readme.indexOf(`<!-- readme-example: ${name}`);
  assert.notEqual(marker, -1, `README has no example named ${name}`);
  const match = /```js\n([\s\S]*?)```/.exec(readme.slice(marker));
  return match[1];
}

test('the local-archive quick start runs and prints the matched transaction', async () => {
  // Inside the package folder, so that require('@uho/backfill') resolves to this checkout.
  const file = path.join(__dirname, '.readme-example.tmp.js');
  fs.writeFileSync(file, example('local-archive'));
  try {
    const stdout = await new Promise((resolve, reject) => {
      execFile(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 }, (error, out, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(out)));
    });
    assert.match(stdout, /^345600001 \w{64,88} 2 log lines$/m);
    assert.match(stdout, /matched 1 completed \[\[345600000,345600010\]\]/);
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('the backend example runs a job through the runner into its own table', async () => {
  const databaseUrl = process.env.UHO_TEST_DATABASE_URL;
  assert.ok(databaseUrl, 'UHO_TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh (npm test does)');
  const { demoActivity } = require('../lib/demo/activity');
  const { archiveHost, tempDir } = require('./fixtures');
  const host = await archiveHost();
  const activity = demoActivity({ seed: 41, epoch: 670, boundaries: 1, width: 100 });
  await host.write(activity.spec);
  const scratch = await tempDir();
  const idlFile = path.join(scratch, 'idl.json');
  fs.writeFileSync(idlFile, JSON.stringify(activity.idl));
  const file = path.join(__dirname, '.readme-backend.tmp.js');
  fs.writeFileSync(file, example('backend'));
  try {
    const stdout = await new Promise((resolve, reject) => {
      execFile(process.execPath, [file, idlFile, String(activity.startSlot), String(activity.endSlot)], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, DATABASE_URL: databaseUrl, BACKFILL_ARCHIVE_URL: host.url },
      }, (error, out, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(out)));
    });
    assert.match(stdout, new RegExp(`^job \\d+ completed: ${activity.events.length} events, frontier slot ${activity.endSlot}$`, 'm'));
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
    await host.close();
  }
});
