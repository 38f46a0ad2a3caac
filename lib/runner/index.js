'use strict';
// The Postgres backfill runner: enqueue jobs from the backend, run workers anywhere.

const { migrate, SCHEMA_VERSION } = require('./schema');
const { enqueue } = require('./enqueue');
const { BackfillWorker } = require('./worker');
const { getStatus, cancelJob, waitForJob } = require('./status');
const { runnerMetrics } = require('./metrics');

module.exports = { migrate, SCHEMA_VERSION, enqueue, BackfillWorker, getStatus, cancelJob, waitForJob, runnerMetrics };
