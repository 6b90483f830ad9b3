import type { Readable } from 'node:stream';
import type * as Snowflake from 'snowflake-sdk';
import type { ResultColumn, RowStream, StreamOutcome } from '../connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { describeColumns, valueDecoder, type ValueDecoder } from './driver-values.js';
import { commandOf } from './statement-kind.js';
import { SnowflakeStatementError, statementFailure, type Scrub } from './upstream-errors.js';

/**
 * Rows handed to the caller per batch. The driver decodes at most its stream's high-water
 * mark ahead (login-options.ts), so what the gateway holds for a statement is one downloaded
 * result chunk plus one batch, whatever the result's size.
 */
const BATCH_ROWS = 1000;

export interface RowStreamOptions {
  readonly connection: string;
  readonly maxRows: number;
  /** The statement's leading keyword, for the command tag. */
  readonly keyword: string;
  readonly signal: AbortSignal | undefined;
  readonly scrub: Scrub;
  /** Called once when the stream ends, fails or is closed; `broken` when the session is suspect. */
  readonly done: (broken: boolean) => void;
}

/**
 * A finished Snowflake statement's result, read as the caller pulls it.
 *
 * Snowflake has computed the whole result by the time the statement completes; what remains is
 * fetching it. Rows are read from the driver's row stream only while the caller asks for the
 * next batch — a slow caller leaves the stream paused, and the driver then downloads no further
 * chunks. Only rows up to `maxRows` (and one more, to know whether there were more) are
 * requested, so the chunks past the limit are never downloaded.
 */
export class SnowflakeRowStream implements RowStream {
  readonly columns: readonly ResultColumn[];
  readonly #stmt: Snowflake.RowStatement;
  readonly #o: RowStreamOptions;
  readonly #decoders: readonly ValueDecoder[];
  #rows: Readable | undefined;
  #outcome: StreamOutcome | undefined;
  #finished = false;

  constructor(stmt: Snowflake.RowStatement, o: RowStreamOptions) {
    this.#stmt = stmt;
    this.#o = o;
    this.columns = describeColumns(stmt.getColumns());
    this.#decoders = this.columns.map((c) => valueDecoder(c.snowflake!));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<(string | null)[][]> {
    if (this.#finished) return;
    const { maxRows, signal } = this.#o;
    let delivered = 0;
    let truncated = false;
    try {
      if (maxRows === 0) {
        truncated = this.#stmt.getNumRows() > 0;
      } else {
        const rows = this.#stmt.streamRows({ start: 0, end: maxRows });
        this.#rows = rows;
        for (;;) {
          signal?.throwIfAborted();
          const batch = await this.#nextBatch(rows, maxRows + 1 - delivered);
          if (batch.length === 0) break;
          if (delivered + batch.length > maxRows) {
            batch.length = maxRows - delivered;
            truncated = true;
          }
          delivered += batch.length;
          if (batch.length > 0) yield batch;
          if (truncated) break;
        }
      }
      const { command, rowCount } = commandOf(this.#o.keyword, delivered, this.#updatedRows());
      this.#outcome = { rowCount, command, truncated, notices: [], queryId: this.#stmt.getQueryId() };
      this.#finish(false);
    } catch (e) {
      this.#finish(!signal?.aborted);
      throw this.#failure(e);
    } finally {
      // The caller stopped early (break, return, a throw in its loop body).
      if (!this.#finished) this.#finish(false);
    }
  }

  outcome(): StreamOutcome {
    if (this.#outcome === undefined) throw new Error('outcome() read before the rows were exhausted');
    return this.#outcome;
  }

  async close(): Promise<void> {
    if (this.#finished) return;
    // A finished statement has nothing left running upstream; cancelling still stops one that
    // the driver is polling for, and is a no-op otherwise.
    this.#stmt.cancel(() => {});
    this.#finish(false);
  }

  /** Up to `want` (and at most BATCH_ROWS) decoded rows; empty at the end of the result. */
  async #nextBatch(rows: Readable, want: number): Promise<(string | null)[][]> {
    const limit = Math.min(want, BATCH_ROWS);
    const batch: (string | null)[][] = [];
    for (;;) {
      let row: unknown;
      while (batch.length < limit && (row = rows.read()) !== null) batch.push(this.#decode(row as unknown[]));
      if (batch.length >= limit || rows.readableEnded) return batch;
      await readable(rows, this.#o.signal);
      if (rows.readableEnded && rows.readableLength === 0) return batch;
    }
  }

  #decode(row: readonly unknown[]): (string | null)[] {
    const out = new Array<string | null>(this.#decoders.length);
    for (let i = 0; i < out.length; i++) out[i] = this.#decoders[i]!(row[i]);
    return out;
  }

  #updatedRows(): number {
    try {
      const n = this.#stmt.getNumUpdatedRows();
      return typeof n === 'number' ? n : -1;
    } catch {
      return -1;
    }
  }

  #finish(broken: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#rows?.destroy();
    this.#o.done(broken);
  }

  #failure(e: unknown): Error {
    if (this.#o.signal?.aborted) return new SnowflakeStatementError('57014', 'SQL execution canceled', '000604', this.#stmt.getQueryId());
    if (e instanceof TypeError) return new PortcullisError('ERR_UPSTREAM_LOST', `connection "${this.#o.connection}": unreadable result: ${this.#o.scrub(e.message)}`);
    return statementFailure(e, this.#o.connection, this.#o.scrub);
  }
}

/** Resolves once the stream has rows to read or has ended; rejects on its error or on abort. */
function readable(rows: Readable, signal: AbortSignal | undefined): Promise<void> {
  if (rows.errored) return Promise.reject(rows.errored);
  if (rows.readableEnded || rows.destroyed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (e?: unknown): void => {
      rows.off('readable', ok);
      rows.off('end', ok);
      rows.off('close', ok);
      rows.off('error', settle);
      signal?.removeEventListener('abort', abort);
      if (e === undefined) resolve();
      else reject(e);
    };
    const ok = (): void => settle();
    const abort = (): void => settle(signal?.reason ?? new Error('aborted'));
    rows.on('readable', ok);
    rows.on('end', ok);
    rows.on('close', ok);
    rows.on('error', settle);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
