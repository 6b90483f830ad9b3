import type { BytesMasker } from './value-masker.js';

/**
 * Masks a DataRow ('D') frame: int32 length, int16 column count, then per column an int32
 * length (-1 for NULL) and that many bytes.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html#PROTOCOL-MESSAGE-FORMATS-DATAROW
 *
 * Columns without a masker are never decoded. When every replacement has the byte length of
 * the value it replaces (a redacted SSN, a partial card number, a hash token over a token)
 * the frame is rewritten in place and a view of the caller's buffer is returned; otherwise a
 * new frame of the exact new size is built from the untouched spans and the replacements.
 */
export class DataRowMasker {
  readonly #maskers: readonly (BytesMasker | undefined)[];
  // Scratch reused across rows: which columns changed, where, and to what.
  readonly #at: number[] = [];
  readonly #oldLen: number[] = [];
  readonly #repl: (Buffer | null)[] = [];

  constructor(maskers: readonly (BytesMasker | undefined)[]) {
    this.#maskers = maskers;
  }

  /**
   * The masked frame, or null when no value changed (relay the original bytes). A frame that
   * does not parse, or whose column count differs from the plan, comes back with every column
   * NULL: a row we cannot read is a row we cannot vouch for.
   */
  mask(buf: Buffer, start: number, end: number): Buffer | null {
    const maskers = this.#maskers;
    const n = maskers.length;
    if (end - start < 7 || end > buf.length || buf[start] !== 0x44 || buf.readInt32BE(start + 1) !== end - start - 1 || buf.readInt16BE(start + 5) !== n) {
      return allNull(n);
    }
    const at = this.#at;
    const oldLen = this.#oldLen;
    const repl = this.#repl;
    let changes = 0;
    let sameSize = true;
    let pos = start + 7;
    for (let i = 0; i < n; i++) {
      if (pos + 4 > end) return allNull(n);
      const len = buf.readInt32BE(pos);
      pos += 4;
      if (len < -1 || pos + Math.max(len, 0) > end) return allNull(n);
      const m = maskers[i];
      if (m !== undefined && len >= 0) {
        let r: Buffer | null | undefined;
        try {
          r = m(buf, pos, len);
        } catch {
          r = null;
        }
        if (r !== undefined) {
          at[changes] = pos;
          oldLen[changes] = len;
          repl[changes] = r;
          changes++;
          if (r === null || r.length !== len) sameSize = false;
        }
      }
      if (len > 0) pos += len;
    }
    if (pos !== end) return allNull(n);
    if (changes === 0) return null;
    if (sameSize) {
      for (let c = 0; c < changes; c++) repl[c]!.copy(buf, at[c]!);
      clear(repl, changes);
      return buf.subarray(start, end);
    }
    let size = end - start;
    for (let c = 0; c < changes; c++) size += (repl[c] === null ? 0 : repl[c]!.length) - oldLen[c]!;
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    let from = start;
    for (let c = 0; c < changes; c++) {
      const lenPos = at[c]! - 4;
      o += buf.copy(out, o, from, lenPos);
      const r = repl[c]!;
      if (r === null) {
        out.writeInt32BE(-1, o);
        o += 4;
      } else {
        out.writeInt32BE(r.length, o);
        o += 4;
        o += r.copy(out, o);
      }
      from = at[c]! + oldLen[c]!;
    }
    o += buf.copy(out, o, from, end);
    out.writeInt32BE(size - 1, 1);
    clear(repl, changes);
    return out;
  }
}

function clear(a: unknown[], n: number): void {
  for (let i = 0; i < n; i++) a[i] = null;
}

/** A DataRow of `n` NULLs. */
export function allNull(n: number): Buffer {
  const b = Buffer.allocUnsafe(7 + 4 * n);
  b[0] = 0x44;
  b.writeInt32BE(6 + 4 * n, 1);
  b.writeInt16BE(n, 5);
  for (let i = 0; i < n; i++) b.writeInt32BE(-1, 7 + 4 * i);
  return b;
}

/** Whether a masked frame is the caller's own bytes rewritten in place (the relay may then keep it in its run). */
export function isInPlace(out: Buffer, buf: Buffer, start: number): boolean {
  return out.buffer === buf.buffer && out.byteOffset === buf.byteOffset + start;
}
