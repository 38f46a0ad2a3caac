'use strict';
// Randomised round trips for every event type of the corpus IDLs, including the options,
// enums, vecs and nested structs no real corpus event carries: values are generated, encoded
// by Anchor's own layouts, streamed through startBackfill, and the decoded data must equal
// Anchor's decode of the same bytes.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { after, before, test } = require('node:test');

const anchor031 = require('anchor-0.31');
const anchor029 = require('anchor-0.29');
const camelcase = require('camelcase');
const { startBackfill } = require('../lib');
const { encodeBase58 } = require('../lib/base58');
const { archiveHost, prng, SLOTS_PER_EPOCH } = require('./fixtures');
const { readIdl } = require('./corpus');
const { EventOracle, canonical, isLegacy } = require('./anchor-oracle');

const IDL_NAMES = [
  'drift', 'jupiter-dca', 'jupiter-v6', 'meteora-dlmm-legacy', 'meteora-dlmm', 'pump-amm-2025-10',
  'pump-amm', 'pump-fun-2025-04', 'pump-fun-legacy', 'pump-fun', 'raydium-clmm', 'raydium-cp-swap',
];
const VALUES_PER_EVENT = 4;
const EPOCH = 920;

/** Values in the form Anchor's layouts encode: BN, PublicKey, Buffer, { Variant: {...} }. */
function generator(idl, random) {
  const legacy = isLegacy(idl);
  const anchor = legacy ? anchor029 : anchor031;
  const name = (n) => (legacy ? camelcase(n) : n);
  const types = new Map((idl.types || []).map((t) => [t.name, t]));
  const int = (max) => Math.floor(random() * max);
  const bn = (bytes, signed) => {
    const value = new anchor.BN(crypto.randomBytes(bytes).toString('hex'), 16);
    return signed && random() < 0.5 ? value.fromTwos(bytes * 8) : value;
  };
  const fields = (list, depth) => {
    const out = {};
    list.forEach((field, index) => {
      if (field && field.name !== undefined && field.type !== undefined) out[name(field.name)] = value(field.type, depth + 1);
      else out[String(index)] = value(field, depth + 1);
    });
    return out;
  };
  const value = (type, depth) => {
    if (depth > 12) throw new Error('nested too deep');
    switch (type) {
      case 'bool': return random() < 0.5;
      case 'u8': return int(256);
      case 'i8': return int(256) - 128;
      case 'u16': return int(65536);
      case 'i16': return int(65536) - 32768;
      case 'u32': return int(2 ** 32);
      case 'i32': return int(2 ** 32) - 2 ** 31;
      case 'u64': return bn(8, false);
      case 'i64': return bn(8, true);
      case 'u128': return bn(16, false);
      case 'i128': return bn(16, true);
      case 'f32': return Math.fround((random() - 0.5) * 1e6);
      case 'f64': return (random() - 0.5) * 1e12;
      case 'string': return ['', 'a', 'pump', 'ünïcode ✓', 'x'.repeat(int(40))][int(5)];
      case 'bytes': return crypto.randomBytes(int(20));
      case 'publicKey':
      case 'pubkey': return new anchor.web3.PublicKey(crypto.randomBytes(32));
      default: break;
    }
    if (type.option !== undefined) return random() < 0.4 ? null : value(type.option, depth);
    if (type.vec !== undefined) return Array.from({ length: int(4) }, () => value(type.vec, depth));
    if (type.array !== undefined) return Array.from({ length: type.array[1] }, () => value(type.array[0], depth));
    if (type.defined !== undefined) {
      const def = types.get(typeof type.defined === 'string' ? type.defined : type.defined.name);
      if (def.type.kind === 'struct') return fields(def.type.fields || [], depth);
      if (def.type.kind === 'enum') {
        const variant = def.type.variants[int(def.type.variants.length)];
        return { [name(variant.name)]: fields(variant.fields || [], depth) };
      }
      if (def.type.kind === 'type') return value(def.type.alias, depth);
    }
    throw new Error(`unsupported type ${JSON.stringify(type)}`);
  };
  return { legacy, anchor, eventValue: (event) => {
    const layoutFields = legacy ? event.fields : types.get(event.name).type.fields;
    return fields(layoutFields || [], 0);
  } };
}

function encodeEvent(idl, oracle, event, value) {
  const entry = oracle.layouts.get(event.name);
  const layout = oracle.legacy ? entry : entry.layout;
  const buffer = Buffer.alloc(1 << 16);
  const length = layout.encode(value, buffer);
  const discriminator = oracle.legacy
    ? crypto.createHash('sha256').update(`event:${event.name}`).digest().subarray(0, 8)
    : Buffer.from(event.discriminator);
  return Buffer.concat([discriminator, buffer.subarray(0, length)]);
}

let host;
const cases = [];
const idls = [];

before(async () => {
  host = await archiveHost();
  const random = prng(20261204);
  const payer = encodeBase58(Buffer.alloc(32, 7));
  const slot = EPOCH * SLOTS_PER_EPOCH + 1;
  const blocks = [];
  IDL_NAMES.forEach((idlName, i) => {
    const idl = readIdl(idlName);
    // Each IDL under its own program id: versions of one program must not compete here.
    const programId = encodeBase58(crypto.createHash('sha256').update(idlName).digest());
    idls.push({ programId, idl });
    const oracle = new EventOracle(idl);
    const { eventValue } = generator(idl, random);
    const transactions = [];
    for (const event of idl.events) {
      for (let n = 0; n < VALUES_PER_EVENT; n += 1) {
        const bytes = encodeEvent(idl, oracle, event, eventValue(event));
        const signature = encodeBase58(crypto.createHash('sha512').update(`${idlName}:${event.name}:${n}`).digest());
        transactions.push({
          signature,
          accountKeys: [payer, programId],
          instructions: [{ programIdIndex: 1, accounts: [0], data: '' }],
          logs: [`Program ${programId} invoke [1]`, `Program data: ${bytes.toString('base64')}`, `Program ${programId} success`],
        });
        cases.push({ signature, idlName, eventName: event.name, expected: oracle.decode(bytes) });
      }
    }
    blocks.push({ slot: slot + i * 2, transactions });
  });
  await host.write({ blocks });
});
after(() => host.close());


test('generated values of every corpus event type decode exactly as Anchor decodes them', async () => {
  const events = new Map();
  const job = startBackfill({
    programIds: idls.map((i) => i.programId),
    startSlot: EPOCH * SLOTS_PER_EPOCH,
    endSlot: EPOCH * SLOTS_PER_EPOCH + 100,
    archiveUrl: host.url,
    idls,
    batchSize: 5000,
  }, async (batch) => {
    for (const event of batch.events) events.set(event.txSignature, event);
  });
  const summary = await job.done;
  assert.deepEqual(summary.decodeFailures, []);
  let checked = 0;
  for (const { signature, idlName, eventName, expected } of cases) {
    assert.ok(expected && expected.exact, `${idlName} ${eventName}: Anchor cannot round-trip its own encoding`);
    const ours = events.get(signature);
    assert.ok(ours, `${idlName} ${eventName}: not decoded`);
    assert.equal(ours.eventName, eventName);
    assert.equal(canonical(ours.data), canonical(expected.data), `${idlName} ${eventName}`);
    checked += 1;
  }
  assert.ok(checked > 500, `only ${checked} round trips`);
});
