'use strict';
// `run --out DIR`: three NDJSON files and a checkpoint. Each batch is appended and flushed to
// disk, and only then is the checkpoint (completed ranges, each file's length) replaced by
// write-then-rename. A rerun truncates every file to its checkpointed length and skips the
// completed ranges, so a crash at any instant costs neither a line nor a duplicate.

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { UsageError } = require('./args');

const FILES = { transactions: 'transactions.ndjson', events: 'events.ndjson', instructions: 'instructions.ndjson' };
const CHECKPOINT = 'checkpoint.json';
const VERSION = 1;

/** What makes two runs the same job: resuming under different options would mix outputs. */
function fingerprint(job) {
  const idls = job.idls.map(({ programId, idl, fromSlot, toSlot }) => [programId, fromSlot ?? null, toSlot ?? null, crypto.createHash('sha256').update(JSON.stringify(idl)).digest('hex')]);
  return crypto.createHash('sha256').update(JSON.stringify({
    programIds: [...job.programIds].sort(), startSlot: job.startSlot, endSlot: job.endSlot, match: job.match, includeFailed: job.includeFailed, idls,
  })).digest('hex');
}

class OutDir {
  static async open(dir, job) {
    await fs.promises.mkdir(dir, { recursive: true });
    const id = fingerprint(job);
    let saved = null;
    try {
      saved = JSON.parse(await fs.promises.readFile(path.join(dir, CHECKPOINT), 'utf8'));
    } catch (error) {
      if (error.code !== 'ENOENT') throw new Error(`${path.join(dir, CHECKPOINT)} is unreadable (${error.message}); delete it to start over`);
    }
    if (saved && saved.job !== id) {
      throw new UsageError(`--out ${dir} holds the checkpoint of a different job (other programs, range, filters or IDLs); use another --out or delete ${CHECKPOINT} there`);
    }
    const lengths = saved?.lengths ?? { transactions: 0, events: 0, instructions: 0 };
    const handles = {};
    for (const [key, name] of Object.entries(FILES)) {
      const file = path.join(dir, name);
      handles[key] = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
      // Lines written after the last checkpoint are written again by this run.
      await handles[key].truncate(lengths[key]);
    }
    const out = new OutDir(dir, id, handles, { ...lengths }, saved?.counts ?? { transactions: 0, events: 0, instructions: 0 }, saved?.completedRanges ?? []);
    await out.saveCheckpoint();
    return out;
  }

  constructor(dir, id, handles, lengths, counts, completedRanges) {
    this.dir = dir;
    this.id = id;
    this.handles = handles;
    this.lengths = lengths;
    this.counts = counts;
    this.completedRanges = completedRanges;
  }

  async append(batch) {
    const lines = { transactions: batch.transactions, events: batch.events, instructions: batch.instructions };
    await Promise.all(Object.entries(lines).map(async ([key, items]) => {
      if (items.length === 0) return;
      const text = Buffer.from(`${items.map((item) => JSON.stringify(item)).join('\n')}\n`);
      const handle = this.handles[key];
      let offset = 0;
      while (offset < text.length) {
        const { bytesWritten } = await handle.write(text, offset, text.length - offset, this.lengths[key] + offset);
        offset += bytesWritten;
      }
      await handle.datasync();
      this.lengths[key] += text.length;
      this.counts[key] += items.length;
    }));
    this.completedRanges = batch.checkpoint.completedRanges;
    await this.saveCheckpoint();
  }

  async saveCheckpoint() {
    const file = path.join(this.dir, CHECKPOINT);
    const temporary = `${file}.tmp`;
    const body = JSON.stringify({ version: VERSION, job: this.id, completedRanges: this.completedRanges, lengths: this.lengths, counts: this.counts }, null, 1);
    const handle = await fs.promises.open(temporary, 'w');
    try {
      await handle.writeFile(`${body}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, file);
    const directory = await fs.promises.open(this.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async close() {
    await Promise.all(Object.values(this.handles).map((h) => h.close()));
  }
}

module.exports = { OutDir, FILES, CHECKPOINT };
