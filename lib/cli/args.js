'use strict';
// Argument parsing shared by the commands: util.parseArgs for the grammar, and checks that
// name the offending flag. A UsageError ends the process with exit code 2.

const fs = require('node:fs');
const { parseArgs } = require('node:util');
const { isPublicKey } = require('../base58');

class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

/** util.parseArgs, strict, with its errors turned into UsageErrors. */
function parse(argv, options, { positionals = 0 } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    throw new UsageError(error.message);
  }
  if (!parsed.values.help && parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals]}'`);
  }
  return parsed;
}

function integer(flag, text, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag} must be an integer${min > 0 ? ` >= ${min}` : ''}${max < Number.MAX_SAFE_INTEGER ? ` <= ${max}` : ''}, got '${text}'`);
  }
  return Number(text);
}

function programId(flag, text) {
  if (!isPublicKey(text)) throw new UsageError(`${flag} must be a base58 program id, got '${text}'`);
  return text;
}

/** `A:B`, inclusive. */
function slotRange(flag, text) {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!match) throw new UsageError(`${flag} must be FIRST:LAST (inclusive slots), got '${text}'`);
  const [first, last] = [Number(match[1]), Number(match[2])];
  if (first > last) throw new UsageError(`${flag}: first slot ${first} is after last slot ${last}`);
  return [first, last];
}

/** `E` or `E-F`, inclusive. */
function epochRange(flag, text) {
  const match = /^(\d+)(?:-(\d+))?$/.exec(text ?? '');
  if (!match) throw new UsageError(`${flag} must be EPOCH or FIRST-LAST, got '${text}'`);
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first > last) throw new UsageError(`${flag}: first epoch ${first} is after last epoch ${last}`);
  return [first, last];
}

/** `FILE[@FROM-TO]`: an Anchor IDL, optionally valid only for slots FROM..TO (either may be empty). */
function idlFlag(flag, text) {
  const at = text.lastIndexOf('@');
  const file = at > 0 ? text.slice(0, at) : text;
  const range = at > 0 ? text.slice(at + 1) : null;
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${flag} ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  }
  const idl = { idl: json, file };
  if (range !== null) {
    const match = /^(\d*)-(\d*)$/.exec(range);
    if (!match) throw new UsageError(`${flag} ${text}: the slot range must be FROM-TO, FROM- or -TO`);
    if (match[1] !== '') idl.fromSlot = Number(match[1]);
    if (match[2] !== '') idl.toSlot = Number(match[2]);
  }
  const address = json.address ?? json.metadata?.address;
  if (address !== undefined) idl.programId = programId(`${flag} ${file} (its address)`, address);
  return idl;
}

function oneOf(flag, text, choices) {
  if (text === undefined) return undefined;
  if (!choices.includes(text)) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got '${text}'`);
  return text;
}

module.exports = { UsageError, parse, integer, programId, slotRange, epochRange, idlFlag, oneOf };
