// ES module entry: the CommonJS entry's names as real named exports (Node's CJS detection
// cannot see through the spread in lib/index.js).
import backfill from './index.js';

export const {
  startBackfill, BackfillJob, writeArchive, serveArchive,
  migrate, SCHEMA_VERSION, enqueue, BackfillWorker, getStatus, cancelJob, waitForJob, runnerMetrics,
} = backfill;
export default backfill;
