import { BodyReader, ProtocolError } from './body-reader.js';
import { MessageWriter } from './writer.js';
import { Be } from './message-codes.js';

/**
 * ErrorResponse / NoticeResponse fields, keyed by their one-letter codes.
 * https://www.postgresql.org/docs/current/protocol-error-fields.html
 */
export interface ErrorFields {
  /** S: ERROR, FATAL, PANIC (errors) or WARNING, NOTICE, … (notices). */
  severity: string;
  /** C: SQLSTATE. */
  code: string;
  /** M: primary message. */
  message: string;
  detail?: string | undefined; // D
  hint?: string | undefined; // H
  /** Every other field, by code letter, kept so a rewritten message loses nothing. */
  other?: Map<number, string> | undefined;
}

const S = 0x53, V = 0x56, C = 0x43, M = 0x4d, D = 0x44, H = 0x48;

export function parseErrorFields(buf: Buffer, start: number, end: number): ErrorFields {
  const r = new BodyReader(buf, start, end);
  const out: ErrorFields = { severity: '', code: '', message: '' };
  for (;;) {
    if (r.remaining <= 0) throw new ProtocolError('error fields are not terminated');
    const type = r.int8();
    if (type === 0) break;
    const value = r.cstring();
    switch (type) {
      case S:
        out.severity = value;
        break;
      case C:
        out.code = value;
        break;
      case M:
        out.message = value;
        break;
      case D:
        out.detail = value;
        break;
      case H:
        out.hint = value;
        break;
      default:
        (out.other ??= new Map()).set(type, value);
    }
  }
  return out;
}

/** Appends an ErrorResponse ('E') or NoticeResponse ('N') to `w`. */
export function writeErrorLike(w: MessageWriter, kind: typeof Be.ErrorResponse | typeof Be.NoticeResponse, f: ErrorFields): MessageWriter {
  w.begin(kind);
  w.int8(S).cstring(clean(f.severity));
  // V is the non-localized severity that modern clients prefer.
  w.int8(V).cstring(clean(f.other?.get(V) ?? f.severity));
  w.int8(C).cstring(clean(f.code));
  w.int8(M).cstring(clean(f.message));
  if (f.detail !== undefined) w.int8(D).cstring(clean(f.detail));
  if (f.hint !== undefined) w.int8(H).cstring(clean(f.hint));
  if (f.other) for (const [k, v] of f.other) if (k !== V) w.int8(k).cstring(clean(v));
  w.int8(0);
  return w.end();
}

/** NUL would end a C string early and let text smuggle extra fields in. */
function clean(s: string): string {
  return s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s;
}

/** `message (SQLSTATE code)` from an ErrorResponse body, for logs and connector errors; never throws. */
export function describeErrorBody(body: Buffer): string {
  try {
    const f = parseErrorFields(body, 0, body.length);
    return f.code ? `${f.message || 'error'} (SQLSTATE ${f.code})` : f.message || 'error';
  } catch {
    return 'error (malformed ErrorResponse)';
  }
}
