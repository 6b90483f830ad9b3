import { luhnValid } from './detectors/card.js';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const EMAIL = /^([^@\s]+)@([^@\s]+\.[^@\s]+)$/;

/**
 * A deterministic stand-in of the same shape: every digit becomes a digit, every letter a
 * letter of the same case, separators stay. `seed` is an HMAC of the value, so the fake is
 * stable under one key and reveals nothing without it. Emails keep their shape in the local
 * part and move to the reserved `example.com` domain; digit strings that were valid card
 * numbers get a fixed-up Luhn check digit so downstream validation still passes.
 */
export function fakeValue(value: string, seed: Buffer, kind?: string): string {
  const email = EMAIL.exec(value);
  if (email !== null) return `${reshape(email[1]!, seed, 0)}@example.com`;
  let out = reshape(value, seed, 0);
  const digits = out.replace(/\D/g, '');
  const wasCard = kind === 'card' || (kind === undefined && digits.length >= 13 && digits.length <= 19 && luhnValid(value.replace(/\D/g, '')));
  if (wasCard && digits.length >= 13) out = fixLuhn(out);
  return out;
}

function reshape(s: string, seed: Buffer, offset: number): string {
  let out = '';
  let i = offset;
  for (const c of s) {
    const b = seed[i++ % seed.length]! ^ (i >> 5);
    if (c >= '0' && c <= '9') out += String(b % 10);
    else if (c >= 'a' && c <= 'z') out += LOWER[b % 26];
    else if (c >= 'A' && c <= 'Z') out += UPPER[b % 26];
    else if (/\p{L}/u.test(c)) out += LOWER[b % 26];
    else out += c;
  }
  return out;
}

/** Rewrites the last digit so the digits pass the Luhn check. */
function fixLuhn(s: string): string {
  const idx: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i]! >= '0' && s[i]! <= '9') idx.push(i);
  const last = idx[idx.length - 1]!;
  for (let d = 0; d <= 9; d++) {
    const t = s.slice(0, last) + String(d) + s.slice(last + 1);
    if (luhnValid(t.replace(/\D/g, ''))) return t;
  }
  return s;
}
