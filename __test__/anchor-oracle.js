'use strict';
// What @coral-xyz/anchor makes of an event payload: 0.31.1 for 0.30+ IDLs, 0.29.0 for legacy
// ones (no single release reads both), normalised as Uho's normalizeValue does.

const anchor031 = require('anchor-0.31');
const anchor029 = require('anchor-0.29');
const { canonical } = require('./fixtures');

function isLegacy(idl) {
  return !idl.address && !(idl.metadata && idl.metadata.spec);
}

/** Uho's normalizeValue, with BN.toNumber's throw above 2^53 caught as Uho's code does. */
function normalizeValue(value) {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && 'toNumber' in value) {
    try {
      const number = value.toNumber();
      if (Number.isSafeInteger(number)) return number;
      return value.toString();
    } catch {
      return value.toString();
    }
  }
  if (typeof value === 'object' && 'toBase58' in value) return value.toBase58();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeValue(v)]));
  return value;
}

class EventOracle {
  constructor(idl) {
    this.legacy = isLegacy(idl);
    this.coder = new (this.legacy ? anchor029 : anchor031).BorshCoder(idl);
    this.layouts = this.coder.events.layouts;
  }

  /**
   * Anchor's decode of `bytes` (discriminator + body), or null when no event matches.
   * `exact` says whether Anchor's own layout re-encodes the value to exactly the payload:
   * Anchor never checks, and zero-fills some short reads.
   */
  decode(bytes) {
    let decoded;
    try {
      decoded = this.coder.events.decode(bytes.toString('base64'));
    } catch (error) {
      return { threw: error.message };
    }
    if (!decoded) return null;
    const entry = this.layouts.get(decoded.name);
    const layout = this.legacy ? entry : entry.layout;
    const scratch = Buffer.alloc(bytes.length * 2 + 4096);
    let exact = false;
    try {
      exact = layout.encode(decoded.data, scratch) === bytes.length - 8;
    } catch {
      exact = false;
    }
    return { name: decoded.name, data: normalizeValue(decoded.data), exact };
  }
}

module.exports = { EventOracle, canonical, normalizeValue, isLegacy };
