'use strict';
// The real mainnet transactions and IDLs in ../shared/corpus, read in place (never copied),
// turned into archive transactions that startBackfill can stream.

const fs = require('node:fs');
const path = require('node:path');
const { encodeBase58 } = require('../lib/base58');

const CORPUS = path.resolve(__dirname, '..', '..', 'shared', 'corpus');

function readIdl(name) {
  return JSON.parse(fs.readFileSync(path.join(CORPUS, 'idls', `${name}.json`), 'utf8'));
}

function txNames() {
  return fs.readdirSync(path.join(CORPUS, 'txs')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/**
 * One corpus file in a common form: `{ name, signature, slot, blockTime, logs, archiveTx }`.
 * `archiveTx` is null for files that hold only logs or only `meta` (their instructions
 * cannot be resolved); their logs are still decodable.
 */
function readTx(name) {
  let raw = JSON.parse(fs.readFileSync(path.join(CORPUS, 'txs', `${name}.json`), 'utf8'));
  if (Array.isArray(raw)) raw = raw[0];
  if (raw && raw.jsonrpc) raw = raw.result;
  if (raw.logs) return { name, signature: null, slot: null, blockTime: null, logs: raw.logs, archiveTx: null };
  if (!raw.transaction) return { name, signature: null, slot: null, blockTime: null, logs: raw.logMessages, archiveTx: null, meta: raw };
  const { meta, transaction } = raw;
  const message = transaction.message;
  const parsedKeys = typeof message.accountKeys[0] === 'object';
  let staticKeys;
  let loaded;
  let header = message.header;
  if (parsedKeys) {
    staticKeys = message.accountKeys.filter((k) => k.source !== 'lookupTable').map((k) => k.pubkey);
    const lookups = message.accountKeys.filter((k) => k.source === 'lookupTable');
    loaded = { writable: lookups.filter((k) => k.writable).map((k) => k.pubkey), readonly: lookups.filter((k) => !k.writable).map((k) => k.pubkey) };
    const signers = message.accountKeys.filter((k) => k.signer);
    header = {
      numRequiredSignatures: signers.length,
      numReadonlySignedAccounts: signers.filter((k) => !k.writable).length,
      numReadonlyUnsignedAccounts: message.accountKeys.filter((k) => k.source !== 'lookupTable' && !k.signer && !k.writable).length,
    };
  } else {
    staticKeys = message.accountKeys;
    loaded = meta.loadedAddresses || { writable: [], readonly: [] };
  }
  const allKeys = [...staticKeys, ...loaded.writable, ...loaded.readonly];
  const indexOf = (key) => {
    const index = allKeys.indexOf(key);
    if (index === -1) throw new Error(`${name}: key ${key} is not among the account keys`);
    return index;
  };
  // jsonParsed names programs and accounts by key; known programs lose their raw data,
  // which only matters for programs no IDL here describes.
  const instruction = (ix) => ({
    programIdIndex: ix.programIdIndex ?? indexOf(ix.programId),
    accounts: (ix.accounts || []).map((a) => (typeof a === 'number' ? a : indexOf(a))),
    data: ix.data ?? '',
    ...(ix.stackHeight !== undefined ? { stackHeight: ix.stackHeight } : {}),
  });
  const archiveTx = {
    signature: transaction.signatures[0],
    version: raw.version === 'legacy' ? 'legacy' : 0,
    header,
    accountKeys: staticKeys,
    recentBlockhash: message.recentBlockhash,
    instructions: message.instructions.map((ix) => {
      const { stackHeight, ...rest } = instruction(ix);
      return rest;
    }),
    addressTableLookups: message.addressTableLookups || [],
    loadedAddresses: loaded,
    innerInstructions: (meta.innerInstructions || []).map((group) => ({ index: group.index, instructions: group.instructions.map(instruction) })),
    logs: meta.logMessages,
    err: meta.err,
    fee: meta.fee,
    computeUnitsConsumed: meta.computeUnitsConsumed,
  };
  if (archiveTx.version === 'legacy') delete archiveTx.addressTableLookups;
  return { name, signature: archiveTx.signature, slot: raw.slot, blockTime: raw.blockTime, logs: meta.logMessages, archiveTx, allKeys };
}

/** A logs-only transaction around a program's log lines, for files without a message. */
function logsOnlyTx(logs, seed) {
  const payer = Buffer.alloc(32, seed + 1);
  return { accountKeys: [encodeBase58(payer)], logs };
}

module.exports = { CORPUS, readIdl, readTx, txNames, logsOnlyTx };
