import { PortcullisError, isPortcullisError } from '../errors/portcullis-error.js';
import { sendJson } from '../frontends/http/json-response.js';
import { logAction } from './action-log.js';
import type { Authed } from './console-app.js';
import { unavailable, type Route } from './console-api.js';
import type { ConsoleDeps } from './console-deps.js';

const HEALTH_TIMEOUT_MS = 3000;

/** Upstream health, who is connected now, and (admins) ending a session. */
export function connectionsRoutes(deps: ConsoleDeps): Route[] {
  const connections = async (a: Authed): Promise<void> => {
    const health = await Promise.all(
      [...deps.connectors.values()].map(async (c) => {
        try {
          const ms = await Promise.race([c.health(), new Promise<never>((_, reject) => setTimeout(() => reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS).unref())]);
          return { name: c.name, type: c.type, healthy: true, round_trip_ms: ms, error: null };
        } catch (e) {
          return { name: c.name, type: c.type, healthy: false, round_trip_ms: null, error: isPortcullisError(e) ? e.message : 'health check failed' };
        }
      }),
    );
    sendJson(a.x.res, 200, { connections: health, live: deps.live?.list() ?? null });
  };

  const end = (a: Authed, id: string): void => {
    if (!deps.live) throw unavailable('the live session registry');
    if (!deps.live.end(id, `by ${a.s.subject} from the console`)) throw new PortcullisError('ERR_NOT_FOUND', `no open session ${id} that can be ended`);
    logAction(deps.logger, a.s.subject, 'session.end', { session: id });
    sendJson(a.x.res, 200, { ended: id });
  };

  return [
    { method: 'GET', pattern: 'connections', role: 'auditor', run: connections },
    { method: 'POST', pattern: 'live/:id/end', role: 'admin', run: (a, p) => end(a, p['id']!) },
  ];
}
