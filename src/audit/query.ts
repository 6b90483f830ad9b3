import type { EventRow } from './chain.js';
import type { SessionEndEvent, SessionStartEvent, StatementEvent, StatementResultEvent } from './events.js';
import type { AuditStore } from './store.js';

/** Filters for listing sessions; every field optional. */
export interface SessionFilter {
  /** Principal subject. */
  readonly user?: string | undefined;
  readonly connection?: string | undefined;
  /** Sessions started at or after (Date, epoch ms, or ISO text). */
  readonly since?: Date | number | string | undefined;
  readonly until?: Date | number | string | undefined;
  /** Sessions with at least one statement decided this way. */
  readonly decision?: 'allow' | 'deny' | 'review' | undefined;
}

export interface PageRequest {
  /** 1–500, default 50. */
  readonly limit?: number | undefined;
  /** `nextCursor` from the previous page. */
  readonly cursor?: string | null | undefined;
}

export interface SessionSummary {
  readonly id: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly issuer: string;
  readonly connection: string;
  readonly frontend: string;
  readonly address: string;
  readonly applicationName: string | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly endReason: string | null;
  readonly statements: number;
  /** Statements denied or held for review. */
  readonly refused: number;
}

export interface SessionPage {
  readonly items: readonly SessionSummary[];
  /** Pass as `cursor` for the next (older) page; null at the end. */
  readonly nextCursor: string | null;
}

export interface RecordedStatement {
  readonly statement: StatementEvent;
  readonly result: StatementResultEvent | null;
}

export interface SessionDetail {
  readonly summary: SessionSummary;
  readonly start: SessionStartEvent;
  readonly end: SessionEndEvent | null;
  readonly statements: readonly RecordedStatement[];
  /** Pass as `fromStatement` for the next page of statements; null when this was the last. */
  readonly nextStatement: number | null;
}

/**
 * The read side for the CLI, the HTTP API and the console: sessions newest first, keyset
 * paginated (a cursor is the seq of the last session.start shown), statements of one session
 * in order with their results.
 *
 * @example
 *   const q = new AuditQuery(store);
 *   const page = await q.listSessions({ user: 'alice', decision: 'deny' }, { limit: 20 });
 *   const more = await q.listSessions({ user: 'alice', decision: 'deny' }, { cursor: page.nextCursor });
 *   const s = await q.getSession(page.items[0].id, { fromStatement: 1, limit: 100 });
 */
export class AuditQuery {
  readonly #store: AuditStore;

  constructor(store: AuditStore) {
    this.#store = store;
  }

  async listSessions(filter: SessionFilter = {}, page: PageRequest = {}): Promise<SessionPage> {
    const limit = clampLimit(page.limit, 50, 500);
    const beforeSeq = page.cursor ? Number.parseInt(page.cursor, 10) : undefined;
    if (beforeSeq !== undefined && !(beforeSeq > 0)) throw new TypeError('listSessions: cursor must come from a previous page');
    const starts = await this.#store.findSessionStarts({
      subject: filter.user,
      connection: filter.connection,
      sinceMs: toMs(filter.since, 'since'),
      untilMs: toMs(filter.until, 'until'),
      action: filter.decision,
      beforeSeq,
      limit: limit + 1,
    });
    const more = starts.length > limit;
    const shown = more ? starts.slice(0, limit) : starts;
    const ids = shown.map((r) => r.session);
    const [ends, stats] = await Promise.all([this.#store.sessionEvents(ids, { types: ['session.end'] }), this.#store.sessionStats(ids)]);
    const endBy = new Map(ends.map((r) => [r.session, JSON.parse(r.body) as SessionEndEvent]));
    const statBy = new Map(stats.map((s) => [s.session, s]));
    return {
      items: shown.map((r) => summarize(JSON.parse(r.body) as SessionStartEvent, endBy.get(r.session) ?? null, statBy.get(r.session)?.statements ?? 0, statBy.get(r.session)?.refused ?? 0)),
      nextCursor: more ? String(shown[shown.length - 1]!.seq) : null,
    };
  }

  /** A session with a page of its statements (default: the first 100), or null if unknown. */
  async getSession(id: string, page: { fromStatement?: number; limit?: number } = {}): Promise<SessionDetail | null> {
    const limit = clampLimit(page.limit, 100, 10_000);
    const from = page.fromStatement ?? 1;
    const rows = await this.#store.sessionEvents([id], { fromStatement: from, toStatement: from + limit });
    let start: SessionStartEvent | undefined;
    let end: SessionEndEvent | null = null;
    const byNumber = new Map<number, { statement?: StatementEvent; result?: StatementResultEvent }>();
    for (const r of rows) {
      const e = JSON.parse(r.body) as (SessionStartEvent | SessionEndEvent | StatementEvent | StatementResultEvent) & { seq?: number };
      delete e.seq;
      if (e.type === 'session.start') start = e;
      else if (e.type === 'session.end') end = e;
      else {
        const slot = byNumber.get(e.statement) ?? {};
        if (e.type === 'statement') slot.statement = e;
        else slot.result = e;
        byNumber.set(e.statement, slot);
      }
    }
    if (!start) return null;
    const numbers = [...byNumber.keys()].filter((n) => n < from + limit && byNumber.get(n)!.statement).sort((a, b) => a - b);
    const statements = numbers.map((n) => ({ statement: byNumber.get(n)!.statement!, result: byNumber.get(n)!.result ?? null }));
    const [stats] = await this.#store.sessionStats([id]);
    return {
      summary: summarize(start, end, stats?.statements ?? 0, stats?.refused ?? 0),
      start,
      end,
      statements,
      nextStatement: byNumber.has(from + limit) ? from + limit : null,
    };
  }
}

function summarize(s: SessionStartEvent, end: SessionEndEvent | null, statements: number, refused: number): SessionSummary {
  return {
    id: s.session,
    subject: s.principal.subject,
    groups: s.principal.groups,
    issuer: s.principal.issuer,
    connection: s.connection,
    frontend: s.client.frontend,
    address: s.client.address,
    applicationName: s.client.applicationName,
    startedAt: s.time,
    endedAt: end?.time ?? null,
    endReason: end?.reason ?? null,
    statements,
    refused,
  };
}

function clampLimit(v: number | undefined, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`limit must be a positive integer, got ${String(v)}`);
  return Math.min(v, max);
}

function toMs(v: Date | number | string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new TypeError(`${name}: not a date: ${String(v)}`);
  return ms;
}

