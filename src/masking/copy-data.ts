import type { BytesMasker, StringMasker } from './value-masker.js';

/**
 * Masks the rows of COPY … TO STDOUT, one CopyData ('d') frame at a time. PostgreSQL sends one
 * row per CopyData message; a frame holding several lines is handled too.
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9 (file formats)
 */
export interface CopyFormat {
  readonly format: 'text' | 'csv' | 'binary';
  readonly delimiter: string;
  /** The NULL marker: `\N` in text, the empty unquoted string in CSV. */
  readonly null: string;
  readonly quote: string;
  readonly escape: string;
  /**
   * COPY's ENCODING option, when given. Fields are split as UTF-8: in a multi-byte encoding
   * such as SJIS a character's second byte can be a delimiter, quote or backslash, so such
   * output cannot be masked field by field (the wire relay refuses it).
   */
  readonly encoding?: string | undefined;
}

export const TEXT_COPY: CopyFormat = { format: 'text', delimiter: '\t', null: '\\N', quote: '"', escape: '"' };

/** The format a parsed CopyStmt asks for (its `options` DefElems). */
export function copyFormatOf(stmt: unknown): CopyFormat {
  const body = (stmt as { CopyStmt?: { options?: unknown[] } } | undefined)?.CopyStmt ?? (stmt as { options?: unknown[] } | undefined);
  let format: CopyFormat['format'] = 'text';
  const opt = new Map<string, string>();
  for (const o of body?.options ?? []) {
    const d = (o as { DefElem?: { defname?: string; arg?: unknown } }).DefElem;
    if (!d?.defname) continue;
    const arg = d.arg as { String?: { sval?: string }; A_Const?: { sval?: { sval?: string } } } | undefined;
    const v = arg?.String?.sval ?? arg?.A_Const?.sval?.sval ?? '';
    if (d.defname === 'format') format = v === 'csv' ? 'csv' : v === 'binary' ? 'binary' : 'text';
    else opt.set(d.defname, v);
  }
  const encoding = opt.get('encoding');
  if (format === 'csv') {
    const quote = opt.get('quote') ?? '"';
    return { format, delimiter: opt.get('delimiter') ?? ',', null: opt.get('null') ?? '', quote, escape: opt.get('escape') ?? quote, encoding };
  }
  return { format, delimiter: opt.get('delimiter') ?? '\t', null: opt.get('null') ?? '\\N', quote: '"', escape: '"', encoding };
}

const TEXT_UNESCAPE: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

function unescapeText(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return TEXT_UNESCAPE[e] ?? e;
  });
}

function escapeText(s: string, delim: string): string {
  let out = '';
  for (const c of s) {
    if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === delim) out += '\\' + c;
    else out += c;
  }
  return out;
}

/** Splits one CSV line into fields; `quoted[i]` tells an empty string from NULL. */
function splitCsv(line: string, f: CopyFormat): { fields: string[]; quoted: boolean[] } {
  const fields: string[] = [];
  const quoted: boolean[] = [];
  let cur = '';
  let q = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === f.escape && f.escape !== f.quote && line[i + 1] === f.quote) {
        cur += f.quote;
        i++;
      } else if (c === f.quote) {
        if (f.escape === f.quote && line[i + 1] === f.quote) {
          cur += f.quote;
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === f.quote) {
      q = true;
      wasQuoted = true;
    } else if (c === f.delimiter) {
      fields.push(cur);
      quoted.push(wasQuoted);
      cur = '';
      wasQuoted = false;
    } else cur += c;
  }
  fields.push(cur);
  quoted.push(wasQuoted);
  return { fields, quoted };
}

function quoteCsv(s: string, f: CopyFormat): string {
  return f.quote + s.split(f.quote).join(f.escape + f.quote) + f.quote;
}

/**
 * Masks the text or CSV lines in one CopyData frame. Returns the new frame, or null when
 * nothing changed. A line whose field count differs from the plan is replaced by a line of
 * NULLs, for the same reason as a malformed DataRow. CSV fields spanning lines (quoted
 * newlines) arrive within one frame, since PostgreSQL frames by row.
 */
export function maskCopyLines(buf: Buffer, start: number, end: number, f: CopyFormat, maskers: readonly (StringMasker | undefined)[]): Buffer | null {
  const text = buf.toString('utf8', start + 5, end);
  const endsWithNl = text.endsWith('\n');
  const lines = f.format === 'csv' ? [endsWithNl ? text.slice(0, -1) : text] : (endsWithNl ? text.slice(0, -1) : text).split('\n');
  let changed = false;
  const outLines: string[] = [];
  for (const line of lines) {
    if (f.format === 'text') {
      const raw = line.split(f.delimiter);
      // A delimiter escaped as `\<delim>` was split wrongly; rejoin pieces ending in an odd backslash run.
      const fields: string[] = [];
      for (const piece of raw) {
        const prev = fields[fields.length - 1];
        if (prev !== undefined && /(^|[^\\])(\\\\)*\\$/.test(prev)) fields[fields.length - 1] = prev + f.delimiter + piece;
        else fields.push(piece);
      }
      if (fields.length !== maskers.length) {
        outLines.push(maskers.map(() => f.null).join(f.delimiter));
        changed = true;
        continue;
      }
      const out = fields.map((field, i) => {
        const m = maskers[i];
        if (m === undefined || field === f.null) return field;
        const r = m(unescapeText(field));
        if (r === undefined) return field;
        changed = true;
        return r === null ? f.null : escapeText(r, f.delimiter);
      });
      outLines.push(out.join(f.delimiter));
    } else {
      const { fields, quoted } = splitCsv(line, f);
      if (fields.length !== maskers.length) {
        outLines.push(maskers.map(() => f.null).join(f.delimiter));
        changed = true;
        continue;
      }
      const out = fields.map((field, i) => {
        const m = maskers[i];
        const isNull = !quoted[i] && field === f.null;
        const asWritten = quoted[i] ? quoteCsv(field, f) : field;
        if (m === undefined || isNull) return asWritten;
        const r = m(field);
        if (r === undefined) return asWritten;
        changed = true;
        return r === null ? f.null : quoteCsv(r, f);
      });
      outLines.push(out.join(f.delimiter));
    }
  }
  if (!changed) return null;
  return copyDataFrame(outLines.join('\n') + (endsWithNl ? '\n' : ''));
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Masks binary COPY tuples (int16 field count, then int32 length + bytes per field), after the
 * 19-byte header in the first frame. The file trailer (field count -1) passes as is.
 */
export function maskCopyBinary(buf: Buffer, start: number, end: number, maskers: readonly (BytesMasker | undefined)[]): Buffer | null {
  let pos = start + 5;
  if (end - pos >= 19 && buf.subarray(pos, pos + 11).equals(SIGNATURE)) pos += 19 + Math.max(0, buf.readInt32BE(pos + 15));
  const parts: Buffer[] = [buf.subarray(start + 5, pos)];
  let changed = false;
  while (pos + 2 <= end) {
    const n = buf.readInt16BE(pos);
    if (n === -1) {
      parts.push(buf.subarray(pos, end));
      break;
    }
    if (n !== maskers.length) {
      // A tuple we cannot line up with the plan is dropped, never relayed unread.
      changed = true;
      break;
    }
    parts.push(buf.subarray(pos, pos + 2));
    pos += 2;
    for (let i = 0; i < n; i++) {
      if (pos + 4 > end) return copyDataFrame(Buffer.alloc(0));
      const len = buf.readInt32BE(pos);
      if (len < -1 || pos + 4 + Math.max(len, 0) > end) return copyDataFrame(Buffer.alloc(0));
      const m = maskers[i];
      const r = m !== undefined && len >= 0 ? m(buf, pos + 4, len) : undefined;
      if (r === undefined) parts.push(buf.subarray(pos, pos + 4 + Math.max(len, 0)));
      else {
        changed = true;
        const h = Buffer.allocUnsafe(4);
        h.writeInt32BE(r === null ? -1 : r.length);
        parts.push(h);
        if (r !== null) parts.push(r);
      }
      pos += 4 + Math.max(len, 0);
    }
  }
  if (!changed) return null;
  return copyDataFrame(Buffer.concat(parts));
}

function copyDataFrame(body: string | Buffer): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const out = Buffer.allocUnsafe(5 + b.length);
  out[0] = 0x64;
  out.writeInt32BE(4 + b.length, 1);
  b.copy(out, 5);
  return out;
}
