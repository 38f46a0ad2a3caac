'use strict';
// Anchor events through startBackfill, on the real mainnet transactions and IDLs of
// ../shared/corpus, checked against @coral-xyz/anchor itself (0.31.1 for 0.30+ IDLs, 0.29.0
// for legacy ones). Where Anchor accepts a payload its own layout cannot re-encode to the
// same length (short buffers it zero-fills, trailing bytes it ignores), the package reports a
// decode failure instead of copying the misread.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { after, before, test } = require('node:test');

const anchor029 = require('anchor-0.29');
const anchor031 = require('anchor-0.31');
const { startBackfill } = require('../lib');
const { encodeBase58 } = require('../lib/base58');
const { archiveHost, SLOTS_PER_EPOCH } = require('./fixtures');
const { readIdl, readTx, txNames } = require('./corpus');
const { EventOracle, canonical, normalizeValue } = require('./anchor-oracle');

const PUMP = '6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P';
const PUMP_AMM = 'pAMMBay6oceH9fJKBRHGP5D4bD4sWpmSwMn52FMfXEA';
const DLMM = 'LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo';
// Per program, oldest first: a later entry is the newer version.
const IDLS = [
  ['pump-fun-legacy', PUMP], ['pump-fun-2025-04', PUMP], ['pump-fun', PUMP],
  ['pump-amm-2025-10', PUMP_AMM], ['pump-amm', PUMP_AMM],
  ['raydium-clmm', 'CAMMCzo5YL8w4VFF8KVHrK22GGUsp5VTaW7grrKgrWqK'],
  ['raydium-cp-swap', 'CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C'],
  ['meteora-dlmm-legacy', DLMM], ['meteora-dlmm', DLMM],
  ['jupiter-v6', 'JUP6LkbZbjS1jKKwapdHNy74zcZ3tLUZoi5QNyVTaV4'],
  ['jupiter-dca', 'DCA265Vj8a9CEuX1eb1LWRnDT7uK6q1xMipnNyatn23M'],
  ['drift', 'dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH'],
];
const PROGRAMS = [...new Set(IDLS.map(([, id]) => id))];
const EVENT_IX_TAG = Buffer.from('e445a52e51cb9a1d', 'hex');
const EPOCH = 910;

let host;
const corpus = [];
const byName = new Map();

before(async () => {
  host = await archiveHost();
  const blocks = txNames().map((name, i) => {
    const tx = readTx(name);
    let archiveTx = tx.archiveTx;
    if (!archiveTx) {
      // Logs without a message: keep the logs, and mention the programs so 'mentions' matches.
      const invoked = [...new Set(tx.logs.map((l) => /^Program (\w+) invoke/.exec(l)?.[1]).filter(Boolean))];
      const signature = encodeBase58(crypto.createHash('sha512').update(name).digest());
      archiveTx = { signature, accountKeys: [encodeBase58(Buffer.alloc(32, i + 1)), ...invoked], logs: tx.logs };
      tx.signature = signature;
      tx.allKeys = archiveTx.accountKeys;
    }
    tx.archiveTx = archiveTx;
    corpus.push(tx);
    byName.set(name, tx);
    return { slot: EPOCH * SLOTS_PER_EPOCH + 1 + i * 3, blockTime: tx.blockTime ?? 1_700_000_000, transactions: [archiveTx] };
  });
  // pump-fun-2 twice more, far from the corpus slots: logs cut short, and failed.
  const trade = readTx('pump-fun-2').archiveTx;
  const cut = trade.logs.findIndex((line) => line.startsWith('Program data:'));
  blocks.push({ slot: EPOCH * SLOTS_PER_EPOCH + 300, transactions: [
    { ...trade, signature: encodeBase58(crypto.createHash('sha512').update('truncated').digest()), logs: [...trade.logs.slice(0, cut), 'Log truncated'] },
    { ...trade, signature: encodeBase58(crypto.createHash('sha512').update('failed').digest()), err: { InstructionError: [3, { Custom: 6003 }] } },
  ] });
  await host.write({ blocks });
});
after(() => host.close());

/**
 * Anchor's reading of one transaction: log events through its own EventParser (which picks
 * the lines of each program), `emit_cpi!` events through the event coder; per payload the
 * newest IDL version whose decode Anchor can re-encode exactly.
 */
function oracleEvents(tx) {
  const expected = [];
  const misread = [];
  const choose = (program, decodings) => {
    const exact = decodings.find((d) => d && !d.threw && d.exact);
    if (exact) expected.push({ programId: program, eventName: exact.name, data: exact.data });
    else if (decodings.some((d) => d && (d.threw || !d.exact))) misread.push({ program, names: decodings.filter(Boolean).map((d) => d.name || d.threw) });
  };
  for (const program of PROGRAMS) {
    const versions = IDLS.filter(([, id]) => id === program).map(([name]) => readIdl(name)).reverse();
    // Each version sees the same lines of this program in the same order; record per call.
    const perVersion = versions.map((idl) => {
      const oracle = new EventOracle(idl);
      const calls = [];
      const coder = { events: { decode: (log) => {
        const bytes = Buffer.from(log, 'base64');
        const result = bytes.length >= 8 ? oracle.decode(bytes) : null;
        calls.push(result);
        return null;
      } } };
      // The generator only runs as it is drained; our decode yields nothing, so one step drains it.
      new anchor031.EventParser(new anchor031.web3.PublicKey(program), coder).parseLogs(tx.logs || []).next();
      return calls;
    });
    for (let i = 0; i < perVersion[0].length; i += 1) choose(program, perVersion.map((calls) => calls[i]));
    for (const group of tx.archiveTx.innerInstructions || []) {
      for (const ix of group.instructions) {
        if (tx.allKeys[ix.programIdIndex] !== program) continue;
        const data = Buffer.from(anchor031.utils.bytes.bs58.decode(ix.data));
        if (!data.subarray(0, 8).equals(EVENT_IX_TAG)) continue;
        choose(program, versions.map((idl) => new EventOracle(idl).decode(data.subarray(8))));
      }
    }
  }
  return { expected, misread };
}


const decodedRun = {};

test('every corpus event decodes to exactly what Anchor produces, tied to its emitting program', async () => {
  const events = [];
  const transactions = [];
  const instructions = [];
  const job = startBackfill({
    programIds: PROGRAMS,
    match: 'mentions',
    startSlot: EPOCH * SLOTS_PER_EPOCH,
    endSlot: EPOCH * SLOTS_PER_EPOCH + 200,
    archiveUrl: host.url,
    threads: 2,
    idls: IDLS.map(([name, programId]) => ({ programId, idl: readIdl(name) })),
  }, async (batch) => {
    events.push(...batch.events);
    transactions.push(...batch.transactions);
    instructions.push(...batch.instructions);
  });
  const summary = await job.done;
  Object.assign(decodedRun, { instructions, summary });
  const mentioning = corpus.filter((tx) => tx.allKeys.some((k) => PROGRAMS.includes(k)));
  assert.deepEqual(transactions.map((t) => t.signature).sort(), mentioning.map((t) => t.signature).sort());

  let total = 0;
  let misreads = 0;
  for (const tx of corpus) {
    const ours = events.filter((e) => e.txSignature === tx.signature);
    const { expected, misread } = oracleEvents(tx);
    total += expected.length;
    misreads += misread.length;
    assert.deepEqual(
      ours.map((e) => `${e.programId} ${e.eventName} ${canonical(e.data)}`).sort(),
      expected.map((e) => `${e.programId} ${e.eventName} ${canonical(e.data)}`).sort(),
      `${tx.name}: events differ from Anchor's`,
    );
    for (const e of ours) {
      assert.equal(e.slot, transactions.find((t) => t.signature === tx.signature).slot);
      assert.ok(e.source === 'log' || e.source === 'cpi');
    }
    assert.deepEqual(ours.map((e) => e.eventIndex), ours.map((_, i) => i).sort((a, b) => a - b), `${tx.name}: eventIndex is not 0..n-1`);
  }
  // 39 "Program data:" lines and 42 emit_cpi instructions in the corpus; some are foreign or
  // have no IDL here (Moonshot, OKX, Jupiter Perps), the rest must all decode.
  assert.ok(total >= 60, `only ${total} events decoded`);
  console.log(`decoded ${events.length} events (Anchor agrees on all); ${misreads} payloads Anchor would misread are reported as failures:`, JSON.stringify(summary.decodeFailures));
  assert.equal(events.length, total);
  const failureCount = summary.decodeFailures.reduce((n, f) => n + f.count, 0);
  assert.ok(failureCount >= misreads, 'every payload Anchor misreads must be a reported failure');
});

/** Anchor's reading of one instruction: the newest version it decodes and re-encodes exactly. */
function oracleInstruction(program, dataBase58) {
  const versions = IDLS.filter(([, id]) => id === program).map(([name]) => readIdl(name)).reverse();
  const data = Buffer.from(anchor031.utils.bytes.bs58.decode(dataBase58));
  if (data.subarray(0, 8).equals(EVENT_IX_TAG)) return null;
  for (const idl of versions) {
    const anchor = idl.address ? anchor031 : anchor029;
    const coder = new anchor.BorshCoder(idl);
    let decoded;
    try {
      decoded = coder.instruction.decode(data);
    } catch {
      continue;
    }
    if (!decoded) continue;
    let encoded;
    try {
      encoded = coder.instruction.encode(decoded.name, decoded.data);
    } catch {
      continue;
    }
    if (encoded.length === data.length) return { name: decoded.name, args: normalizeValue(decoded.data) };
  }
  return null;
}

test('instructions decode to what Anchor decodes, with accounts named by the IDL', async () => {
  assert.ok(decodedRun.instructions, 'runs after the event test');
  let checked = 0;
  for (const tx of corpus.filter((t) => t.meta === undefined && t.archiveTx.instructions)) {
    const raw = [
      ...tx.archiveTx.instructions.map((ix, ixIndex) => ({ ix, ixIndex, innerIxIndex: null })),
      ...(tx.archiveTx.innerInstructions || []).flatMap((g) => g.instructions.map((ix, i) => ({ ix, ixIndex: g.index, innerIxIndex: i }))),
    ];
    const expected = [];
    for (const { ix, ixIndex, innerIxIndex } of raw) {
      const program = tx.allKeys[ix.programIdIndex];
      if (!PROGRAMS.includes(program)) continue;
      const decoded = oracleInstruction(program, ix.data);
      if (decoded) expected.push(`${ixIndex}/${innerIxIndex} ${program} ${decoded.name} ${canonical(decoded.args)}`);
    }
    const ours = decodedRun.instructions.filter((i) => i.txSignature === tx.signature);
    assert.deepEqual(
      ours.map((i) => `${i.ixIndex}/${i.innerIxIndex} ${i.programId} ${i.name} ${canonical(i.args)}`).sort(),
      expected.sort(),
      `${tx.name}: instructions differ from Anchor's`,
    );
    for (const decoded of ours) {
      const { ix } = raw.find((r) => r.ixIndex === decoded.ixIndex && r.innerIxIndex === decoded.innerIxIndex);
      const keys = Object.values(decoded.accounts);
      assert.ok(keys.every((key) => ix.accounts.some((a) => tx.allKeys[a] === key)), `${tx.name} ${decoded.name}: an account is not the instruction's`);
    }
    checked += ours.length;
  }
  assert.ok(checked >= 10, `only ${checked} instructions compared`);
});

test('a program called through a router still has its events decoded (pump-fun-5, depth 2)', async () => {
  const tx = byName.get('pump-fun-5');
  const { expected } = oracleEvents(tx);
  assert.ok(expected.some((e) => e.eventName === 'TradeEvent'));
});

test('a truncated log is flagged and counted; emit_cpi events survive it; failed transactions only on request', async () => {
  const run = async (includeFailed) => {
    const out = { transactions: [], events: [] };
    const job = startBackfill({
      programIds: [PUMP], startSlot: EPOCH * SLOTS_PER_EPOCH + 300, endSlot: EPOCH * SLOTS_PER_EPOCH + 300,
      archiveUrl: host.url, includeFailed, idls: IDLS.filter(([, id]) => id === PUMP).map(([name, programId]) => ({ programId, idl: readIdl(name) })),
    }, async (batch) => {
      out.transactions.push(...batch.transactions);
      out.events.push(...batch.events);
    });
    out.summary = await job.done;
    return out;
  };
  const plain = await run(false);
  assert.equal(plain.transactions.length, 1, 'the failed transaction is left out');
  const [truncated] = plain.transactions;
  assert.equal(truncated.logTruncated, true);
  assert.equal(plain.summary.logsTruncated, 1);
  assert.deepEqual(plain.events.map((e) => [e.eventName, e.source]), [['TradeEvent', 'cpi']], 'the log copy is lost, the emit_cpi copy is not');
  const withFailed = await run(true);
  const failed = withFailed.transactions.find((t) => t.err);
  assert.deepEqual(failed.err, { InstructionError: [3, { Custom: 6003 }] });
  assert.deepEqual(withFailed.events.filter((e) => e.txSignature === failed.signature).map((e) => e.source).sort(), ['cpi', 'log']);
});
