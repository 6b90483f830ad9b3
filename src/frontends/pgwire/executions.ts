import type { Verdict } from '../../pipeline/decision.js';
import type { ResultSink } from '../../pipeline/stages.js';
import { BodyReader } from '../../codecs/pgwire/body-reader.js';
import type { Limits } from './statement-limits.js';
import type { CopyFormat, MaskPlan } from '../../masking/index.js';
import type { MaskedStatement } from './wire-masking.js';

/**
 * What the relay remembers between a client's messages and the server's answers to them.
 *
 * Responses come back in the order statements were sent, so one FIFO of executions is
 * enough to attribute every RowDescription, DataRow and CommandComplete: a simple Query is one
 * execution (its statements' results end at ReadyForQuery); an Execute of a portal is one
 * execution (ended by CommandComplete, PortalSuspended, EmptyQueryResponse or an error); a
 * refused statement's stand-in is one execution (ended by its error).
 * https://www.postgresql.org/docs/current/protocol-flow.html
 */

/** A statement prepared by Parse, as it was admitted. */
export interface Prepared {
  readonly sql: string;
  readonly verdict: Verdict;
  readonly limits: Limits | undefined;
}

/** A portal created by Bind. Its row count survives chunked Executes across Syncs. */
export interface Portal {
  readonly stmt: Prepared | undefined;
  /** The statement name Bind named: what a statement PREPAREd in SQL is executed as. */
  readonly statement: string;
  readonly params: (string | null)[] | null;
  /**
   * The values exactly as bound (binary ones as `\\x` hex), kept only for a statement whose
   * review waits for them: the approval is bound to these, while the record gets them masked.
   */
  readonly rawParams?: (string | null)[] | undefined;
  rows: number;
  truncated: boolean;
}

export type ExecutionKind = 'query' | 'execute' | 'refusal';

export interface Execution {
  readonly kind: ExecutionKind;
  /** The sync-point count whose ReadyForQuery ends this execution's batch. */
  readonly sync: number;
  readonly portal: Portal | null;
  readonly limits: Limits | undefined;
  readonly sink: ResultSink | undefined;
  /** Row counting for a simple Query's result sets (a portal counts on itself). */
  rows: number;
  truncated: boolean;
  /** Column formats from the last RowDescription: true where binary. */
  binary: boolean[] | null;
  /** A simple Query's last CommandComplete tag, recorded at ReadyForQuery. */
  tag: string;
  timer: NodeJS.Timeout | undefined;
  timedOut: boolean;
  /** For masking: the SQL and the profiles its decision named; undefined for refusals. */
  readonly stmt: MaskedStatement | undefined;
  /** True when the statement was DDL: the catalog must be reloaded once it completes. */
  readonly ddl: boolean;
  /** Which row-returning statement of a multi-statement Query the next RowDescription is for. */
  resultIndex: number;
  /** Which COPY … TO STDOUT of a multi-statement Query the next CopyOutResponse is for. */
  copyIndex: number;
  plan: MaskPlan | null;
  /**
   * With masking on: whether `plan` was made from this result's own columns. Rows arriving
   * while it is false cannot be masked, so they end the session instead of passing.
   */
  planned: boolean;
  copy: { plan: MaskPlan | null; format: CopyFormat } | null;
}

export function newExecution(
  kind: ExecutionKind,
  sync: number,
  portal: Portal | null,
  limits: Limits | undefined,
  sink: ResultSink | undefined,
  stmt?: MaskedStatement,
  ddl = false,
): Execution {
  return { kind, sync, portal, limits, sink, rows: 0, truncated: false, binary: null, tag: '', timer: undefined, timedOut: false, stmt, ddl, resultIndex: 0, copyIndex: 0, plan: null, planned: false, copy: null };
}

const reader = new BodyReader(Buffer.alloc(0));

/** RowDescription: column names and which columns are binary. */
export function parseRowDescription(buf: Buffer, start: number, end: number): { names: string[]; binary: boolean[] | null } {
  const r = reader.reset(buf, start + 5, end);
  const n = r.int16();
  const names = new Array<string>(n);
  let binary: boolean[] | null = null;
  for (let i = 0; i < n; i++) {
    names[i] = r.cstring();
    r.pos += 16; // table oid, attnum, type oid, type size, type modifier
    if (r.int16() === 1) (binary ??= new Array<boolean>(n).fill(false))[i] = true;
  }
  return { names, binary };
}

/** DataRow values: text columns decoded, binary ones as bytes, NULL as null. */
export function parseDataRow(buf: Buffer, start: number, end: number, binary: boolean[] | null): (string | Uint8Array | null)[] {
  const r = reader.reset(buf, start + 5, end);
  const n = r.int16();
  const out = new Array<string | Uint8Array | null>(n);
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    if (len < 0) out[i] = null;
    else if (binary !== null && binary[i] === true) out[i] = r.bytes(len);
    else {
      if (r.pos + len > end) throw new RangeError('DataRow value overruns its message');
      out[i] = buf.toString('utf8', r.pos, r.pos + len);
      r.pos += len;
    }
  }
  return out;
}

/** Bind parameters for the record: text as is, binary as `\x…` hex, as psql would show bytea. */
export function recordableParams(params: (string | Buffer | null)[]): (string | null)[] {
  return params.map((p) => (p === null ? null : typeof p === 'string' ? p : '\\x' + p.toString('hex')));
}
