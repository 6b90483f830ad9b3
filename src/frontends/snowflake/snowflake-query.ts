import { randomUUID } from 'node:crypto';
import type { Connector, StreamOutcome } from '../../connectors/connector.js';
import type { MaskedRowStream, PipelineSession } from '../../pipeline/pipeline.js';
import { encodeColumns, type EncodedColumns } from './result-columns.js';
import { affectedRowsColumn, statementTypeId } from './statement-type.js';
import { cancelledFailure, deniedFailure, failureOf, type SnowflakeFailure } from './wire-errors.js';
import { PortcullisError } from '../../errors/portcullis-error.js';

export interface QueryRunOptions {
  readonly session: PipelineSession;
  readonly connector: Connector;
  readonly sql: string;
  readonly params: readonly (string | null)[] | undefined;
  readonly maxRows: number;
  /** Encoded row bytes kept before anyone fetches the result; past it, pulling stops. */
  readonly bufferBytes: number;
  /** Masks values a database quoted into an error message. */
  readonly maskText: (s: string, sql?: string) => string;
  /** The client's own request id (snowflake-sdk retries a query-request with the same one). */
  readonly clientRequestId?: string | undefined;
  /**
   * `describeOnly` (JDBC's prepareStatement, a driver's describe): the statement is decided
   * but not run. A plain read that policy allows is run for zero rows, which gives its columns;
   * anything else is described without columns, and runs (or waits for a reviewer) only when
   * the client executes it.
   */
  readonly describeOnly?: boolean | undefined;
}

/** Where a result is written: the driver protocol's or the SQL API's JSON envelope. */
export interface RowsetOut {
  begin(columns: EncodedColumns): void;
  /** Resolves once the rows are handed to the socket (after 'drain' when it was full); rejects when the client went away. */
  rows(batch: readonly string[]): Promise<void>;
  /** `truncated`: a row limit cut the result; it says so in the envelope's message. */
  end(summary: { readonly returned: number; readonly statementTypeId: number; readonly failure?: SnowflakeFailure | undefined; readonly truncated?: string | undefined }): void;
}

/** What a fetch of the query's result finds. */
export type QueryStatus =
  | { readonly kind: 'running'; readonly held?: string | undefined }
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly failure: SnowflakeFailure }
  | { readonly kind: 'busy' }
  | { readonly kind: 'gone' };

/**
 * One statement of a Snowflake session, from query-request to its last fetch. It runs through
 * `PipelineSession.stream` at once; its result waits un-pulled past `bufferBytes`, so a query
 * nobody fetches holds a bounded amount of memory and back-pressures the upstream. A result
 * that fitted the buffer whole is kept for a second fetch; a larger one is streamed through
 * once and then reported as no longer available.
 */
export class SnowflakeQuery {
  readonly id: string = randomUUID();
  readonly createdAt = Date.now();
  readonly sql: string;
  readonly clientRequestId: string | undefined;
  /** When the query stopped needing anything from the upstream (finished, failed or cancelled). */
  doneAt: number | undefined;
  readonly #o: QueryRunOptions;
  readonly #abort = new AbortController();
  #held: string | undefined;
  #failure: SnowflakeFailure | undefined;
  #rows: MaskedRowStream | undefined;
  #iter: AsyncIterator<(string | null)[][]> | undefined;
  #columns: EncodedColumns | undefined;
  #buffer: string[] = [];
  #bufferBytes = 0;
  #exhausted = false;
  #outcome: StreamOutcome | undefined;
  /** The policy rule whose max_rows bounds this result, when one does. */
  #limitRule: string | undefined;
  #streamFailure: SnowflakeFailure | undefined;
  #inflight: Promise<void> | undefined;
  #consumer = false;
  #dropped = false;
  #waiters: (() => void)[] = [];
  readonly #run: Promise<void>;

  constructor(o: QueryRunOptions) {
    this.#o = o;
    this.sql = o.sql;
    this.clientRequestId = o.clientRequestId;
    this.#run = this.#start();
  }

  /** Bytes this query holds for a later fetch (the registry's memory bound). */
  get retainedBytes(): number {
    return this.#bufferBytes;
  }

  get status(): QueryStatus {
    if (this.#failure) return { kind: 'failed', failure: this.#failure };
    if (!this.#rows) return { kind: 'running', held: this.#held };
    if (this.#consumer) return { kind: 'busy' };
    if (this.#dropped) return { kind: 'gone' };
    return { kind: 'ready' };
  }

  /**
   * Resolves when the query leaves 'running' or after `ms`. With `untilHeld`, also as soon as it
   * is held for a reviewer: the first answer tells the client at once what it waits for, while a
   * poll waits the whole time so a driver does not spin on a held statement.
   */
  async settle(ms: number, untilHeld: boolean): Promise<QueryStatus> {
    const deadline = Date.now() + ms;
    for (;;) {
      const s = this.status;
      const left = deadline - Date.now();
      if (s.kind !== 'running' || (untilHeld && s.held !== undefined) || left <= 0) return s;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.push(done);
      });
    }
  }

  /** Abort-request, logout, expiry: the upstream statement is cancelled, a held one withdrawn. */
  async cancel(reason: string): Promise<void> {
    if (this.doneAt !== undefined && this.#failure) return;
    if (!this.#rows) {
      this.#abort.abort(new PortcullisError('ERR_PROTOCOL_VIOLATION', reason));
      if (this.#held !== undefined) this.#o.session.withdrawHeld();
      this.#fail(cancelledFailure(reason));
      return;
    }
    if (this.#exhausted && !this.#consumer) return;
    this.#fail(cancelledFailure(reason));
    this.#abort.abort();
    await this.#rows.close().catch(() => undefined);
  }

  /** Drops everything held; the query is no longer reachable. */
  async dispose(): Promise<void> {
    if (!this.#exhausted || this.#consumer) await this.cancel('the query was evicted');
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#dropped = true;
  }

  /**
   * Streams the result into `out`. The caller has seen `status.kind === 'ready'`. Rows already
   * buffered go first; the rest are pulled batch by batch as `out` accepts them.
   */
  async deliver(out: RowsetOut): Promise<void> {
    if (this.status.kind !== 'ready') throw new TypeError('deliver() needs a ready result');
    this.#consumer = true;
    let returned = 0;
    try {
      await this.#inflight;
      // Filling the buffer first lets a result that fits be kept for a second fetch.
      while (!this.#exhausted && !this.#streamFailure && !this.#failure && this.#bufferBytes < this.#o.bufferBytes) await this.#pull();
      // A result without columns (a write, DDL) is drained first: its count becomes the row.
      if (this.#rows!.columns.length === 0) while (!this.#exhausted && !this.#streamFailure) await this.#pull();
      const synthetic = this.#rows!.columns.length === 0 && this.#outcome ? affectedRowsColumn(this.#outcome.command) : undefined;
      const columns = synthetic ? encodeColumns([synthetic], [false]) : this.#columns!;
      out.begin(columns);
      if (synthetic) {
        await out.rows([columns.encodeRow([String(this.#outcome!.rowCount ?? 0)])]);
        returned = 1;
      } else if (this.#exhausted) {
        // Whole in memory: written, and kept for a second fetch.
        await out.rows(this.#buffer);
        returned = this.#buffer.length;
      } else {
        this.#dropped = true;
        for (;;) {
          if (this.#buffer.length > 0) {
            const batch = this.#buffer;
            this.#buffer = [];
            this.#bufferBytes = 0;
            await out.rows(batch);
            returned += batch.length;
          }
          if (this.#exhausted || this.#streamFailure || this.#failure) break;
          await this.#pull();
        }
      }
      const failure = this.#streamFailure ?? this.#failure;
      // An agent reading a cut result as complete would draw wrong conclusions: say so, as pgwire's NOTICE does.
      const truncated = failure === undefined && this.#outcome?.truncated === true ? truncationMessage(returned, this.#limitRule) : undefined;
      out.end({ returned, statementTypeId: statementTypeId(this.#outcome?.command ?? 'SELECT'), failure, truncated });
    } catch (e) {
      // The client went away mid-result: the upstream statement must not run on for nobody.
      this.#dropped = true;
      await this.cancel('the client stopped reading the result');
      throw e;
    } finally {
      this.#consumer = false;
    }
  }

  async #start(): Promise<void> {
    const o = this.#o;
    try {
      const rows = o.describeOnly === true ? await this.#describe() : await this.#admitted();
      if (rows === undefined) return;
      this.#rows = rows;
      this.#columns = encodeColumns(rows.columns, rows.masked);
      this.#iter = rows[Symbol.asyncIterator]();
      this.#notify();
      await this.#prefetch();
    } catch (e) {
      this.#fail(this.#abort.signal.aborted && this.#failure ? this.#failure : failureOf(e, (m) => o.maskText(m, o.sql)));
    }
  }

  /** The statement through the pipeline; undefined when it failed (the failure is set). */
  async #admitted(maxRows = this.#o.maxRows): Promise<MaskedRowStream | undefined> {
    const o = this.#o;
    const { verdict, rows } = await o.session.stream(o.connector, {
      sql: o.sql,
      params: o.params,
      maxRows,
      signal: this.#abort.signal,
      requestId: this.id,
      hooks: {
        onHold: (_requestId, message) => {
          this.#held = message;
          this.#notify();
        },
      },
    });
    this.#held = undefined;
    if (this.#failure) {
      await rows?.close();
      return undefined;
    }
    const d = verdict.decision;
    if (d.action === 'deny') return void this.#fail(deniedFailure(d));
    if (d.action === 'allow' && d.maxRows !== undefined && d.maxRows <= maxRows) this.#limitRule = d.rule;
    if (d.action !== 'allow' || rows === undefined) {
      return void this.#fail(deniedFailure({ action: 'deny', rule: d.rule, code: 'ERR_APPROVAL_REQUIRED', reason: 'the statement was not admitted' }));
    }
    return rows;
  }

  /** describeOnly: decided now, run only as a plain allowed read for zero rows (its columns). */
  async #describe(): Promise<MaskedRowStream | undefined> {
    const v = this.#o.session.explain(this.#o.sql, this.#o.params);
    const d = v.decision;
    if (d.action === 'deny') return void this.#fail(deniedFailure(d));
    if (d.action !== 'allow' || v.analysis.kind !== 'read' || v.analysis.risks.length > 0) return describedWithoutColumns();
    return this.#admitted(0);
  }

  async #prefetch(): Promise<void> {
    while (!this.#exhausted && !this.#consumer && !this.#streamFailure && !this.#failure && this.#bufferBytes < this.#o.bufferBytes) await this.#pull();
    // Failing before anyone fetched: the whole answer is the error.
    if (this.#streamFailure && !this.#consumer) this.#fail(this.#streamFailure);
  }

  #pull(): Promise<void> {
    this.#inflight ??= this.#pullOnce().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #pullOnce(): Promise<void> {
    try {
      const r = await this.#iter!.next();
      if (r.done) {
        this.#exhausted = true;
        this.#outcome = this.#rows!.outcome();
        this.doneAt = Date.now();
        return;
      }
      const cols = this.#columns!;
      for (const row of r.value) {
        const s = cols.encodeRow(row);
        this.#buffer.push(s);
        this.#bufferBytes += s.length;
      }
    } catch (e) {
      this.#streamFailure = this.#failure ?? failureOf(e, (m) => this.#o.maskText(m, this.#o.sql));
      this.doneAt = Date.now();
    }
  }

  #fail(f: SnowflakeFailure): void {
    this.#failure ??= f;
    this.doneAt ??= Date.now();
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#notify();
  }

  #notify(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** For tests and shutdown: resolves when the statement has been admitted (or refused). */
  get started(): Promise<void> {
    return this.#run;
  }
}

/** A described statement that was not run: no columns, no rows. */
function describedWithoutColumns(): MaskedRowStream {
  return {
    columns: [],
    masked: [],
    async *[Symbol.asyncIterator]() {},
    outcome: () => ({ rowCount: 0, command: 'DESCRIBE', truncated: false, notices: [] }),
    close: async () => {},
  };
}

function truncationMessage(returned: number, rule: string | undefined): string {
  const by = rule === undefined ? "the gateway's row limit for this listener" : `Portcullis policy rule "${rule}" (max_rows)`;
  return `Statement executed successfully. The result was cut to ${returned} rows by ${by}; narrow the query (WHERE, LIMIT, aggregates) to see the rest.`;
}
