'use strict';
// Bitcoin-alphabet base58, for the keys and signatures archive descriptions are written in.

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function encodeBase58(bytes) {
  const digits = [0];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i += 1) {
      carry += digits[i] << 8;
      digits[i] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '';
  for (let i = 0; i < bytes.length && bytes[i] === 0; i += 1) out += '1';
  // A zero value leaves the single digit 0, already written as the leading '1's.
  if (digits.length === 1 && digits[0] === 0) return out;
  for (let i = digits.length - 1; i >= 0; i -= 1) out += ALPHABET[digits[i]];
  return out;
}

const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

/** Bytes of a base58 string; throws on a character outside the alphabet. */
function decodeBase58(text) {
  const bytes = [0];
  for (const char of text) {
    const value = INDEX.get(char);
    if (value === undefined) throw new TypeError(`'${char}' is not a base58 character`);
    let carry = value;
    for (let i = 0; i < bytes.length; i += 1) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  let zeros = 0;
  while (zeros < text.length && text[zeros] === '1') zeros += 1;
  const significant = bytes.length === 1 && bytes[0] === 0 ? [] : bytes.reverse();
  return Buffer.from([...new Array(zeros).fill(0), ...significant]);
}

/** Whether `text` is base58 for exactly 32 bytes: a public key or program id. */
function isPublicKey(text) {
  try {
    return typeof text === 'string' && decodeBase58(text).length === 32;
  } catch {
    return false;
  }
}

module.exports = { encodeBase58, decodeBase58, isPublicKey };
