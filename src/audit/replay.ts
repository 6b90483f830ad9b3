import type { RecordedStatement, SessionDetail } from './query.js';

export interface ReplayOptions {
  /** 1 = real time, 2 = twice as fast, 0 = no delays. */
  readonly speed: number;
  /** Longest pause, in recorded time, between two statements; idle gaps are shortened to it. */
  readonly maxGapMs?: number;
  readonly write: (text: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

const CELL_MAX = 40;

/**
 * Plays a recorded session back as it happened: each statement after the pause that preceded
 * it, then the decision, the result table (as the client received it) and the timings.
 */
export async function replaySession(d: SessionDetail, opts: ReplayOptions): Promise<void> {
  const w = opts.write;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxGap = opts.maxGapMs ?? 5000;
  const start = Date.parse(d.start.time);
  const s = d.summary;
  w(`session ${s.id}\n`);
  w(`  ${s.subject}${s.groups.length ? ` (${s.groups.join(', ')})` : ''} via ${s.frontend} from ${s.address}${s.applicationName ? ` [${s.applicationName}]` : ''} on ${s.connection}\n`);
  w(`  started ${s.startedAt}\n\n`);
  let prev = start;
  for (const r of d.statements) {
    const at = Date.parse(r.statement.time);
    const gap = Math.min(Math.max(0, at - prev), maxGap);
    if (opts.speed > 0 && gap > 0) await sleep(gap / opts.speed);
    prev = at;
    w(renderStatement(r, at - start));
  }
  if (d.end) w(`session ended ${d.end.time} (${d.end.reason}) after ${fmtSeconds(Date.parse(d.end.time) - start)}\n`);
  else w('session still open (or the gateway stopped without ending it)\n');
}

export function renderStatement(r: RecordedStatement, offsetMs: number): string {
  const st = r.statement;
  const dec = st.decision;
  let out = `[+${fmtSeconds(offsetMs)}] #${st.statement} ${st.subject}> ${st.sql}\n`;
  if (st.params?.length) out += `  params: ${st.params.map((p) => (p === null ? 'NULL' : JSON.stringify(p))).join(', ')}\n`;
  out += `  decision: ${dec.action} (rule ${dec.rule})${dec.reason ? `: ${dec.reason}` : ''}\n`;
  if (dec.wouldHave) out += `  audit-only: would have been ${dec.wouldHave.action} by ${dec.wouldHave.rule}: ${dec.wouldHave.reason}\n`;
  const res = r.result;
  if (!res) return `${out}  (no result recorded)\n\n`;
  if (res.columns.length) out += formatTable(res.columns.map((c) => c.name), res.rows);
  if (res.truncated) out += `  (recording stopped after ${res.rows.length} rows; the client received ${res.rowCount ?? 'more'})\n`;
  if (res.error) out += `  error ${res.error.sqlstate}: ${res.error.message}\n`;
  else out += `  ${res.tag ?? ''}${res.rowCount !== null ? ` · ${res.rowCount} row${res.rowCount === 1 ? '' : 's'}` : ''} · ${res.bytes} bytes\n`;
  const t = res.timings;
  out += `  took ${t.executionMs} ms${t.approvalWaitMs ? ` (waited ${t.approvalWaitMs} ms for approval)` : ''}\n\n`;
  return out;
}

/** A psql-style aligned table; long cells are cut so one wide value cannot wreck the screen. */
export function formatTable(names: readonly string[], rows: readonly (readonly (string | null)[])[]): string {
  const cell = (v: string | null | undefined) => {
    const s = v === null || v === undefined ? 'NULL' : v.replace(/[\r\n\t]/g, ' ');
    return s.length > CELL_MAX ? `${s.slice(0, CELL_MAX - 1)}…` : s;
  };
  const body = rows.map((r) => names.map((_, i) => cell(r[i])));
  const widths = names.map((n, i) => Math.max(n.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')}`.trimEnd();
  let out = `${line(names)}\n  ${widths.map((w) => '-'.repeat(w)).join('-+-')}\n`;
  for (const r of body) out += `${line(r)}\n`;
  return out;
}

function fmtSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}
