'use strict';
// Generated archives for the tests: every kind of transaction a filter must get right,
// with the answer computed from the description rather than written down.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { encodeBase58 } = require('../lib/base58');
const { writeArchive, serveArchive } = require('../lib');
const { prng, randomKey, pickWeighted, VOTE_PROGRAM } = require('../lib/demo/activity');

const SLOTS_PER_EPOCH = 432_000;

const keyFrom = randomKey;

const named = prng(0xbac4f111);
const PROGRAM = keyFrom(named);
const OTHER_PROGRAM = keyFrom(named);
const SECOND_PROGRAM = keyFrom(named);

function logsFor(program, ok = true) {
  return [`Program ${program} invoke [1]`, 'Program log: Instruction: Trade', ok ? `Program ${program} success` : `Program ${program} failed: custom program error: 0x1`];
}

/**
 * One transaction of a kind; `traits` says what a correct filter must conclude.
 * Kinds: direct, alt, cpi, cpiAlt, mention, mentionAlt, failed, vote, other, second.
 */
function transaction(kind, random) {
  const payer = keyFrom(random);
  const account = keyFrom(random);
  const table = keyFrom(random);
  const signature = keyFrom(random, 64);
  const base = { signature, fee: 5000 + Math.floor(random() * 10_000), computeUnitsConsumed: Math.floor(random() * 200_000) };
  const data = encodeBase58(Buffer.from([1 + Math.floor(random() * 200), 2, 3]));
  const traits = { invokes: false, mentions: false, failed: false, vote: false, second: false };
  let tx;
  switch (kind) {
    case 'direct':
      tx = { accountKeys: [payer, PROGRAM, account], instructions: [{ programIdIndex: 1, accounts: [0, 2], data }], logs: logsFor(PROGRAM) };
      Object.assign(traits, { invokes: true, mentions: true });
      break;
    case 'alt': // the program is only reachable through a lookup table
      tx = {
        version: 0,
        accountKeys: [payer, account],
        addressTableLookups: [{ accountKey: table, writableIndexes: [], readonlyIndexes: [3] }],
        loadedAddresses: { writable: [], readonly: [PROGRAM] },
        instructions: [{ programIdIndex: 2, accounts: [0, 1], data }],
        logs: logsFor(PROGRAM),
      };
      Object.assign(traits, { invokes: true, mentions: true });
      break;
    case 'cpi': // called by another program
      tx = {
        accountKeys: [payer, OTHER_PROGRAM, PROGRAM],
        instructions: [{ programIdIndex: 1, accounts: [0, 2], data }],
        innerInstructions: [{ index: 0, instructions: [{ programIdIndex: 2, accounts: [0], data, stackHeight: 2 }] }],
        logs: logsFor(OTHER_PROGRAM),
      };
      Object.assign(traits, { invokes: true, mentions: true });
      break;
    case 'cpiAlt':
      tx = {
        version: 0,
        accountKeys: [payer, OTHER_PROGRAM],
        addressTableLookups: [{ accountKey: table, writableIndexes: [7], readonlyIndexes: [9] }],
        loadedAddresses: { writable: [account], readonly: [PROGRAM] },
        instructions: [{ programIdIndex: 1, accounts: [0, 2], data }],
        innerInstructions: [{ index: 0, instructions: [{ programIdIndex: 3, accounts: [2], data, stackHeight: 2 }] }],
        logs: logsFor(OTHER_PROGRAM),
      };
      Object.assign(traits, { invokes: true, mentions: true });
      break;
    case 'mention': // passed as an account, never run
      tx = { accountKeys: [payer, OTHER_PROGRAM, PROGRAM], instructions: [{ programIdIndex: 1, accounts: [0, 2], data }], logs: logsFor(OTHER_PROGRAM) };
      Object.assign(traits, { mentions: true });
      break;
    case 'mentionAlt':
      tx = {
        version: 0,
        accountKeys: [payer, OTHER_PROGRAM],
        addressTableLookups: [{ accountKey: table, writableIndexes: [1], readonlyIndexes: [] }],
        loadedAddresses: { writable: [PROGRAM], readonly: [] },
        instructions: [{ programIdIndex: 1, accounts: [0, 2], data }],
        logs: logsFor(OTHER_PROGRAM),
      };
      Object.assign(traits, { mentions: true });
      break;
    case 'failed':
      tx = {
        accountKeys: [payer, PROGRAM],
        instructions: [{ programIdIndex: 1, accounts: [0], data }],
        err: { InstructionError: [0, { Custom: 1 }] },
        logs: logsFor(PROGRAM, false),
      };
      Object.assign(traits, { invokes: true, mentions: true, failed: true });
      break;
    case 'vote':
      tx = { accountKeys: [payer, VOTE_PROGRAM], instructions: [{ programIdIndex: 1, accounts: [0], data }], logs: logsFor(VOTE_PROGRAM) };
      Object.assign(traits, { vote: true });
      break;
    case 'second':
      tx = { accountKeys: [payer, SECOND_PROGRAM], instructions: [{ programIdIndex: 1, accounts: [0], data }], logs: logsFor(SECOND_PROGRAM) };
      Object.assign(traits, { second: true });
      break;
    default:
      tx = { accountKeys: [payer, OTHER_PROGRAM], instructions: [{ programIdIndex: 1, accounts: [0], data }], logs: logsFor(OTHER_PROGRAM) };
  }
  return { tx: { ...base, ...tx }, traits };
}

const KINDS = [
  ['direct', 0.22], ['alt', 0.08], ['cpi', 0.08], ['cpiAlt', 0.05], ['mention', 0.08], ['mentionAlt', 0.04],
  ['failed', 0.08], ['vote', 0.15], ['second', 0.04], ['other', 0.18],
];

const pickKind = (random) => pickWeighted(random, KINDS, 'other');

/**
 * Blocks over the last `slotsPerSide` slots of `epoch` and the first ones of `epoch + 1`,
 * with skipped slots (including the first slot of the second epoch) and a mix of kinds.
 */
function mixedArchive({ seed = 1, epoch = 700, slotsPerSide = 150, txPerSlot = [4, 14], skipRate = 0.12 } = {}) {
  const random = prng(seed);
  const startSlot = (epoch + 1) * SLOTS_PER_EPOCH - slotsPerSide;
  const endSlot = (epoch + 1) * SLOTS_PER_EPOCH + slotsPerSide - 1;
  const blocks = [];
  const transactions = [];
  for (let slot = startSlot; slot <= endSlot; slot += 1) {
    const firstOfEpoch = slot === (epoch + 1) * SLOTS_PER_EPOCH;
    if (firstOfEpoch || (slot !== startSlot && random() < skipRate)) continue;
    const count = txPerSlot[0] + Math.floor(random() * (txPerSlot[1] - txPerSlot[0] + 1));
    const blockTime = 1_700_000_000 + Math.floor((slot - startSlot) * 0.4);
    const block = { slot, blockTime, transactions: [] };
    for (let index = 0; index < count; index += 1) {
      const { tx, traits } = transaction(pickKind(random), random);
      block.transactions.push(tx);
      transactions.push({ signature: tx.signature, slot, index, blockTime, traits, tx });
    }
    blocks.push(block);
  }
  return { spec: { blocks }, transactions, startSlot, endSlot };
}

/** The transactions a job with these options must deliver, as `signature@slot` keys. */
function expectedKeys(transactions, { match = 'invokes', includeFailed = false, programs = [PROGRAM] } = {}) {
  return new Set(
    transactions
      .filter(({ traits }) => {
        if (traits.vote || (traits.failed && !includeFailed)) return false;
        const wanted = (programs.includes(PROGRAM) && (match === 'invokes' ? traits.invokes : traits.mentions))
          || (programs.includes(SECOND_PROGRAM) && traits.second);
        return wanted;
      })
      .map(({ signature, slot }) => `${signature}@${slot}`),
  );
}

/** JSON with object keys sorted, to compare values whatever their key order. */
const canonical = (value) => JSON.stringify(value, (_, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));

/** A loopback port nothing listens on (it was free a moment ago). */
async function freePort() {
  const net = require('node:net');
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function tempDir(prefix = 'uho-backfill-test-') {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), prefix));
}

/**
 * Jetstreamer pins one archive URL per process and caches slot offsets per epoch, so a
 * test file serves one folder and gives each archive its own epochs.
 */
let host;
async function archiveHost() {
  if (!host) {
    const dir = await tempDir();
    let fault;
    const server = await serveArchive(dir, { fault: (req) => (fault ? fault(req) : undefined) });
    host = {
      dir,
      url: server.url,
      server,
      write: (spec) => writeArchive(spec, dir),
      setFault: (next) => {
        fault = next;
      },
      close: async () => {
        await server.close();
        await fs.promises.rm(dir, { recursive: true, force: true });
      },
    };
  }
  return host;
}

module.exports = {
  PROGRAM, OTHER_PROGRAM, SECOND_PROGRAM, SLOTS_PER_EPOCH,
  prng, keyFrom, transaction, mixedArchive, expectedKeys, tempDir, archiveHost, canonical, freePort,
};
