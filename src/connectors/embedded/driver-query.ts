import type { PGlite } from '@electric-sql/pglite';
import type { QueryRequest, QueryResult, ResultColumn } from '../connector.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { BodyReader, ProtocolError } from '../../codecs/pgwire/body-reader.js';
import { Be, Fe } from '../../codecs/pgwire/message-codes.js';
import { parseErrorFields } from '../../codecs/pgwire/error-fields.js';
import { rowCountOfTag, StatementError } from '../postgres/statement-error.js';

const ROLLBACK = new MessageWriter(16).begin(Fe.Query).cstring('ROLLBACK').end().take();
const BEGIN_READ_ONLY = new MessageWriter(32).begin(Fe.Query).cstring('BEGIN READ ONLY').end().take();
const IDLE = 0x49; // ReadyForQuery 'I'

/**
 * The driver path on PGlite, called inside `EmbeddedServer.exclusive()` so it never lands in
 * the middle of a wire session's transaction.
 *
 * PGlite's own `query()` reads the whole result and drops the source table and column of each
 * field, which masking needs. So this speaks the extended protocol to the backend directly —
 * Parse, Bind (text parameters, text results), Describe, Execute with a row limit one past
 * `maxRows`, Sync — exactly what a driver would send over the socket: the result is capped
 * by PostgreSQL itself and every value arrives in text form.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 *
 * `timeoutMs` and `signal` cannot act here: PGlite runs statements on this thread, so nothing
 * can interrupt one once it started. `applicationName` is not set either: the single backend
 * is shared with every wire session.
 */
export async function queryPglite(db: PGlite, req: QueryRequest): Promise<QueryResult> {
  if (!Number.isInteger(req.maxRows) || req.maxRows < 0) throw new TypeError('maxRows must be a non-negative integer');
  if (req.sql.includes('\0') || req.params?.some((p) => p?.includes('\0'))) {
    throw new StatementError('22021', 'invalid byte sequence for encoding "UTF8": 0x00');
  }
  // Read-only in the statement's own transaction block: the backend is shared, so no setting
  // may outlive this request. The ROLLBACK below ends the block.
  if (req.readOnly === true) await run(db, BEGIN_READ_ONLY);
  const out = await run(db, extendedQuery(req.sql, req.params ?? [], req.maxRows + 1));
  const r = collect(out, req.maxRows);
  if (r.status !== IDLE) {
    // A statement such as BEGIN leaves a transaction open; no later request could finish it.
    await run(db, ROLLBACK);
  }
  if (r.error) throw r.error;
  const rowCount = r.truncated ? r.rows.length : r.tag === undefined ? null : rowCountOfTag(r.tag);
  const command = r.truncated ? `SELECT ${r.rows.length}` : (r.tag ?? '');
  return { columns: r.columns, rows: r.rows, rowCount, command, truncated: r.truncated, notices: r.notices };
}

async function run(db: PGlite, batch: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await db.execProtocolRawStream(new Uint8Array(batch.buffer, batch.byteOffset, batch.length), {
    // Each chunk is a view into PGlite's receive buffer, which the next message reuses.
    onRawData: (d: Uint8Array) => void chunks.push(Buffer.from(d)),
  });
  return Buffer.concat(chunks);
}

function extendedQuery(sql: string, params: readonly (string | null)[], limit: number): Buffer {
  const w = new MessageWriter(256 + sql.length);
  w.begin(Fe.Parse).cstring('').cstring(sql).int16(0).end();
  w.begin(Fe.Bind).cstring('').cstring('').int16(0).int16(params.length);
  for (const p of params) {
    if (p === null) {
      w.int32(-1);
    } else {
      const b = Buffer.from(p, 'utf8');
      w.int32(b.length).bytes(b);
    }
  }
  w.int16(0).end();
  w.begin(Fe.Describe).int8(0x50 /* P */).cstring('').end();
  w.begin(Fe.Execute).cstring('').int32(limit).end();
  w.begin(Fe.Sync).end();
  return w.take();
}

interface Collected {
  columns: ResultColumn[];
  rows: (string | null)[][];
  truncated: boolean;
  tag: string | undefined;
  notices: string[];
  error: StatementError | undefined;
  status: number;
}

function collect(buf: Buffer, maxRows: number): Collected {
  const c: Collected = { columns: [], rows: [], truncated: false, tag: undefined, notices: [], error: undefined, status: IDLE };
  const r = new BodyReader(buf);
  for (let at = 0; at < buf.length; ) {
    if (at + 5 > buf.length) throw new ProtocolError('truncated message from the embedded backend');
    const code = buf[at]!;
    const end = at + 1 + buf.readInt32BE(at + 1);
    r.reset(buf, at + 5, end);
    switch (code) {
      case Be.RowDescription:
        c.columns = rowDescription(r);
        break;
      case Be.DataRow:
        if (c.rows.length < maxRows) c.rows.push(dataRow(r));
        else c.truncated = true;
        break;
      case Be.CommandComplete:
        c.tag = r.cstring();
        break;
      case Be.NoticeResponse: {
        const f = parseErrorFields(buf, at + 5, end);
        c.notices.push(`${f.severity}: ${f.message}`);
        break;
      }
      case Be.ErrorResponse: {
        const f = parseErrorFields(buf, at + 5, end);
        c.error ??= new StatementError(f.code, f.message, f.hint);
        break;
      }
      case Be.ReadyForQuery:
        c.status = r.int8();
        break;
      default:
      // ParseComplete, BindComplete, NoData, PortalSuspended, EmptyQueryResponse: nothing to keep.
    }
    at = end;
  }
  return c;
}

function rowDescription(r: BodyReader): ResultColumn[] {
  const n = r.int16();
  const cols: ResultColumn[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.cstring();
    const tableOid = r.int32() >>> 0;
    const attnum = r.int16();
    const typeOid = r.int32() >>> 0;
    r.bytes(8); // typlen, typmod, format
    cols.push({ name, typeOid, tableOid, attnum });
  }
  return cols;
}

function dataRow(r: BodyReader): (string | null)[] {
  const n = r.int16();
  const row: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    row[i] = len < 0 ? null : r.bytes(len).toString('utf8');
  }
  return row;
}
