import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** A short random id such as `m-7kq2x9ab4c`: `m` for monitors, `r` for reactions, `k` for API keys. */
export function newId(prefix: 'm' | 'r' | 'k'): string {
  const bytes = randomBytes(10);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${out}`;
}
