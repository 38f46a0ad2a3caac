// Types of the package's entry point: the native binding's generated types, plus the
// archive tools written in JS.
export * from '../index';
import type { WrittenEpoch } from '../index';

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
