'use strict';
// Generated on-chain activity of the sample program in ./idl.json, as an archive description
// for writeArchive: deposits log their `Deposited` event, swaps emit `Swapped` through
// emit_cpi!, among votes, other programs and failed transactions. It returns the events a
// correct backfill must find, computed while generating, so demos and tests check against
// what was written rather than against a copy of the answer.

const crypto = require('node:crypto');
const { encodeBase58, decodeBase58 } = require('../base58');
const idl = require('./idl.json');

const SLOTS_PER_EPOCH = 432_000;
const PROGRAM_ID = idl.address;
const VOTE_PROGRAM = 'Vote111111111111111111111111111111111111111';
// Anchor's EVENT_IX_TAG, the first bytes of an emit_cpi! self-invocation.
const EVENT_IX_TAG = Buffer.from([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

const discriminator = (kind, name) => Buffer.from((idl[kind].find((x) => x.name === name)).discriminator);

/** mulberry32: small, seeded, reproducible. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const borsh = {
  u64: (n) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  },
  bool: (v) => Buffer.from([v ? 1 : 0]),
  pubkey: (key) => decodeBase58(key),
  string: (text) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32LE(bytes.length);
    return Buffer.concat([length, bytes]);
  },
};

const MEMOS = ['rent', 'payroll', 'gm', 'savings', 'tip', '🚀 moon', 'invoice #42', ''];

/** Random base58 bytes: a key (32) or a signature (64), never with a leading zero byte. */
function randomKey(random, length = 32) {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = Math.floor(random() * 256);
  bytes[0] ||= 1; // keeps every key the full width
  return encodeBase58(bytes);
}

/** A name from `[name, weight]` pairs, weights summing to 1; `fallback` for the rounding rest. */
function pickWeighted(random, table, fallback) {
  let roll = random();
  for (const [name, weight] of table) {
    roll -= weight;
    if (roll < 0) return name;
  }
  return fallback;
}

function generator(random) {
  const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
  return { int, key: () => randomKey(random), signature: () => randomKey(random, 64), pick: (list) => list[int(0, list.length - 1)] };
}

const eventAuthority = encodeBase58(crypto.createHash('sha256').update('uho-backfill demo event authority').digest());

/**
 * One transaction of `kind`; `events` are what it emits, in the order a decoder meets them.
 * Kinds: deposit (log event), swap (emit_cpi event), both, failed, vote, other.
 */
function transaction(kind, g, logEvents = 1) {
  const user = g.key();
  const vault = g.key();
  const signature = g.signature();
  const deposit = { amount: g.int(1, 5_000_000_000), memo: g.pick(MEMOS) };
  const swap = { amount: g.int(1, 900_000_000), buy: g.int(0, 1) === 1 };
  const depositIx = {
    programIdIndex: 1,
    accounts: [0, 2],
    data: encodeBase58(Buffer.concat([discriminator('instructions', 'deposit'), borsh.u64(deposit.amount), borsh.string(deposit.memo)])),
  };
  const swapIx = {
    programIdIndex: 1,
    accounts: [0, 2, 3, 1],
    data: encodeBase58(Buffer.concat([discriminator('instructions', 'swap'), borsh.u64(swap.amount), borsh.bool(swap.buy)])),
  };
  const deposited = { eventName: 'Deposited', source: 'log', data: { user, amount: deposit.amount, memo: deposit.memo } };
  const bought = Math.floor(swap.amount * (0.5 + 0.5 * g.int(0, 1000) / 1000));
  const swapped = { eventName: 'Swapped', source: 'cpi', data: { user, sold: swap.amount, bought, buy: swap.buy } };
  const depositPayload = Buffer.concat([discriminator('events', 'Deposited'), borsh.pubkey(user), borsh.u64(deposit.amount), borsh.string(deposit.memo)]);
  const swapPayload = Buffer.concat([discriminator('events', 'Swapped'), borsh.pubkey(user), borsh.u64(swap.amount), borsh.u64(bought), borsh.bool(swap.buy)]);
  const emitCpi = { programIdIndex: 1, accounts: [3], data: encodeBase58(Buffer.concat([EVENT_IX_TAG, swapPayload])), stackHeight: 2 };
  const depositLogs = (ok = true) => [
    `Program ${PROGRAM_ID} invoke [1]`, 'Program log: Instruction: Deposit',
    ...Array.from({ length: logEvents }, () => `Program data: ${depositPayload.toString('base64')}`),
    ok ? `Program ${PROGRAM_ID} success` : `Program ${PROGRAM_ID} failed: custom program error: 0x1771`,
  ];
  const swapLogs = [
    `Program ${PROGRAM_ID} invoke [1]`, 'Program log: Instruction: Swap', `Program ${PROGRAM_ID} invoke [2]`,
    `Program ${PROGRAM_ID} success`, `Program ${PROGRAM_ID} success`,
  ];
  const accountKeys = [user, PROGRAM_ID, vault, eventAuthority];
  const base = { signature, fee: 5000, computeUnitsConsumed: g.int(3_000, 60_000) };
  switch (kind) {
    case 'deposit':
      return { tx: { ...base, accountKeys, instructions: [depositIx], logs: depositLogs() }, events: Array(logEvents).fill(deposited) };
    case 'swap':
      return { tx: { ...base, accountKeys, instructions: [swapIx], innerInstructions: [{ index: 0, instructions: [emitCpi] }], logs: swapLogs }, events: [swapped] };
    case 'both':
      return {
        tx: { ...base, accountKeys, instructions: [depositIx, swapIx], innerInstructions: [{ index: 1, instructions: [emitCpi] }], logs: [...depositLogs(), ...swapLogs] },
        events: [...Array(logEvents).fill(deposited), swapped],
      };
    case 'failed':
      return { tx: { ...base, accountKeys, instructions: [depositIx], err: { InstructionError: [0, { Custom: 6001 }] }, logs: depositLogs(false) }, events: [], failed: true };
    case 'vote':
      return { tx: { ...base, accountKeys: [user, VOTE_PROGRAM], instructions: [{ programIdIndex: 1, accounts: [0], data: '' }], logs: [] }, events: [] };
    default: {
      const other = g.key();
      return {
        tx: { ...base, accountKeys: [user, other], instructions: [{ programIdIndex: 1, accounts: [0], data: '' }], logs: [`Program ${other} invoke [1]`, `Program ${other} success`] },
        events: [],
      };
    }
  }
}

const KINDS = [['deposit', 0.3], ['swap', 0.25], ['both', 0.1], ['failed', 0.05], ['vote', 0.15], ['other', 0.15]];

/**
 * Activity around `boundaries` consecutive epoch boundaries after `epoch`: the last `width`
 * slots of each epoch and the first `width` of the next, with skipped slots (the first slot
 * of every epoch among them). Returns the archive description, the slot range it spans, and
 * every event of a successful transaction of the program. `logEvents` is how many times a
 * deposit logs its event (benchmarks use it for event-heavy archives).
 */
function demoActivity({ seed = 7, epoch = 500, boundaries = 2, width = 300, txPerSlot = [1, 6], skipRate = 0.1, logEvents = 1 } = {}) {
  const random = prng(seed);
  const g = generator(random);
  const blocks = [];
  const events = [];
  let transactions = 0;
  const kind = () => pickWeighted(random, KINDS, 'other');
  const startSlot = (epoch + 1) * SLOTS_PER_EPOCH - width;
  const endSlot = (epoch + boundaries) * SLOTS_PER_EPOCH + width - 1;
  for (let b = 1; b <= boundaries; b += 1) {
    const boundary = (epoch + b) * SLOTS_PER_EPOCH;
    for (let slot = boundary - width; slot < boundary + width; slot += 1) {
      if (slot === boundary || random() < skipRate) continue;
      const blockTime = 1_700_000_000 + Math.floor((slot - startSlot) * 0.4);
      const block = { slot, blockTime, transactions: [] };
      const count = g.int(txPerSlot[0], txPerSlot[1]);
      for (let i = 0; i < count; i += 1) {
        const made = transaction(kind(), g, logEvents);
        block.transactions.push(made.tx);
        transactions += 1;
        made.events.forEach((event, eventIndex) => {
          events.push({ ...event, programId: PROGRAM_ID, txSignature: made.tx.signature, slot, blockTime, eventIndex });
        });
      }
      blocks.push(block);
    }
  }
  return { programId: PROGRAM_ID, idl, spec: { blocks }, startSlot, endSlot, events, transactions };
}

module.exports = { demoActivity, prng, randomKey, pickWeighted, PROGRAM_ID, VOTE_PROGRAM, idl, SLOTS_PER_EPOCH };
