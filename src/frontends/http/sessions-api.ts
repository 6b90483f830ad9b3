import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AuditQuery, SessionFilter } from '../../audit/query.js';
import type { Authenticated } from './bearer-auth.js';
import { sendError, sendJson } from './json-response.js';
import { queryText, sessionFilterFrom } from './session-filter.js';

export const SESSIONS_PATH = '/api/v1/sessions';

/** Session ids are UUIDs; anything else cannot name a recorded session. */
const ID = /^[0-9a-f-]{36}$/;

export interface SessionsApiOptions {
  readonly query: AuditQuery;
  /** Groups whose members may read recordings (audit.readers plus the console's auditors and admins). */
  readonly readerGroups: readonly string[];
  readonly logger: Logger;
  /** Every read is itself an audit event: who looked at which session. */
  readonly recordAction?: ((a: { session: string; actor: { subject: string; groups: readonly string[] }; action: string; target: string | null; detail: Record<string, string | number | boolean | null> | null }) => void) | undefined;
}

/**
 * `GET /api/v1/sessions?user=&connection=&since=&until=&decision=&limit=&cursor=` and
 * `GET /api/v1/sessions/{id}?from=&limit=`: the recorded sessions, statements and (masked, as
 * recorded) results as paginated JSON, for SIEM pulls and tools outside the console.
 *
 * Recordings hold other people's SQL and results, so only members of a reader group see them;
 * to anyone else the endpoint answers 403 naming the configuration key, never the data.
 */
export async function serveSessions(req: IncomingMessage, res: ServerResponse, path: string, method: string, o: SessionsApiOptions, authenticate: () => Promise<Authenticated | undefined>): Promise<void> {
  const parts = path.slice(SESSIONS_PATH.length).split('/').filter((p) => p !== '');
  const id = parts[0];
  if (parts.length > 1 || (id !== undefined && !ID.test(id))) {
    sendError(res, 'ERR_NOT_FOUND', `no endpoint ${path}`);
    return;
  }
  if (method !== 'GET') {
    sendError(res, 'ERR_PROTOCOL_VIOLATION', `${path} accepts GET`, { status: 405, headers: { allow: 'GET' } });
    return;
  }
  const auth = await authenticate();
  if (!auth) return;
  const p = auth.principal;
  if (!p.groups.some((g) => o.readerGroups.includes(g))) {
    sendError(res, 'ERR_POLICY_DENIED', 'reading recorded sessions needs membership of a group listed in audit.readers (or console.auditors / console.admins)', { status: 403 });
    return;
  }
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const int = (k: string, dflt: number, max: number): number | undefined => {
    const v = q.get(k);
    if (v === null) return dflt;
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
  };
  const record = (action: string, target: string | null, detail: Record<string, string | number | boolean | null> | null): void => {
    o.logger.info({ api: { action, subject: p.subject, target } }, `api: ${action}`);
    o.recordAction?.({ session: target ?? `api:${p.subject}`, actor: { subject: p.subject, groups: p.groups }, action, target, detail });
  };
  if (id === undefined) {
    let filter: SessionFilter;
    try {
      filter = sessionFilterFrom(q);
    } catch (e) {
      sendError(res, 'ERR_PROTOCOL_VIOLATION', (e as Error).message);
      return;
    }
    const limit = int('limit', 50, 500);
    if (limit === undefined) {
      sendError(res, 'ERR_PROTOCOL_VIOLATION', 'limit must be an integer from 1 to 500');
      return;
    }
    try {
      const page = await o.query.listSessions(filter, { limit, cursor: queryText(q, 'cursor') ?? null });
      record('api.sessions.list', null, { user: filter.user ?? null, connection: filter.connection ?? null, decision: filter.decision ?? null });
      sendJson(res, 200, { sessions: page.items, next_cursor: page.nextCursor });
    } catch (e) {
      // The query layer reports a bad filter (since/until/cursor) as TypeError.
      if (e instanceof TypeError) sendError(res, 'ERR_PROTOCOL_VIOLATION', e.message);
      else throw e;
    }
    return;
  }
  const from = int('from', 1, Number.MAX_SAFE_INTEGER);
  const limit = int('limit', 100, 2000);
  if (from === undefined || limit === undefined) {
    sendError(res, 'ERR_PROTOCOL_VIOLATION', 'from is a statement number from 1; limit an integer from 1 to 2000');
    return;
  }
  const d = await o.query.getSession(id, { fromStatement: from, limit });
  if (!d) {
    sendError(res, 'ERR_NOT_FOUND', `no recorded session ${id}`);
    return;
  }
  record('api.sessions.view', id, { from });
  sendJson(res, 200, { ...d, next_statement: d.nextStatement });
}
