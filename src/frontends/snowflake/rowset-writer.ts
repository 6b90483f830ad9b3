import type { ServerResponse } from 'node:http';
import type { SnowflakeParameter } from '../../codecs/snowflake/messages.js';
import type { EncodedColumns } from './result-columns.js';
import type { RowsetOut } from './snowflake-query.js';
import type { SessionNames } from './sessions.js';
import { SF } from './wire-errors.js';

/** Rows are handed to the socket in writes of about this many characters. */
const WRITE_CHARS = 64 * 1024;

export const RESPONSE_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/**
 * Writes `text`, resolving once the socket can take more: after 'drain' when `write` said it
 * was full, so a slow client slows the upstream instead of growing the gateway's memory.
 */
export function writeRespectingBackPressure(res: ServerResponse, text: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new Error('the client went away'));
  if (res.write(text)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client went away'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Writes encoded rows comma-separated inside an already-open JSON array. */
class RowsWriter {
  #first = true;
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  async rows(batch: readonly string[]): Promise<void> {
    let chunk = '';
    for (const row of batch) {
      chunk += this.#first ? row : `,${row}`;
      this.#first = false;
      if (chunk.length >= WRITE_CHARS) {
        await writeRespectingBackPressure(this.#res, chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) await writeRespectingBackPressure(this.#res, chunk);
  }
}

export interface DriverResultContext {
  readonly queryId: string;
  readonly names: SessionNames;
  readonly parameters: readonly SnowflakeParameter[];
}

/**
 * The driver protocol's query response, written as the rows arrive:
 * `{"data":{…,"rowset":[…],"total":N,"returned":N,…},"code":null,"message":null,"success":true}`.
 * Everything that is known only at the end — the counts, the statement type, whether it
 * succeeded — comes after the rowset; JSON readers do not care about key order. The result is
 * always inline: no chunk or presigned URL ever reaches the client.
 */
export function driverRowsetOut(res: ServerResponse, ctx: DriverResultContext): RowsetOut {
  const rows = new RowsWriter(res);
  return {
    begin(columns: EncodedColumns) {
      if (!res.headersSent) res.writeHead(200, RESPONSE_HEADERS);
      const n = ctx.names;
      const head = {
        queryId: ctx.queryId,
        rowtype: columns.rowtype,
        queryResultFormat: 'json',
        version: 1,
        parameters: ctx.parameters,
        finalDatabaseName: n.databaseName ?? null,
        finalSchemaName: n.schemaName ?? null,
        finalWarehouseName: n.warehouseName ?? null,
        finalRoleName: n.roleName ?? null,
      };
      res.write(`{"data":${JSON.stringify(head).slice(0, -1)},"rowset":[`);
    },
    rows: (batch) => rows.rows(batch),
    end({ returned, statementTypeId, failure, truncated }) {
      const tail = failure
        ? `],"total":${returned},"returned":${returned},"statementTypeId":${statementTypeId},"sqlState":${JSON.stringify(failure.sqlState)},"errorCode":${JSON.stringify(failure.code)}},"code":${JSON.stringify(failure.code)},"message":${JSON.stringify(failure.message)},"success":false}`
        : `],"total":${returned},"returned":${returned},"statementTypeId":${statementTypeId}},"code":null,"message":${truncated === undefined ? 'null' : JSON.stringify(truncated)},"success":true}`;
      res.end(tail);
    },
  };
}

export interface SqlApiResultContext {
  readonly statementHandle: string;
  readonly statementStatusUrl: string;
  readonly requestId: string | undefined;
  readonly createdOn: number;
}

/**
 * The SQL API's ResultSet (format `jsonv2`), written as the rows arrive: `data` first, then
 * `resultSetMetaData` with the row count and a single partition, since every row is inline.
 */
export function sqlApiRowsetOut(res: ServerResponse, ctx: SqlApiResultContext): RowsetOut {
  const rows = new RowsWriter(res);
  let bytes = 0;
  let rowtype: EncodedColumns['rowtype'] = [];
  return {
    begin(columns) {
      rowtype = columns.rowtype;
      if (!res.headersSent) res.writeHead(200, RESPONSE_HEADERS);
      const head = { statementHandle: ctx.statementHandle, statementStatusUrl: ctx.statementStatusUrl, requestId: ctx.requestId ?? null, createdOn: ctx.createdOn };
      res.write(`${JSON.stringify(head).slice(0, -1)},"data":[`);
    },
    async rows(batch) {
      for (const r of batch) bytes += r.length;
      await rows.rows(batch);
    },
    end({ returned, failure, truncated }) {
      const meta = { numRows: returned, format: 'jsonv2', rowType: rowtype, partitionInfo: [{ rowCount: returned, uncompressedSize: bytes }] };
      const status = failure ? { code: failure.code, sqlState: failure.sqlState, message: failure.message } : { code: SF.SQL_API_SUCCESS, sqlState: '00000', message: truncated ?? 'Statement executed successfully.' };
      res.end(`],"resultSetMetaData":${JSON.stringify(meta)},"code":${JSON.stringify(status.code)},"sqlState":${JSON.stringify(status.sqlState)},"message":${JSON.stringify(status.message)}}`);
    },
  };
}
