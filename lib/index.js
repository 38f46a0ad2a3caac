'use strict';

const native = require('../index.js');
const { writeArchive } = require('./archive');
const { serveArchive } = require('./archive-server');
const runner = require('./runner');

module.exports = {
  startBackfill: native.startBackfill,
  BackfillJob: native.BackfillJob,
  writeArchive,
  serveArchive,
  ...runner,
};
