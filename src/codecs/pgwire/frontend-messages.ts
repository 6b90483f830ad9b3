import { BodyReader, ProtocolError } from './body-reader.js';

/**
 * Parsers for the client messages the gateway must read. Each takes the whole frame
 * (`start` at the type byte) and returns plain data. Bodies of other messages are relayed unread.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

const reader = new BodyReader(Buffer.alloc(0));

/** Query: the SQL text. */
export function parseQuery(buf: Buffer, start: number, end: number): string {
  const r = reader.reset(buf, start + 5, end);
  const sql = r.cstring();
  if (r.remaining !== 0) throw new ProtocolError('bytes after the Query string');
  return sql;
}

export interface ParseMessage {
  name: string;
  sql: string;
  paramTypes: number[];
}

export function parseParse(buf: Buffer, start: number, end: number): ParseMessage {
  const r = reader.reset(buf, start + 5, end);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  if (n < 0) throw new ProtocolError('negative parameter type count');
  const paramTypes = new Array<number>(n);
  for (let i = 0; i < n; i++) paramTypes[i] = r.int32();
  if (r.remaining !== 0) throw new ProtocolError('bytes after the Parse message');
  return { name, sql, paramTypes };
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** Parameter values; text-format ones decoded, binary ones left as bytes, NULL as null. */
  params: (string | Buffer | null)[];
  paramFormats: number[];
}

export function parseBind(buf: Buffer, start: number, end: number): BindMessage {
  const r = reader.reset(buf, start + 5, end);
  const portal = r.cstring();
  const statement = r.cstring();
  const nf = r.int16();
  if (nf < 0) throw new ProtocolError('negative format count');
  const paramFormats = new Array<number>(nf);
  for (let i = 0; i < nf; i++) paramFormats[i] = r.int16();
  const np = r.int16();
  if (np < 0) throw new ProtocolError('negative parameter count');
  if (nf > 1 && nf !== np) throw new ProtocolError('parameter format count does not match the parameter count');
  const params = new Array<string | Buffer | null>(np);
  for (let i = 0; i < np; i++) {
    const len = r.int32();
    if (len === -1) {
      params[i] = null;
      continue;
    }
    const bytes = r.bytes(len);
    const format = nf === 0 ? 0 : nf === 1 ? paramFormats[0]! : paramFormats[i]!;
    params[i] = format === 0 ? bytes.toString('utf8') : Buffer.from(bytes);
  }
  const nr = r.int16();
  if (nr < 0) throw new ProtocolError('negative result format count');
  for (let i = 0; i < nr; i++) r.int16();
  if (r.remaining !== 0) throw new ProtocolError('bytes after the Bind message');
  return { portal, statement, params, paramFormats };
}

/** Describe and Close: 'S' statement or 'P' portal, and its name. */
export function parseTarget(buf: Buffer, start: number, end: number): { kind: number; name: string } {
  const r = reader.reset(buf, start + 5, end);
  const kind = r.int8();
  if (kind !== 0x53 && kind !== 0x50) throw new ProtocolError('Describe/Close target must be S or P');
  const name = r.cstring();
  return { kind, name };
}

/** PasswordMessage: the cleartext password (the client's key or token). */
export function parsePassword(buf: Buffer, start: number, end: number): string {
  const r = reader.reset(buf, start + 5, end);
  const pw = r.cstring();
  if (r.remaining !== 0) throw new ProtocolError('bytes after the password');
  return pw;
}
