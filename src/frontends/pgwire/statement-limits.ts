import type { AllowDecision } from '../../pipeline/decision.js';

/**
 * The limits an allow decision puts on what a statement may return and how long it may run
 * (`max_rows`, `timeout`), tracked across the protocol's ways of running a statement: a simple
 * Query, or Parse once and then Bind/Execute as often as the client likes.
 *
 * Responses arrive in the order their sync points (Query, Sync) were sent, so each limit is
 * kept as a window keyed by the sync point whose responses it governs.
 */
export interface Limits {
  readonly rule: string;
  readonly maxRows: number | undefined;
  readonly timeoutMs: number | undefined;
}

export interface LimitWindow {
  /** The sync-point count whose ReadyForQuery closes this window. */
  readonly sync: number;
  limits: Limits;
  timer: NodeJS.Timeout | undefined;
  timedOut: boolean;
}

export function limitsOf(d: AllowDecision): Limits | undefined {
  if (d.maxRows === undefined && d.timeoutMs === undefined) return undefined;
  return { rule: d.rule, maxRows: d.maxRows, timeoutMs: d.timeoutMs };
}

/** The stricter of two limit sets, for several limited Executes in one batch. */
export function stricter(a: Limits, b: Limits): Limits {
  const min = (x: number | undefined, y: number | undefined) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  const maxRows = min(a.maxRows, b.maxRows);
  return { rule: maxRows === b.maxRows && maxRows !== a.maxRows ? b.rule : a.rule, maxRows, timeoutMs: min(a.timeoutMs, b.timeoutMs) };
}

/**
 * `SELECT 1000000` → `SELECT 5`. Tags of writes keep their count: the rows were written, only
 * the RETURNING rows shown were cut, and the tag must not under-report what changed.
 */
export function truncatedTag(tag: string, rows: number): string {
  const m = /^(SELECT|FETCH) \d+$/.exec(tag);
  return m ? `${m[1]} ${rows}` : tag;
}
