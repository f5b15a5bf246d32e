import { randomBytes } from 'node:crypto';

export type IdPrefix = 'ws' | 'ct' | 'ls' | 'tpl' | 'cmp' | 'dlv' | 'key' | 'lay' | 'imp';

// Crockford base32: digits sort before letters in ASCII, so ids sort like their timestamps.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastMs = -1;
let lastRandom = 0n;

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)]! + out;
    value >>= 5n;
  }
  return out;
}

/**
 * `<prefix>_<10 chars of ms timestamp><16 random chars>` (ULID layout). Ids minted later sort
 * later (monotonic within one process even inside a millisecond), which gives cursor paging a
 * stable order for free; the alphabet fits SES EmailTags and URLs (/^[A-Za-z0-9_-]+$/).
 */
export function newId(prefix: IdPrefix): string {
  const now = Date.now();
  if (now <= lastMs) {
    lastRandom = (lastRandom + 1n) & ((1n << 80n) - 1n);
  } else {
    lastMs = now;
    lastRandom = BigInt('0x' + randomBytes(10).toString('hex'));
  }
  return `${prefix}_${encode(BigInt(lastMs), 10)}${encode(lastRandom, 16)}`;
}
