import { randomBytes, randomUUID } from 'node:crypto';
import type { Binding } from '../../codecs/snowflake/messages.js';
import type { StoredResult } from './result-builder.js';
import type { EmulatedSqlError } from './sql-errors.js';

export type QueryStatus = 'RUNNING' | 'SUCCESS' | 'FAILED_WITH_ERROR' | 'ABORTED';

/** What `history()` shows for each statement the emulator received. */
export interface EmulatorQuery {
  readonly queryId: string;
  readonly sqlText: string;
  readonly user: string;
  readonly sessionId: number;
  /** The statement's QUERY_TAG: its own `parameters.QUERY_TAG`, else the session's (ALTER SESSION / login). */
  readonly queryTag: string | null;
  /** Statement-level parameters as the driver sent them. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly bindings: Readonly<Record<string, Binding>> | null;
  readonly asyncExec: boolean;
  readonly status: QueryStatus;
  readonly errorCode: string | null;
  readonly rowCount: number | null;
  readonly startTime: number;
  readonly endTime: number | null;
}

/** A statement the emulator is running or has run. */
export class QueryRecord {
  readonly queryId = randomUUID();
  /** Sent as a chunk header and required on chunk downloads, as a presigned URL would be. */
  readonly chunkKey = randomBytes(18).toString('base64url');
  status: QueryStatus = 'RUNNING';
  result: StoredResult | null = null;
  error: EmulatedSqlError | null = null;
  endTime: number | null = null;
  /** Settles when the statement has finished, whatever the outcome. */
  done: Promise<void> = Promise.resolve();
  /** Stops the statement (DuckDB interrupt); set while it runs. */
  abort: (() => void) | null = null;
  readonly startTime = Date.now();

  constructor(
    readonly sqlText: string,
    readonly sessionId: number,
    readonly user: string,
    readonly queryTag: string | null,
    readonly parameters: Readonly<Record<string, unknown>>,
    readonly bindings: Readonly<Record<string, Binding>> | null,
    readonly asyncExec: boolean,
    readonly requestId: string | null,
  ) {}

  snapshot(): EmulatorQuery {
    return {
      queryId: this.queryId,
      sqlText: this.sqlText,
      user: this.user,
      sessionId: this.sessionId,
      queryTag: this.queryTag,
      parameters: this.parameters,
      bindings: this.bindings,
      asyncExec: this.asyncExec,
      status: this.status,
      errorCode: this.error?.code ?? null,
      rowCount: this.result?.total ?? null,
      startTime: this.startTime,
      endTime: this.endTime,
    };
  }
}

/**
 * Every statement in arrival order. Results are kept for the most recent `keepResults`
 * statements only (a dev tool must not grow without bound); older ones keep their history entry.
 */
export class QueryRegistry {
  readonly #byId = new Map<string, QueryRecord>();
  readonly #order: QueryRecord[] = [];
  readonly #withResult: QueryRecord[] = [];

  constructor(private readonly keepResults: number) {}

  add(q: QueryRecord): void {
    this.#byId.set(q.queryId, q);
    this.#order.push(q);
  }

  get(queryId: string): QueryRecord | undefined {
    return this.#byId.get(queryId);
  }

  byRequestId(requestId: string): QueryRecord | undefined {
    for (let i = this.#order.length - 1; i >= 0; i--) if (this.#order[i]!.requestId === requestId) return this.#order[i];
    return undefined;
  }

  /** Records a finished result, dropping the oldest kept result past the limit. */
  retain(q: QueryRecord): void {
    this.#withResult.push(q);
    while (this.#withResult.length > this.keepResults) this.#withResult.shift()!.result = null;
  }

  history(): EmulatorQuery[] {
    return this.#order.map((q) => q.snapshot());
  }
}
