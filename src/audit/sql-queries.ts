import type { SessionQuery } from './store.js';

/**
 * The read queries, written once for both stores: `p(n)` renders the n-th placeholder
 * (`?` for SQLite, `$n` for PostgreSQL) and `t(name)` a table name (schema-qualified in
 * PostgreSQL).
 */
export interface Dialect {
  p(n: number): string;
  t(name: 'events' | 'checkpoints' | 'anchors'): string;
}

export const EVENT_COLUMNS = 'seq, time_ms, type, session, statement, subject, connection, action, prev_hash, hash, body';

export function sessionStartsQuery(d: Dialect, q: SessionQuery): { sql: string; params: unknown[] } {
  const where = [`type = 'session.start'`];
  const params: unknown[] = [];
  const add = (cond: (ph: string) => string, v: unknown) => {
    params.push(v);
    where.push(cond(d.p(params.length)));
  };
  if (q.subject !== undefined) add((ph) => `subject = ${ph}`, q.subject);
  if (q.connection !== undefined) add((ph) => `connection = ${ph}`, q.connection);
  if (q.sinceMs !== undefined) add((ph) => `time_ms >= ${ph}`, q.sinceMs);
  if (q.untilMs !== undefined) add((ph) => `time_ms < ${ph}`, q.untilMs);
  if (q.beforeSeq !== undefined) add((ph) => `seq < ${ph}`, q.beforeSeq);
  if (q.action !== undefined) {
    add((ph) => `EXISTS (SELECT 1 FROM ${d.t('events')} s WHERE s.session = ${d.t('events')}.session AND s.type = 'statement' AND s.action = ${ph})`, q.action);
  }
  params.push(q.limit);
  return { sql: `SELECT ${EVENT_COLUMNS} FROM ${d.t('events')} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ${d.p(params.length)}`, params };
}

export function sessionEventsQuery(
  d: Dialect,
  sessions: readonly string[],
  opts: { types?: readonly string[]; fromStatement?: number; toStatement?: number } = {},
): { sql: string; params: unknown[] } {
  const params: unknown[] = [...sessions];
  const where = [`session IN (${sessions.map((_, i) => d.p(i + 1)).join(', ')})`];
  if (opts.types?.length) {
    const start = params.length;
    params.push(...opts.types);
    where.push(`type IN (${opts.types.map((_, i) => d.p(start + i + 1)).join(', ')})`);
  }
  // Session start and end carry no statement number; a statement range keeps them.
  if (opts.fromStatement !== undefined) {
    params.push(opts.fromStatement);
    where.push(`(statement IS NULL OR statement >= ${d.p(params.length)})`);
  }
  if (opts.toStatement !== undefined) {
    params.push(opts.toStatement);
    where.push(`(statement IS NULL OR statement <= ${d.p(params.length)})`);
  }
  return { sql: `SELECT ${EVENT_COLUMNS} FROM ${d.t('events')} WHERE ${where.join(' AND ')} ORDER BY seq`, params };
}

export function openSessionsQuery(d: Dialect): string {
  const ev = d.t('events');
  // The gateway name lives only in the body; the caller filters by parsing it.
  return `SELECT ${EVENT_COLUMNS} FROM ${ev} st WHERE st.type = 'session.start' AND NOT EXISTS (SELECT 1 FROM ${ev} en WHERE en.session = st.session AND en.type = 'session.end') ORDER BY seq`;
}

/** The newest checkpoint whose event is older than the cutoff: the end of the last prunable segment. */
export function pruneTargetQuery(d: Dialect): string {
  return `SELECT c.seq, c.hash, c.time_ms, c.key_id, c.signature FROM ${d.t('checkpoints')} c JOIN ${d.t('events')} e ON e.seq = c.seq WHERE e.time_ms < ${d.p(1)} ORDER BY c.seq DESC LIMIT 1`;
}

export function toEventRow(r: Record<string, unknown>): import('./chain.js').EventRow {
  return {
    seq: Number(r.seq),
    timeMs: Number(r.time_ms),
    type: String(r.type),
    session: String(r.session),
    statement: r.statement === null ? null : Number(r.statement),
    subject: (r.subject as string | null) ?? null,
    connection: (r.connection as string | null) ?? null,
    action: (r.action as string | null) ?? null,
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
    body: String(r.body),
  };
}

export function toCheckpointRow(r: Record<string, unknown>): import('./checkpoint.js').CheckpointRow {
  return {
    seq: Number(r.seq),
    hash: String(r.hash),
    timeMs: Number(r.time_ms),
    keyId: (r.key_id as string | null) ?? null,
    signature: (r.signature as string | null) ?? null,
  };
}

export function sessionStatsQuery(d: Dialect, sessions: readonly string[]): string {
  return `SELECT session, count(*) AS statements, sum(CASE WHEN action = 'allow' THEN 0 ELSE 1 END) AS refused FROM ${d.t('events')} WHERE type = 'statement' AND session IN (${sessions.map((_, i) => d.p(i + 1)).join(', ')}) GROUP BY session`;
}

export interface SessionStats {
  readonly session: string;
  readonly statements: number;
  /** Statements denied (or held for review) rather than allowed. */
  readonly refused: number;
}

export function toSessionStats(r: Record<string, unknown>): SessionStats {
  return { session: String(r.session), statements: Number(r.statements), refused: Number(r.refused ?? 0) };
}
