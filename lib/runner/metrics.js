'use strict';
// The seed's metric names (§11.3) on a prom-client registry the caller chooses. One set per
// registry, so several workers in a process share their counters instead of clashing.

const client = require('prom-client');

const byRegistry = new WeakMap();

function runnerMetrics(registry = client.register) {
  let metrics = byRegistry.get(registry);
  if (metrics) return metrics;
  const registers = [registry];
  metrics = {
    jobs: new client.Counter({
      name: 'uho_backfill_jobs_total',
      help: 'Backfill jobs this process moved to a status (running, completed, failed, cancelled)',
      labelNames: ['status'],
      registers,
    }),
    eventsWritten: new client.Counter({
      name: 'uho_backfill_events_written_total',
      help: 'Events committed to their targets, with their checkpoints',
      labelNames: ['program_id'],
      registers,
    }),
    throughput: new client.Gauge({
      name: 'uho_backfill_throughput_tps',
      help: 'Transactions scanned per second by the running chunk of each job',
      labelNames: ['job_id'],
      registers,
    }),
    decodeErrors: new client.Counter({
      name: 'uho_backfill_decode_errors_total',
      help: 'Events and instructions the IDLs could not decode',
      labelNames: ['program_id'],
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

module.exports = { runnerMetrics };
