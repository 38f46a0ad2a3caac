'use strict';
// `import` gets every name `require` gets, so ESM users see the whole API.

const assert = require('node:assert/strict');
const { test } = require('node:test');

test('the ES module entry exports exactly the CommonJS entry', async () => {
  const cjs = require('../lib');
  const esm = await import('../lib/index.mjs');
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), Object.keys(cjs).sort());
  for (const name of Object.keys(cjs)) assert.equal(esm[name], cjs[name], name);
  assert.equal(esm.default, cjs);
});
