'use strict';
// `uho-backfill worker`: the deployable backfill service. It works the Postgres runner's
// queue until SIGTERM (then drains the batch in flight and hands its chunks back), serving
// /health and /metrics. The backend enqueues; any number of these, anywhere, do the work.

const path = require('node:path');
const promClient = require('prom-client');
const { UsageError, parse, integer } = require('./args');
const { serveRoutes, metricsRoute } = require('./http');
const { quoteIdent } = require('../runner/schema');

const HELP = `Usage: uho-backfill worker --pg URL [options]

Works the Postgres runner's queue until SIGTERM or Ctrl-C, then finishes the batch in flight
and hands its chunks back. Serves GET /health and GET /metrics.

  --pg URL                Postgres connection string           (env DATABASE_URL)
  --concurrency N         chunks streamed at once (default 2)  (env BACKFILL_MAX_CONCURRENT_JOBS)
  --threads N             firehose threads per chunk           (env BACKFILL_THREADS)
  --archive-url URL       Old Faithful mirror                  (env BACKFILL_ARCHIVE_URL)
  --port P                HTTP port (default 9464)             (env BACKFILL_PORT)
  --host H                HTTP address (default 127.0.0.1)     (env BACKFILL_HOST)
  --schema NAME           the runner's schema (default uho_backfill) (env BACKFILL_SCHEMA)
  --worker-id ID          name in the leases (default host:pid:random) (env BACKFILL_WORKER_ID)
  --writers MODULE        a module exporting { name: async (client, events, job) => {} }
                          for jobs whose target is { writer: name } (env BACKFILL_WRITERS)
  -h, --help              this help
`;

const OPTIONS = {
  pg: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  'archive-url': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  schema: { type: 'string' },
  'worker-id': { type: 'string' },
  writers: { type: 'string' },
};

const ENV = {
  pg: 'DATABASE_URL',
  concurrency: 'BACKFILL_MAX_CONCURRENT_JOBS',
  threads: 'BACKFILL_THREADS',
  'archive-url': 'BACKFILL_ARCHIVE_URL',
  port: 'BACKFILL_PORT',
  host: 'BACKFILL_HOST',
  schema: 'BACKFILL_SCHEMA',
  'worker-id': 'BACKFILL_WORKER_ID',
  writers: 'BACKFILL_WRITERS',
};

async function worker(argv, io, env = process.env) {
  const { values } = parse(argv, OPTIONS);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const get = (name) => values[name] ?? (env[ENV[name]] || undefined);
  const flag = (name) => (values[name] !== undefined ? `--${name}` : ENV[name]);
  const url = get('pg');
  if (!url) throw new UsageError('--pg (or DATABASE_URL) is required');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`${flag('pg')} must be a postgres:// URL`);
  const concurrency = integer(flag('concurrency'), get('concurrency'), { min: 1, max: 64 });
  const threads = integer(flag('threads'), get('threads'), { min: 1, max: 256 });
  const port = integer(flag('port'), get('port'), { max: 65535 }) ?? 9464;
  if (get('schema') !== undefined) {
    try {
      quoteIdent(get('schema'));
    } catch {
      throw new UsageError(`${flag('schema')} must be a plain SQL identifier, got '${get('schema')}'`);
    }
  }
  let writers = {};
  if (get('writers')) {
    try {
      writers = require(path.resolve(get('writers')));
    } catch (error) {
      throw new UsageError(`${flag('writers')} ${get('writers')}: ${error.message}`);
    }
  }

  const { Pool } = require('pg');
  const { BackfillWorker } = require('../runner');
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  const pool = new Pool({ connectionString: url, max: (concurrency ?? 2) * 2 + 2 });
  const backfill = new BackfillWorker({
    pool, concurrency, threads, archiveUrl: get('archive-url'), schema: get('schema'), workerId: get('worker-id'), writers, registry,
  });
  backfill.on('warning', (error) => io.stderr.write(`warning: ${error.message}\n`));
  backfill.on('chunkFinished', ({ chunkId, outcome, error }) => {
    io.stderr.write(`chunk ${chunkId}: ${outcome}${error ? ` (${error.code ?? ''} ${error.message})` : ''}\n`);
  });
  let status = 'starting';
  const started = Date.now();
  const server = await serveRoutes({
    '/health': async () => ({
      type: 'application/json',
      status: status === 'ok' ? 200 : 503,
      body: JSON.stringify({
        status,
        activeJobs: backfill.activeJobs,
        memoryMb: Math.round(process.memoryUsage().rss / 1048576),
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
      }),
    }),
    '/metrics': metricsRoute(registry),
  }, { port, host: get('host') ?? '127.0.0.1' });
  await backfill.start();
  status = 'ok';
  io.stderr.write(`worker ${backfill.workerId}: concurrency ${backfill.concurrency}, health and metrics on ${server.url}\n`);
  await new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  status = 'stopping';
  io.stderr.write('stopping: finishing the batches in flight and handing chunks back\n');
  await backfill.stop();
  await server.close();
  await pool.end();
  return 0;
}

module.exports = { worker, HELP };
