import { createHash, type Hash } from 'node:crypto';
import type { StrategyName } from './schema.js';
import { fakeValue } from './fake-value.js';

/** A resolved presentation: what the engine does to one value. */
export interface MaskSpec {
  readonly strategy: StrategyName;
  readonly keepLast?: number | undefined;
  readonly keepFirst?: number | undefined;
  readonly replacement?: string | undefined;
}

export const REDACT: MaskSpec = Object.freeze({ strategy: 'redact' });
export const CLEAR: MaskSpec = Object.freeze({ strategy: 'clear' });

/** Lower is more restrictive; when two rules or profiles disagree, the lower one wins. */
const RANK: Readonly<Record<StrategyName, number>> = { redact: 0, null: 1, hash: 2, fake: 3, partial: 4, clear: 5 };

export function stricter(a: MaskSpec | undefined, b: MaskSpec): MaskSpec {
  if (a === undefined) return b;
  const ra = RANK[a.strategy];
  const rb = RANK[b.strategy];
  if (ra !== rb) return ra < rb ? a : b;
  if (a.strategy !== 'partial') return a;
  // Two partials: the one revealing fewer characters.
  const ka = (a.keepLast ?? 0) + (a.keepFirst ?? 0);
  const kb = (b.keepLast ?? 0) + (b.keepFirst ?? 0);
  return kb < ka ? b : a;
}

const EMAIL = /^([^@\s]+)@([^@\s]+\.[^@\s]+)$/;
const MASKABLE = /[\p{L}\p{N}]/u;

/** Letters and digits are masked, everything else (separators) kept; ASCII without a regex. */
function isMaskable(c: string): boolean {
  const x = c.charCodeAt(0);
  if (x < 128) return (x >= 48 && x <= 57) || ((x | 32) >= 97 && (x | 32) <= 122);
  return MASKABLE.test(c);
}

/**
 * Applies strategies to string values. `hash` and `fake` are keyed by HMAC-SHA256 so the same
 * value gives the same token under one key (joins and GROUP BY keep working) while nobody
 * without the key can build a dictionary of tokens.
 */
export class StrategyApplier {
  // HMAC-SHA256 (RFC 2104) with the keyed inner and outer states computed once and cloned
  // per value: the same bytes as createHmac, a third cheaper on the per-row path.
  readonly #inner: Hash | undefined;
  readonly #outer: Hash | undefined;

  constructor(key: string | undefined) {
    if (key === undefined) return;
    let k = Buffer.from(key, 'utf8');
    if (k.length > 64) k = createHash('sha256').update(k).digest();
    const block = Buffer.alloc(64);
    k.copy(block);
    this.#inner = createHash('sha256').update(block.map((b) => b ^ 0x36));
    this.#outer = createHash('sha256').update(block.map((b) => b ^ 0x5c));
  }

  get hasKey(): boolean {
    return this.#inner !== undefined;
  }

  /** The masked text, or null for SQL NULL. `kind` is the detector that found the value, if any. */
  apply(spec: MaskSpec, value: string, kind?: string): string | null {
    switch (spec.strategy) {
      case 'clear':
        return value;
      case 'null':
        return null;
      case 'redact':
        return spec.replacement ?? '****';
      case 'partial':
        return partial(value, spec.keepFirst, spec.keepLast);
      case 'hash':
        return 'h_' + this.digest('hash', value).toString('base64url').slice(0, 22);
      case 'fake':
        return fakeValue(value, this.digest('fake', value), kind);
    }
  }

  digest(purpose: string, value: string): Buffer {
    // Without a key (the schema requires one whenever hash or fake is configured) fail closed.
    if (this.#inner === undefined || this.#outer === undefined) throw new TypeError('masking.hash_key is required for hash and fake strategies');
    const inner = this.#inner.copy().update(purpose).update('\0').update(value).digest();
    return this.#outer.copy().update(inner).digest();
  }
}

/**
 * Keeps the first/last N letters or digits and stars the rest, leaving separators where they
 * were (`***-**-6789`). An email keeps its domain and the first character(s) of the local
 * part, with a fixed-width run of stars so the length is not revealed (`j***@example.com`).
 * However large N is, at least a third of the characters (and at least 4, or all of a shorter
 * value) stay hidden, so `keep_last: 4` on a four-digit PIN does not show the PIN.
 */
export function partial(value: string, keepFirst: number | undefined, keepLast: number | undefined): string {
  if (keepLast === undefined) {
    const email = EMAIL.exec(value);
    if (email !== null) {
      const local = email[1]!;
      const kf = Math.min(keepFirst ?? 1, Math.floor(local.length / 2));
      return `${local.slice(0, kf)}***@${email[2]}`;
    }
  }
  // Most values (SSNs, card numbers, phones) are ASCII: work on char codes, no arrays.
  const ascii = partialAscii(value, keepFirst, keepLast);
  if (ascii !== undefined) return ascii;
  const chars = Array.from(value);
  const maskable = chars.map(isMaskable);
  let n = 0;
  for (const m of maskable) if (m) n++;
  const [first, last] = keepCounts(n, keepFirst, keepLast);
  let seen = 0;
  let out = '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (!maskable[i]) {
      out += c;
      continue;
    }
    out += seen < first || seen >= n - last ? c : '*';
    seen++;
  }
  return out;
}

/** How many maskable characters stay visible at each end: at least a third (and ≥4) is hidden. */
function keepCounts(n: number, keepFirst: number | undefined, keepLast: number | undefined): [number, number] {
  let first = keepFirst ?? 0;
  let last = keepLast ?? (keepFirst === undefined ? 4 : 0);
  const mustHide = Math.max(Math.min(4, n), Math.ceil(n / 3));
  let over = first + last - (n - mustHide);
  if (over > 0) {
    const cut = Math.min(last, over);
    last -= cut;
    over -= cut;
    first = Math.max(0, first - over);
  }
  return [first, last];
}

const asciiMaskable = (x: number): boolean => (x >= 48 && x <= 57) || ((x | 32) >= 97 && (x | 32) <= 122);
const STAR = 42;
let scratch = new Uint8Array(64);

function partialAscii(value: string, keepFirst: number | undefined, keepLast: number | undefined): string | undefined {
  const len = value.length;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const x = value.charCodeAt(i);
    if (x >= 128) return undefined;
    if (asciiMaskable(x)) n++;
  }
  const [first, last] = keepCounts(n, keepFirst, keepLast);
  if (scratch.length < len) scratch = new Uint8Array(len * 2);
  let seen = 0;
  for (let i = 0; i < len; i++) {
    const x = value.charCodeAt(i);
    if (!asciiMaskable(x)) scratch[i] = x;
    else {
      scratch[i] = seen < first || seen >= n - last ? x : STAR;
      seen++;
    }
  }
  return Buffer.from(scratch.buffer, 0, len).toString('latin1');
}

/**
 * `partial` straight on the wire bytes of an ASCII text value: the same result as `partial`,
 * without decoding to a string and back. Undefined when the value is not plain ASCII, or may
 * be an email (which keeps its domain), so the caller takes the string path.
 */
export function partialBytes(buf: Buffer, start: number, len: number, keepFirst: number | undefined, keepLast: number | undefined): Buffer | undefined {
  let n = 0;
  for (let i = start; i < start + len; i++) {
    const x = buf[i]!;
    if (x >= 128 || (x === 64 && keepLast === undefined)) return undefined;
    if (asciiMaskable(x)) n++;
  }
  const [first, last] = keepCounts(n, keepFirst, keepLast);
  const out = Buffer.allocUnsafe(len);
  let seen = 0;
  for (let i = 0; i < len; i++) {
    const x = buf[start + i]!;
    if (!asciiMaskable(x)) out[i] = x;
    else {
      out[i] = seen < first || seen >= n - last ? x : STAR;
      seen++;
    }
  }
  return out;
}
