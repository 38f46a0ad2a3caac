// Types of the package's entry point: the native binding's generated types, plus the
// archive tools written in JS.
export * from '../index';
import type { WrittenEpoch, DecodedEvent, Checkpoint, Progress, DecodeFailures, BackfillOptions } from '../index';

/** One transaction of an archive description, in the shape startBackfill delivers it. */
export interface ArchiveTransaction {
  /** Base58, 64 bytes; derived from the slot and position when absent. */
  signature?: string;
  /** 'legacy' or 0; defaults to 0 when addresses are loaded from lookup tables. */
  version?: 'legacy' | 0;
  header?: { numRequiredSignatures: number; numReadonlySignedAccounts: number; numReadonlyUnsignedAccounts: number };
  /** Static account keys, base58. */
  accountKeys: string[];
  recentBlockhash?: string;
  /** `data` is base58, as in the RPC's json encoding. */
  instructions?: Array<{ programIdIndex: number; accounts?: number[]; data?: string; stackHeight?: number | null }>;
  addressTableLookups?: Array<{ accountKey: string; writableIndexes?: number[]; readonlyIndexes?: number[] }>;
  /** What the lookups resolved to (kept in the metadata, as the runtime does). */
  loadedAddresses?: { writable?: string[]; readonly?: string[] };
  innerInstructions?: Array<{ index: number; instructions: Array<{ programIdIndex: number; accounts?: number[]; data?: string; stackHeight?: number | null }> }>;
  logs?: string[] | null;
  /** null, or a TransactionError in the RPC's JSON form, e.g. `{ InstructionError: [0, { Custom: 1 }] }`. */
  err?: null | string | Record<string, unknown>;
  fee?: number;
  computeUnitsConsumed?: number;
}

export interface ArchiveBlock {
  /** Slots not listed are skipped slots. Slot 0 cannot be streamed by Jetstreamer. */
  slot: number;
  /** Unix seconds; defaults to a clock advancing 400 ms per slot. */
  blockTime?: number;
  parentSlot?: number;
  blockHeight?: number;
  transactions?: ArchiveTransaction[];
}

export interface ArchiveSpec {
  blocks: ArchiveBlock[];
}

/** Writes `N/epoch-N.car` and `N/epoch-N-slot-ranges.raw` under `dir` for every epoch the blocks touch. */
export declare function writeArchive(spec: ArchiveSpec | string, dir: string): Promise<WrittenEpoch[]>;

export interface ArchiveServer {
  /** Base URL with a trailing slash: pass it as `archiveUrl`. */
  url: string;
  port: number;
  stats: { requests: number; bytesSent: number };
  close(): Promise<void>;
}

/** Serves an archive folder over HTTP with Range and HEAD support, on 127.0.0.1 by default. */
export declare function serveArchive(
  dir: string,
  options?: { port?: number; host?: string; fault?: (request: import('node:http').IncomingMessage) => number | undefined },
): Promise<ArchiveServer>;

// ---------------------------------------------------------------------------------------
// The Postgres runner (lib/runner). `pg` and `prom-client` types are structural here so
// that using the package does not require their @types.

/** The subset of a `pg` Pool the runner uses. */
export interface PgPool {
  connect(): Promise<PgClient & { release(error?: Error | boolean): void }>;
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** The subset of a `pg` client a writer function gets: it is inside the runner's transaction. */
export interface PgClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[]; rowCount: number | null }>;
}

export interface RunnerSchemaOptions {
  /** The runner's own schema (default 'uho_backfill'). */
  schema?: string;
}

/** Creates the runner's tables if missing; idempotent and safe to run concurrently. Resolves to the schema version. */
export declare function migrate(pool: PgPool, options?: RunnerSchemaOptions): Promise<number>;
export declare const SCHEMA_VERSION: number;

export interface IdlVersion {
  programId: string;
  idl: object | string;
  fromSlot?: number;
  toSlot?: number;
}

export interface JobSpec {
  /** Base58 program id. */
  programId: string;
  /** Inclusive. */
  startSlot: number;
  /** Inclusive. */
  endSlot: number;
  /** IDLs of `programId` to decode its events with (at least one if any); without them no events are found. */
  idls?: IdlVersion[];
  /** Event names to keep; null or absent keeps every event. */
  enabledEvents?: string[] | null;
  /**
   * Where events go: `{ schema }` for the table `<schema>.events` (created if missing; default
   * `{ schema: 'public' }`), or `{ writer }` for a writer function given to the workers.
   */
  target?: { schema: string } | { writer: string };
  /** Higher runs sooner (default 0). */
  priority?: number;
  /** Retries of a failing chunk before the job fails (default 3). */
  maxRetries?: number;
  /** Chunk grid width in slots (default 100,000); jobs of one program share chunks on it. */
  chunkSlots?: number;
}

/** Adds a job to the queue; resolves to its id. */
export declare function enqueue(pool: PgPool, job: JobSpec, options?: RunnerSchemaOptions): Promise<number>;

/** What a writer function is handed besides the client and the events. */
export interface WriterJob {
  id: number;
  programId: string;
  target: { writer: string };
  enabledEvents: string[] | null;
  /** The job's slots within the chunk being streamed, inclusive. */
  range: [number, number];
}

/**
 * Writes a batch of one job's events inside the runner's transaction (use `client`, not a pool).
 * May resolve to the number of rows written (default: all of them).
 */
export type EventWriter = (client: PgClient, events: DecodedEvent[], job: WriterJob) => Promise<number | void>;

export interface BackfillWorkerOptions {
  pool: PgPool;
  /** The name in the leases (default `host:pid:random`). */
  workerId?: string;
  /** Chunks streamed at once (default 2). */
  concurrency?: number;
  /** Firehose threads per chunk. */
  threads?: number;
  archiveUrl?: string;
  schema?: string;
  /** Writer functions by name, for jobs with `target: { writer }`. */
  writers?: Record<string, EventWriter>;
  /** prom-client Registry for the metrics (default: prom-client's global registry). */
  registry?: unknown;
  /** Lease length; renewed every `pollMs` and with every batch (default 30,000). */
  leaseMs?: number;
  /** Claim, lease-renewal and cancellation poll interval (default 500). */
  pollMs?: number;
  /** First retry delay, doubled per attempt up to `retryMaxMs` (defaults 1,000 and 300,000). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Passed to startBackfill. */
  batchSize?: number;
  retry?: { maxAttempts?: number };
  logLevel?: BackfillOptions['logLevel'];
}

export interface ChunkStarted { chunkId: number; programId: string; startSlot: number; endSlot: number; jobIds: number[] }
export interface ChunkFinished {
  chunkId: number;
  /** done, reopened (a job joined mid-run), retry, failed, cancelled, stopped or leaseLost. */
  outcome: 'done' | 'reopened' | 'retry' | 'failed' | 'cancelled' | 'stopped' | 'leaseLost';
  error?: Error;
}
export interface BatchCommitted { chunkId: number; checkpoint: Checkpoint; progress: Progress; events: number }

export declare class BackfillWorker {
  constructor(options: BackfillWorkerOptions);
  readonly workerId: string;
  readonly concurrency: number;
  readonly activeChunks: number;
  readonly activeJobs: number;
  /** Creates the tables if needed and starts claiming chunks. */
  start(): Promise<void>;
  /** Stops claiming, lets each batch in flight commit, and hands the chunks back. */
  stop(): Promise<void>;
  on(event: 'chunkStarted', listener: (info: ChunkStarted) => void): this;
  on(event: 'chunkFinished', listener: (info: ChunkFinished) => void): this;
  on(event: 'batch', listener: (info: BatchCommitted) => void): this;
  /** Database trouble in the claim loop or the lease ticker; the worker carries on. */
  on(event: 'warning', listener: (error: Error) => void): this;
}

export type JobStatusName = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface JobStatus {
  id: number;
  status: JobStatusName;
  programId: string;
  startSlot: number;
  endSlot: number;
  /** Share of the job's slots committed, 0..1. */
  progress: number;
  /** Highest slot S with every slot from startSlot to S committed; null if none. */
  frontierSlot: number | null;
  slotsDone: number;
  slotsTotal: number;
  eventsWritten: number;
  decodeFailures: DecodeFailures[];
  /** Committed slots per second since the job started. */
  throughput: number;
  etaMs: number | null;
  error: string | null;
  createdAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

/** The job's state for an API (seed §11.1); null if there is no such job. */
export declare function getStatus(pool: PgPool, jobId: number, options?: RunnerSchemaOptions): Promise<JobStatus | null>;
/** Cancels a pending or running job; workers stop its chunks within a poll interval. False if it had ended. */
export declare function cancelJob(pool: PgPool, jobId: number, options?: RunnerSchemaOptions & { registry?: unknown }): Promise<boolean>;
/** Resolves once the job is completed, failed or cancelled. */
export declare function waitForJob(
  pool: PgPool,
  jobId: number,
  options?: RunnerSchemaOptions & { pollMs?: number; signal?: AbortSignal; onStatus?: (status: JobStatus) => void },
): Promise<JobStatus>;
/** The runner's prom-client metrics on `registry` (default: prom-client's global registry). */
export declare function runnerMetrics(registry?: unknown): {
  jobs: unknown;
  eventsWritten: unknown;
  throughput: unknown;
  decodeErrors: unknown;
};
