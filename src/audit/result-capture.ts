import { isoTime } from './event-time.js';
import type { ResultColumn, StatementResultEvent } from './events.js';

/**
 * Column lists by the names array they were built from: a frontend that hands the same names
 * (and formats) array for a repeated result shape gets the same columns back, whose JSON the
 * chain then serializes once (chain.ts caches it by identity). Never mutated once built.
 */
const builtColumns = new WeakMap<readonly string[], { readonly formats: readonly string[] | undefined; readonly columns: readonly ResultColumn[]; readonly binary: boolean[] | undefined }>();

export interface ResultCaps {
  readonly maxRows: number;
  readonly maxBytes: number;
}

/**
 * Records one statement's result as the client receives it. The frontend feeds it as rows
 * stream by; it copies rows until `audit.results.max_rows` or `max_bytes` is reached and after
 * that only counts, so a million-row result costs a counter increment per row.
 *
 * Exactly one of `complete` or `error` ends it (later calls are ignored); the result event is
 * then queued for the store (asynchronously — the statement itself is already durable).
 *
 * @example
 *   const cap = await recorder.statement(session, sql, verdict);
 *   cap.columns(['id', 'email']);
 *   for (const r of rows) cap.row(r);
 *   cap.complete('SELECT 2', 2);
 */
export class ResultCapture {
  readonly #emit: (e: StatementResultEvent) => void;
  readonly #session: string;
  readonly #statement: number;
  readonly #approvalWaitMs: number;
  readonly #caps: ResultCaps;
  readonly #now: () => number;
  readonly #started = performance.now();
  #columns: readonly ResultColumn[] = [];
  #binary: boolean[] | undefined;
  #rows: (string | null)[][] = [];
  #capturedBytes = 0;
  #bytes = 0;
  #seen = 0;
  #full: boolean;
  #truncated = false;
  #done = false;

  constructor(emit: (e: StatementResultEvent) => void, session: string, statement: number, approvalWaitMs: number, caps: ResultCaps, now: () => number) {
    this.#emit = emit;
    this.#session = session;
    this.#statement = statement;
    this.#approvalWaitMs = approvalWaitMs;
    this.#caps = caps;
    this.#now = now;
    this.#full = caps.maxRows === 0 || caps.maxBytes === 0;
  }

  get finished(): boolean {
    return this.#done;
  }

  /** False once the caps are reached: the frontend then skips decoding row values. */
  get accepting(): boolean {
    return !this.#full && !this.#done;
  }

  /** Column names as the client sees them; `binary` columns' values are recorded as base64. */
  columns(names: readonly string[], formats?: readonly ('text' | 'binary')[]): void {
    const built = builtColumns.get(names);
    if (built !== undefined && built.formats === formats) {
      this.#columns = built.columns;
      this.#binary = built.binary;
      return;
    }
    this.#columns = names.map((name, i) => ({ format: formats?.[i] ?? 'text', name }));
    this.#binary = formats?.some((f) => f === 'binary') ? formats.map((f) => f === 'binary') : undefined;
    builtColumns.set(names, { formats, columns: this.#columns, binary: this.#binary });
  }

  /**
   * One row, after masking. `wireBytes` (the DataRow size, if the frontend knows it) makes the
   * `bytes` total exact; without it, rows past the caps are estimated by string length.
   */
  row(values: readonly (string | Uint8Array | null)[], wireBytes?: number): void {
    this.#seen++;
    if (this.#full) {
      this.#truncated = true;
      if (wireBytes !== undefined) this.#bytes += wireBytes;
      else for (const v of values) if (v !== null) this.#bytes += v.length;
      return;
    }
    const copy: (string | null)[] = new Array<string | null>(values.length);
    let size = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        copy[i] = null;
      } else if (typeof v === 'string') {
        copy[i] = v;
        size += Buffer.byteLength(v);
      } else {
        copy[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
        size += v.byteLength;
      }
    }
    this.#bytes += wireBytes ?? size;
    if (this.#capturedBytes + size > this.#caps.maxBytes) {
      this.#full = true;
      this.#truncated = true;
      return;
    }
    this.#capturedBytes += size;
    this.#rows.push(copy);
    if (this.#rows.length >= this.#caps.maxRows) this.#full = true;
  }

  /** The command tag (`SELECT 3`, `UPDATE 7`); `rowCount` defaults to the tag's trailing number. */
  complete(tag: string, rowCount?: number | null): void {
    this.#finish(tag, rowCount === undefined ? tagCount(tag) : rowCount, null);
  }

  error(sqlstate: string, message: string): void {
    this.#finish(null, this.#seen > 0 ? this.#seen : null, { message, sqlstate });
  }

  #finish(tag: string | null, rowCount: number | null, error: { sqlstate: string; message: string } | null): void {
    if (this.#done) return;
    this.#done = true;
    const executionMs = Math.round((performance.now() - this.#started) * 1000) / 1000;
    this.#emit({
      bytes: this.#bytes,
      columns: this.#columns,
      error,
      rowCount,
      rows: this.#rows,
      session: this.#session,
      statement: this.#statement,
      tag,
      time: isoTime(this.#now()),
      timings: { approvalWaitMs: this.#approvalWaitMs, executionMs },
      truncated: this.#truncated,
      type: 'statement.result',
    });
  }
}

function tagCount(tag: string): number | null {
  const m = /(\d+)$/.exec(tag);
  return m ? Number(m[1]) : null;
}
