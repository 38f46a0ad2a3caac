'use strict';
// `uho-backfill run`: one backfill from this process, into files (--out) or through the
// Postgres runner (--pg), with progress, Ctrl-C that keeps the checkpoint, and exit codes
// a script can act on.

const path = require('node:path');
const promClient = require('prom-client');

const { startBackfill } = require('../../index.js');
const { UsageError, parse, integer, programId, slotRange, epochRange, idlFlag, oneOf } = require('./args');
const { OutDir } = require('./out-dir');
const { progressReporter, formatDuration } = require('./progress');
const { serveRoutes, metricsRoute } = require('./http');
const { runnerMetrics } = require('../runner/metrics');
const { quoteIdent } = require('../runner/schema');
const ranges = require('../runner/ranges');

const SLOTS_PER_EPOCH = 432_000;

const HELP = `Usage: uho-backfill run --program ID [--program ID...] (--slots A:B | --epochs E[-F]) [options]

Backfills every transaction that touches the programs, from Old Faithful or a mirror.

Range (one of):
  --slots A:B             inclusive slot range
  --epochs E[-F]          one epoch, or an inclusive range of epochs

Filter and decode:
  --program ID            base58 program id; repeat for several (required)
  --idl FILE[@FROM-TO]    Anchor IDL to decode events and instructions with; repeat
                          for several programs or versions (FROM-TO: slots it is valid for)
  --match MODE            invokes (default): the program runs; mentions: its key appears
  --include-failed        deliver failed transactions too

Source:
  --threads N             firehose threads (default: Jetstreamer's heuristic)
  --archive-url URL       Old Faithful mirror (default: https://files.old-faithful.net)
  --retries N             attempts per failing slot before the run fails (default 8)

Sink (one of):
  --out DIR               transactions.ndjson, events.ndjson, instructions.ndjson and
                          checkpoint.json in DIR (default ./uho-backfill-out); rerunning
                          the same command resumes exactly where the last run stopped
  --pg URL                enqueue the job in the Postgres runner and work it in this
                          process until it ends; events go to <target-schema>.events
  --target-schema NAME    with --pg: schema of the events table (default public)

Output:
  --json                  JSON progress lines and a JSON summary on stdout (always when
                          stderr is not a terminal)
  --progress-interval MS  how often progress is reported (default 5000 as JSON, 200 as a bar)
  --batch-size N          transactions per batch, so per checkpoint (default 1000)
  --metrics-port P        serve Prometheus metrics on http://127.0.0.1:P/metrics
  -h, --help              this help

Ctrl-C stops after the batch in flight and keeps the checkpoint; Ctrl-C twice exits at once.
Exit codes: 0 done, 1 failed, 2 bad arguments, 130 interrupted.
`;

const OPTIONS = {
  program: { type: 'string', multiple: true },
  slots: { type: 'string' },
  epochs: { type: 'string' },
  idl: { type: 'string', multiple: true },
  match: { type: 'string' },
  'include-failed': { type: 'boolean' },
  threads: { type: 'string' },
  'archive-url': { type: 'string' },
  out: { type: 'string' },
  pg: { type: 'string' },
  'target-schema': { type: 'string' },
  json: { type: 'boolean' },
  'metrics-port': { type: 'string' },
  'batch-size': { type: 'string' },
  'progress-interval': { type: 'string' },
  retries: { type: 'string' },
};

/** The job the arguments describe; UsageError naming the flag when they describe none. */
function parseRun(argv) {
  const { values } = parse(argv, OPTIONS);
  if (values.help) return { help: true };
  if (!values.program?.length) throw new UsageError('--program is required (a base58 program id)');
  const programIds = values.program.map((p) => programId('--program', p));
  if ((values.slots === undefined) === (values.epochs === undefined)) throw new UsageError('give exactly one of --slots A:B or --epochs E[-F]');
  let startSlot;
  let endSlot;
  if (values.slots !== undefined) [startSlot, endSlot] = slotRange('--slots', values.slots);
  else {
    const [first, last] = epochRange('--epochs', values.epochs);
    startSlot = first * SLOTS_PER_EPOCH;
    endSlot = (last + 1) * SLOTS_PER_EPOCH - 1;
  }
  const idls = (values.idl ?? []).map((text) => {
    const parsed = idlFlag('--idl', text);
    if (!parsed.programId) {
      if (programIds.length !== 1) throw new UsageError(`--idl ${parsed.file} names no program address; with several --program, each IDL must carry its "address"`);
      parsed.programId = programIds[0];
    }
    if (!programIds.includes(parsed.programId)) throw new UsageError(`--idl ${parsed.file} is for ${parsed.programId}, which is not a --program`);
    const { file, ...idl } = parsed;
    return idl;
  });
  if (values.out !== undefined && values.pg !== undefined) throw new UsageError('give one of --out DIR or --pg URL, not both');
  if (values.pg !== undefined && !/^postgres(ql)?:\/\//.test(values.pg)) throw new UsageError(`--pg must be a postgres:// URL, got '${values.pg}'`);
  if (values.pg !== undefined && (values.match === 'mentions' || values['include-failed'])) {
    throw new UsageError('--match mentions and --include-failed are not available with --pg: the runner stores the events of transactions that invoke the program and succeeded');
  }
  if (values['target-schema'] !== undefined && values.pg === undefined) throw new UsageError('--target-schema needs --pg');
  if (values['target-schema'] !== undefined) {
    try {
      quoteIdent(values['target-schema']);
    } catch {
      throw new UsageError(`--target-schema must be a plain SQL identifier, got '${values['target-schema']}'`);
    }
  }
  if (values['archive-url'] !== undefined && !/^https?:\/\//.test(values['archive-url'])) throw new UsageError(`--archive-url must be an http(s) URL, got '${values['archive-url']}'`);
  return {
    programIds,
    startSlot,
    endSlot,
    idls,
    match: oneOf('--match', values.match, ['invokes', 'mentions']) ?? 'invokes',
    includeFailed: values['include-failed'] ?? false,
    threads: integer('--threads', values.threads, { min: 1, max: 256 }),
    archiveUrl: values['archive-url'],
    out: values.pg === undefined ? (values.out ?? './uho-backfill-out') : undefined,
    pg: values.pg,
    targetSchema: values['target-schema'] ?? 'public',
    json: values.json ?? false,
    metricsPort: integer('--metrics-port', values['metrics-port'], { min: 1, max: 65535 }),
    batchSize: integer('--batch-size', values['batch-size'], { min: 1 }),
    progressIntervalMs: integer('--progress-interval', values['progress-interval'], { min: 1 }),
    retries: integer('--retries', values.retries, { min: 1, max: 1000 }),
  };
}

/** Progress on this command's streams, in the form --json and the terminal ask for. */
function reporterFor(config, io, sample) {
  return progressReporter({ json: config.json, stream: io.stderr, out: io.stdout, intervalMs: config.progressIntervalMs, sample });
}

/** Ctrl-C once: `onFirst`; twice: exit 130 at once. */
function interruptible(onFirst, io) {
  let count = 0;
  const handler = () => {
    count += 1;
    if (count === 1) {
      io.stderr.write('\nStopping after the batch in flight (Ctrl-C again to quit at once)...\n');
      onFirst();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function withMetrics(config, io, body) {
  if (config.metricsPort === undefined) return body(promClient.register);
  const registry = new promClient.Registry();
  const server = await serveRoutes({ '/metrics': metricsRoute(registry) }, { port: config.metricsPort });
  io.stderr.write(`metrics on ${server.url}metrics\n`);
  try {
    return await body(registry);
  } finally {
    await server.close();
  }
}

async function runToFiles(config, io, registry) {
  const metrics = runnerMetrics(registry);
  const out = await OutDir.open(config.out, config);
  const jobRange = [config.startSlot, config.endSlot];
  const skipRanges = ranges.intersect(out.completedRanges, jobRange);
  const base = { ...out.counts };
  if (ranges.subtract(jobRange, skipRanges).length === 0) {
    await out.close();
    io.stderr.write(`Already complete: ${path.resolve(config.out)} holds the whole range.\n`);
    return 0;
  }
  const resumed = skipRanges.length > 0;
  const options = {
    programIds: config.programIds,
    startSlot: config.startSlot,
    endSlot: config.endSlot,
    match: config.match,
    includeFailed: config.includeFailed,
    idls: config.idls,
    skipRanges,
  };
  for (const key of ['threads', 'archiveUrl', 'batchSize']) if (config[key] !== undefined) options[key] = config[key];
  if (config.retries !== undefined) options.retry = { maxAttempts: config.retries };
  let job;
  const started = Date.now();
  try {
    job = startBackfill(options, async (batch) => {
      await out.append(batch);
      const perProgram = new Map();
      for (const event of batch.events) perProgram.set(event.programId, (perProgram.get(event.programId) ?? 0) + 1);
      for (const [programId, count] of perProgram) metrics.eventsWritten.inc({ program_id: programId }, count);
      metrics.throughput.set({ job_id: 'cli' }, batch.progress.transactionsScanned / Math.max((Date.now() - started) / 1000, 0.001));
    });
  } catch (error) {
    await out.close();
    if (error.code === 'ERR_INVALID_ARG_TYPE' || error.code === 'ERR_OUT_OF_RANGE') throw new UsageError(error.message);
    throw error;
  }
  metrics.jobs.inc({ status: 'running' });
  if (resumed) io.stderr.write(`Resuming: ${ranges.size(skipRanges)} of ${config.endSlot - config.startSlot + 1} slots already done in ${config.out}\n`);
  const reporter = reporterFor(config, io, () => {
    const p = job.progress;
    return {
      slotsProcessed: p.slotsProcessed,
      slotsTotal: p.slotsTotal,
      transactionsScanned: p.transactionsScanned,
      transactionsMatched: p.transactionsMatched,
      events: out.counts.events - base.events,
      slotsPerSecond: p.slotsPerSecond,
      etaMs: p.etaMs,
    };
  });
  const release = interruptible(() => job.cancel(), io);
  let summary;
  try {
    summary = await job.done;
  } catch (error) {
    reporter.stop();
    metrics.jobs.inc({ status: 'failed' });
    io.stderr.write(`error: ${error.code ? `${error.code}: ` : ''}${error.message}\nThe checkpoint in ${config.out} is kept; run the same command to resume.\n`);
    return 1;
  } finally {
    release();
    await out.close();
  }
  reporter.stop();
  const result = {
    status: summary.cancelled ? 'interrupted' : 'completed',
    out: path.resolve(config.out),
    slotsProcessed: summary.slotsProcessed,
    transactionsScanned: summary.transactionsScanned,
    transactionsMatched: summary.transactionsMatched,
    transactions: out.counts.transactions,
    events: out.counts.events,
    instructions: out.counts.instructions,
    decodeFailures: summary.decodeFailures,
    logsTruncated: summary.logsTruncated,
    completedRanges: summary.completedRanges,
    durationMs: summary.durationMs,
  };
  metrics.jobs.inc({ status: summary.cancelled ? 'cancelled' : 'completed' });
  if (summary.cancelled) io.stderr.write(`Interrupted after ${summary.slotsProcessed} slots; the checkpoint is saved. Run the same command to resume.\n`);
  reporter.summary(result, [
    ...(summary.cancelled ? [] : [`Done in ${formatDuration(summary.durationMs)}.`]),
    `  ${out.counts.transactions} transactions, ${out.counts.events} events, ${out.counts.instructions} instructions in ${result.out}`,
    ...summary.decodeFailures.map((f) => `  could not decode ${f.count}x ${f.name} (e.g. ${f.sampleSignatures[0]})`),
  ]);
  return summary.cancelled ? 130 : 0;
}

async function runInPostgres(config, io, registry) {
  const { Pool } = require('pg');
  const { migrate, enqueue, BackfillWorker, waitForJob } = require('../runner');
  const pool = new Pool({ connectionString: config.pg, max: 6 });
  try {
    await migrate(pool);
    const jobIds = [];
    for (const programId of config.programIds) {
      const job = {
        programId,
        startSlot: config.startSlot,
        endSlot: config.endSlot,
        idls: config.idls.filter((i) => i.programId === programId),
        target: { schema: config.targetSchema },
      };
      // The same command again continues its unfinished job instead of starting over.
      const { rows } = await pool.query(
        `SELECT id FROM uho_backfill.jobs WHERE program_id = $1 AND start_slot = $2 AND end_slot = $3 AND target = $4
           AND idls = $5 AND enabled_events IS NULL AND status IN ('pending', 'running') ORDER BY id LIMIT 1`,
        [programId, job.startSlot, job.endSlot, JSON.stringify(job.target), JSON.stringify(job.idls)],
      );
      const id = rows.length ? Number(rows[0].id) : await enqueue(pool, job);
      io.stderr.write(`${rows.length ? 'Resuming' : 'Enqueued'} job ${id} for ${programId}\n`);
      jobIds.push(id);
    }
    const worker = new BackfillWorker({
      pool, threads: config.threads, archiveUrl: config.archiveUrl, batchSize: config.batchSize, registry, concurrency: 2,
      retry: config.retries === undefined ? undefined : { maxAttempts: config.retries },
    });
    worker.on('warning', (error) => io.stderr.write(`warning: ${error.message}\n`));
    // The latest status of each job, as waitForJob polls it.
    const statusById = new Map();
    const reporter = reporterFor(config, io, () => {
      const latest = [...statusById.values()];
      return latest.length > 0 && {
        slotsProcessed: latest.reduce((n, s) => n + s.slotsDone, 0),
        slotsTotal: latest.reduce((n, s) => n + s.slotsTotal, 0),
        transactionsScanned: null,
        transactionsMatched: null,
        events: latest.reduce((n, s) => n + s.eventsWritten, 0),
        slotsPerSecond: latest.reduce((n, s) => n + s.throughput, 0),
        etaMs: Math.max(...latest.map((s) => s.etaMs ?? 0)),
      };
    });
    const stopping = new AbortController();
    const release = interruptible(() => stopping.abort(), io);
    await worker.start();
    let statuses;
    try {
      const onStatus = (status) => statusById.set(status.id, status);
      statuses = await Promise.all(jobIds.map((id) => waitForJob(pool, id, { signal: stopping.signal, onStatus, pollMs: 500 })));
    } catch (error) {
      if (!stopping.signal.aborted) throw error;
    } finally {
      await worker.stop();
      release();
      reporter.stop();
    }
    if (!statuses) {
      io.stderr.write(`Interrupted; jobs ${jobIds.join(', ')} keep their checkpoints in Postgres. Run the same command to resume.\n`);
      return 130;
    }
    const failed = statuses.filter((s) => s.status !== 'completed');
    reporter.summary({ status: failed.length ? 'failed' : 'completed', jobs: statuses }, statuses.map((s) => `  job ${s.id} ${s.status}: ${s.eventsWritten} events into ${config.targetSchema}.events${s.error ? ` (${s.error})` : ''}`));
    return failed.length ? 1 : 0;
  } finally {
    await pool.end();
  }
}

async function run(argv, io) {
  const config = parseRun(argv);
  if (config.help) {
    io.stdout.write(HELP);
    return 0;
  }
  return withMetrics(config, io, (registry) => (config.pg ? runInPostgres(config, io, registry) : runToFiles(config, io, registry)));
}

module.exports = { run, parseRun, HELP };
