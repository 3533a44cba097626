import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

function encode(value: bigint, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/**
 * An opaque id such as `task_01jd…`: a kind prefix, 48 bits of milliseconds and 80 random bits.
 * Ids of one kind sort by creation time, so they double as stable pagination cursors.
 */
export function newId(prefix: string): string {
  const time = encode(BigInt(Date.now()), 10);
  const random = encode(BigInt('0x' + randomBytes(10).toString('hex')), 16);
  return `${prefix}_${time}${random}`;
}

/** `count` ids of one kind made now, in increasing order (copies that must keep their order). */
export function newIds(prefix: string, count: number): string[] {
  const time = encode(BigInt(Date.now()), 10);
  // The top random bit is left clear, so adding the index never carries into the time.
  const start = BigInt('0x' + randomBytes(10).toString('hex')) >> 1n;
  return Array.from({ length: count }, (_, i) => `${prefix}_${time}${encode(start + BigInt(i), 16)}`);
}
