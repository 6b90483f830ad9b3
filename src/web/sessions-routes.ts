import { PortcullisError } from '../errors/portcullis-error.js';
import { sendJson } from '../frontends/http/json-response.js';
import { queryText, sessionFilterFrom } from '../frontends/http/session-filter.js';
import { logAction } from './action-log.js';
import type { Authed } from './console-app.js';
import { query, unavailable, type Route } from './console-api.js';
import type { ConsoleDeps } from './console-deps.js';

const MAX_STATEMENTS = 2000;

/**
 * Recorded sessions for auditors: a filtered, paged list; one session with its statements and
 * (masked, as recorded) results; the same as a JSON download. Each view is logged.
 */
export function sessionsRoutes(deps: ConsoleDeps): Route[] {
  const audit = () => {
    if (!deps.audit) throw unavailable('audit recording');
    return deps.audit;
  };

  const list = async (a: Authed): Promise<void> => {
    const q = query(a);
    const filter = sessionFilterFrom(q);
    try {
      const page = await audit().listSessions(filter, { limit: 50, cursor: queryText(q, 'cursor') ?? null });
      // The store has no risk filter; "refused only" narrows the page the store returned.
      const items = q.get('refused') === '1' ? page.items.filter((s) => s.refused > 0) : page.items;
      sendJson(a.x.res, 200, { sessions: items, next_cursor: page.nextCursor });
    } catch (e) {
      if (e instanceof TypeError) throw bad(e.message);
      throw e;
    }
  };

  const detail = async (a: Authed, id: string, mode: 'session.view' | 'session.replay' | 'session.export'): Promise<void> => {
    const d = await audit().getSession(id, { limit: MAX_STATEMENTS });
    if (!d) throw new PortcullisError('ERR_NOT_FOUND', `no recorded session ${id}`);
    logAction(deps.logger, a.s.subject, mode, { session: id });
    const headers: Record<string, string> = mode === 'session.export' ? { 'content-disposition': `attachment; filename="session-${id}.json"` } : {};
    sendJson(a.x.res, 200, d, headers);
  };

  return [
    { method: 'GET', pattern: 'sessions', role: 'auditor', run: list },
    { method: 'GET', pattern: 'sessions/:id', role: 'auditor', run: (a, p) => detail(a, p['id']!, query(a).get('replay') === '1' ? 'session.replay' : 'session.view') },
    { method: 'GET', pattern: 'sessions/:id/export', role: 'auditor', run: (a, p) => detail(a, p['id']!, 'session.export') },
  ];
}

function bad(message: string): PortcullisError {
  return new PortcullisError('ERR_PROTOCOL_VIOLATION', message);
}
