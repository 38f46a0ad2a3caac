'use strict';
// The `uho-backfill` command, spawned for real: the demo, exact resume after SIGKILL and
// Ctrl-C, argument errors, JSON output, and help texts that match the README.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');

const { demoActivity } = require('../lib/demo/activity');
const { archiveHost, canonical, freePort, prng, tempDir } = require('./fixtures');

const CLI = path.join(__dirname, '..', 'lib', 'cli', 'main.js');
const FILES = ['transactions.ndjson', 'events.ndjson', 'instructions.ndjson'];

let host;
let activity;
let idlFile;
let scratch;

before(async () => {
  host = await archiveHost();
  activity = demoActivity({ seed: 31, epoch: 660, boundaries: 1, width: 1000 });
  await host.write(activity.spec);
  scratch = await tempDir('uho-backfill-cli-');
  idlFile = path.join(scratch, 'demo.idl.json');
  fs.writeFileSync(idlFile, JSON.stringify(activity.idl));
});
after(async () => {
  await host.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** Spawns the CLI; resolves { code, signal, stdout, stderr } when it exits. */
function cli(args, { cwd = scratch, onSpawn } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  onSpawn?.(child);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

function runArgs(out, extra = []) {
  return ['run', '--program', activity.programId, '--slots', `${activity.startSlot}:${activity.endSlot}`, '--idl', idlFile,
    '--archive-url', host.url, '--out', out, '--threads', '2', '--batch-size', '10', ...extra];
}

function lines(dir, file) {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), `${file} ends in a torn line`);
  const all = text.split('\n').filter(Boolean);
  for (const line of all) JSON.parse(line);
  return all;
}

let reference;
async function referenceRun() {
  if (!reference) {
    const dir = path.join(scratch, 'reference');
    const result = await cli(runArgs(dir));
    assert.equal(result.code, 0, result.stderr);
    reference = Object.fromEntries(FILES.map((f) => [f, lines(dir, f).sort()]));
    const events = reference['events.ndjson'].map((l) => JSON.parse(l));
    assert.equal(events.length, activity.events.length, 'the uninterrupted run finds every generated event');
    assert.deepEqual(new Set(events.map((e) => `${e.txSignature}#${e.eventIndex}`)), new Set(activity.events.map((e) => `${e.txSignature}#${e.eventIndex}`)));
  }
  return reference;
}

function assertSameAsReference(dir, ref) {
  for (const file of FILES) {
    const got = lines(dir, file);
    assert.equal(new Set(got).size, got.length, `${file} has duplicate lines`);
    assert.deepEqual(got.sort(), ref[file], `${file} differs from the uninterrupted run`);
  }
}

test('demo runs offline from an empty folder and finds every event it generated', async () => {
  const cwd = await tempDir('uho-backfill-demo-');
  try {
    const { code, stderr } = await cli(['demo'], { cwd });
    assert.equal(code, 0, stderr);
    const dir = path.join(cwd, 'uho-backfill-demo');
    const expected = demoActivity();
    const events = lines(dir, 'events.ndjson').map((l) => JSON.parse(l));
    const key = (e) => `${e.txSignature}#${e.eventIndex} ${e.eventName} ${canonical(e.data)}`;
    assert.deepEqual(events.map(key).sort(), expected.events.map(key).sort());
    assert.ok(events.some((e) => e.source === 'log') && events.some((e) => e.source === 'cpi'));
    assert.match(stderr, /all found/);
    assert.ok(fs.existsSync(path.join(dir, 'checkpoint.json')));
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});

test('run --out killed with SIGKILL at random moments resumes to exactly the uninterrupted files', { timeout: 600_000 }, async () => {
  const ref = await referenceRun();
  const random = prng(4242);
  let kills = 0;
  for (let round = 0; kills < 12 && round < 6; round += 1) {
    const dir = path.join(scratch, `killed-${round}`);
    for (;;) {
      const delay = 150 + Math.floor(random() * 900);
      let timer;
      const result = await cli(runArgs(dir), { onSpawn: (child) => { timer = setTimeout(() => child.kill('SIGKILL'), delay); } });
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') {
        kills += 1;
        continue;
      }
      assert.equal(result.code, 0, result.stderr);
      break;
    }
    assertSameAsReference(dir, ref);
  }
  assert.ok(kills >= 10, `only ${kills} kills landed before a run finished`);
});

test('Ctrl-C stops with exit 130 and says how to resume; the rerun completes the same files', async () => {
  const ref = await referenceRun();
  const dir = path.join(scratch, 'interrupted');
  const first = await cli(runArgs(dir, ['--json', '--progress-interval', '50']), {
    onSpawn: (child) => {
      // Interrupt once a batch is checkpointed, so the rerun has something to resume from.
      const poll = setInterval(() => {
        try {
          if (JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).completedRanges.length > 0) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        } catch {
          // not written yet
        }
      }, 5);
      child.on('exit', () => clearInterval(poll));
    },
  });
  assert.equal(first.code, 130, first.stderr);
  assert.match(first.stderr, /Run the same command to resume/);
  const summary = JSON.parse(first.stdout.trim().split('\n').at(-1));
  assert.equal(summary.status, 'interrupted');
  const second = await cli(runArgs(dir));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Resuming/);
  assertSameAsReference(dir, ref);
  const third = await cli(runArgs(dir));
  assert.equal(third.code, 0);
  assert.match(third.stderr, /Already complete/);
});

test('without a terminal, progress and summary are JSON lines', async () => {
  const dir = path.join(scratch, 'json');
  const { code, stdout, stderr } = await cli(runArgs(dir, ['--progress-interval', '20']));
  assert.equal(code, 0, stderr);
  const records = stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(records.length >= 2);
  assert.ok(records.slice(0, -1).every((r) => r.type === 'progress' && Number.isInteger(r.slotsTotal)));
  const summary = records.at(-1);
  assert.equal(summary.type, 'summary');
  assert.equal(summary.status, 'completed');
  assert.equal(summary.events, activity.events.length);
});

test('bad arguments exit with code 2 and name the flag', async () => {
  const program = activity.programId;
  const cases = [
    [['run', '--slots', '1:2'], /--program is required/],
    [['run', '--program', 'abc', '--slots', '1:2'], /--program must be a base58 program id/],
    [['run', '--program', program], /--slots A:B or --epochs/],
    [['run', '--program', program, '--slots', '9:2'], /--slots: first slot 9 is after last slot 2/],
    [['run', '--program', program, '--epochs', 'x'], /--epochs must be EPOCH or FIRST-LAST/],
    [['run', '--program', program, '--slots', '1:2', '--threads', '0'], /--threads must be an integer >= 1/],
    [['run', '--program', program, '--slots', '1:2', '--match', 'touches'], /--match must be one of invokes, mentions/],
    [['run', '--program', program, '--slots', '1:2', '--idl', 'missing.json'], /--idl missing.json: no such file/],
    [['run', '--program', program, '--slots', '1:2', '--out', 'a', '--pg', 'postgres://x'], /--out DIR or --pg URL/],
    [['run', '--program', program, '--slots', '1:2', '--colour'], /'--colour'/],
    [['worker'], /--pg \(or DATABASE_URL\) is required/],
    [['serve-archive', '--port', 'x', '.'], /--port must be an integer/],
    [['make-archive', 'only-one'], /SPEC.json and DIR/],
    [['launch'], /unknown command 'launch'/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await cli(args);
    assert.equal(code, 2, `${args.join(' ')}: exit ${code}\n${stderr}`);
    assert.match(stderr, pattern, args.join(' '));
  }
});

test('an unreachable archive fails with exit 1 and a clear message within the retry budget', async () => {
  const port = await freePort();
  const dir = path.join(scratch, 'unreachable');
  const { code, stderr } = await cli(['run', '--program', activity.programId, '--slots', '345600010:345600020', '--archive-url', `http://127.0.0.1:${port}/`, '--retries', '2', '--out', dir]);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /ERR_BACKFILL_ARCHIVE/);
  assert.match(stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.match(stderr, /2 attempt/);
});

test("every command's --help is in the README, word for word", async () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  for (const command of [[], ['demo'], ['run'], ['worker'], ['make-archive'], ['serve-archive']]) {
    const { code, stdout } = await cli([...command, '--help']);
    assert.equal(code, 0);
    assert.ok(stdout.includes('Usage: uho-backfill'));
    assert.ok(readme.includes(stdout), `README lacks the current help of '${command.join(' ') || 'uho-backfill'}'`);
  }
});

test('run --pg enqueues in the runner, works the job in-process, and a rerun resumes the unfinished job', { timeout: 120_000 }, async () => {
  const url = process.env.UHO_TEST_DATABASE_URL;
  assert.ok(url, 'UHO_TEST_DATABASE_URL is not set: run the tests through scripts/with-postgres.sh (npm test does)');
  const target = `cli_pg_${process.pid}`;
  const args = ['run', '--program', activity.programId, '--slots', `${activity.startSlot}:${activity.endSlot}`, '--idl', idlFile,
    '--archive-url', host.url, '--pg', url, '--target-schema', target, '--batch-size', '10', '--progress-interval', '20'];
  // Interrupt as soon as the job has written something, then run the same command again.
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url });
  try {
    const first = await cli(args, {
      onSpawn: (child) => {
        const poll = setInterval(async () => {
          const { rows } = await pool.query("SELECT events_written FROM uho_backfill.jobs WHERE target = $1 AND status = 'running'", [JSON.stringify({ schema: target })]).catch(() => ({ rows: [] }));
          if (rows[0] && Number(rows[0].events_written) > 0) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    assert.equal(first.code, 130, first.stderr);
    assert.match(first.stderr, /Enqueued job (\d+)/);
    const jobId = /Enqueued job (\d+)/.exec(first.stderr)[1];
    const second = await cli(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`Resuming job ${jobId} `));
    const summary = JSON.parse(second.stdout.trim().split('\n').at(-1));
    assert.equal(summary.type, 'summary');
    assert.equal(summary.status, 'completed');
    const { rows } = await pool.query(`SELECT tx_signature, event_index FROM "${target}".events`);
    assert.deepEqual(new Set(rows.map((r) => `${r.tx_signature}#${r.event_index}`)), new Set(activity.events.map((e) => `${e.txSignature}#${e.eventIndex}`)));
    assert.equal(rows.length, activity.events.length);
    const { rows: [job] } = await pool.query('SELECT status, events_written FROM uho_backfill.jobs WHERE id = $1', [jobId]);
    assert.deepEqual({ status: job.status, events: Number(job.events_written) }, { status: 'completed', events: activity.events.length });
  } finally {
    await pool.end();
  }
});

test('run --metrics-port serves the metrics while it runs', async () => {
  const port = await freePort();
  const dir = path.join(scratch, 'metrics');
  let scraped = null;
  const result = await cli(runArgs(dir, ['--metrics-port', String(port)]), {
    onSpawn: (child) => {
      const poll = setInterval(async () => {
        try {
          const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          if (/uho_backfill_events_written_total\{program_id="\w+"\} [1-9]/.test(text)) {
            scraped = text;
            clearInterval(poll);
          }
        } catch {
          // not listening yet, or already gone
        }
      }, 10);
      child.on('exit', () => clearInterval(poll));
    },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(scraped, 'no scrape saw events written');
  assert.match(scraped, /^uho_backfill_jobs_total\{status="running"\} 1$/m);
  assert.match(scraped, /^uho_backfill_throughput_tps\{job_id="cli"\} \d/m);
});
