'use strict';
// After `done` settles nothing of the job keeps Node's event loop alive: a plain script
// that never calls process.exit() ends by itself.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { after, before, test } = require('node:test');

const { PROGRAM, archiveHost, mixedArchive } = require('./fixtures');

let host;
let archive;
before(async () => {
  host = await archiveHost();
  archive = mixedArchive({ seed: 9, epoch: 730, slotsPerSide: 40 });
  await host.write(archive.spec);
});
after(() => host.close());

const script = (options) => `
  const { startBackfill } = require(${JSON.stringify(path.resolve(__dirname, '..', 'lib'))});
  let transactions = 0;
  const job = startBackfill(${JSON.stringify(options)}, async (batch) => { transactions += batch.transactions.length; });
  job.done.then((summary) => console.log(JSON.stringify({ transactions, cancelled: summary.cancelled })));
`;

for (const cancel of [false, true]) {
  test(`a script exits on its own after ${cancel ? 'a cancelled' : 'a finished'} job`, async () => {
    const options = { programIds: [PROGRAM], startSlot: archive.startSlot, endSlot: archive.endSlot, archiveUrl: host.url, threads: 2 };
    const source = script(options) + (cancel ? 'job.cancel();' : '');
    // Asynchronous: the archive server the child reads from lives in this process.
    const stdout = await new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', source], { encoding: 'utf8', timeout: 30_000 }, (error, out, stderr) => {
        if (error) reject(new Error(`the script did not exit cleanly by itself (${error.signal || error.code}): ${stderr}`));
        else resolve(out);
      });
    });
    const result = JSON.parse(stdout.trim());
    assert.equal(result.cancelled, cancel);
    if (!cancel) assert.ok(result.transactions > 0);
  });
}
