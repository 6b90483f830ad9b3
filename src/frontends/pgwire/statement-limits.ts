import type { AllowDecision } from '../../pipeline/decision.js';

/**
 * The limits an allow decision puts on what a statement may return and how long it may run
 * (`max_rows`, `timeout`), tracked across the protocol's ways of running a statement: a simple
 * Query, or Parse once and then Bind/Execute as often as the client likes.
 *
 * The relay attaches them to each execution (see executions.ts); a portal keeps its row count
 * across chunked Executes, so fetching in small chunks cannot reset the cap.
 */
export interface Limits {
  readonly rule: string;
  readonly maxRows: number | undefined;
  readonly timeoutMs: number | undefined;
}

export function limitsOf(d: AllowDecision): Limits | undefined {
  if (d.maxRows === undefined && d.timeoutMs === undefined) return undefined;
  return { rule: d.rule, maxRows: d.maxRows, timeoutMs: d.timeoutMs };
}

/**
 * `SELECT 1000000` → `SELECT 5`. Tags of writes keep their count: the rows were written, only
 * the RETURNING rows shown were cut, and the tag must not under-report what changed.
 */
export function truncatedTag(tag: string, rows: number): string {
  const m = /^(SELECT|FETCH) \d+$/.exec(tag);
  return m ? `${m[1]} ${rows}` : tag;
}
