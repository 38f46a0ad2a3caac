'use strict';
// Old Faithful-layout archives from a description of blocks, written by the native
// writer (the same encodings Jetstreamer reads), so tests and mirrors need no network.

const native = require('../index.js');

/**
 * Writes `spec` (an object or its JSON text) under `dir` as `N/epoch-N.car` and
 * `N/epoch-N-slot-ranges.raw` for every epoch its blocks touch.
 */
async function writeArchive(spec, dir) {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('dir must be a non-empty path');
  const json = typeof spec === 'string' ? spec : JSON.stringify(spec);
  if (json === undefined) throw new TypeError('spec must be an object or JSON text');
  return native.writeArchiveJson(json, dir);
}

module.exports = { writeArchive };
