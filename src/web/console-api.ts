import { PortcullisError } from '../errors/portcullis-error.js';
import { sendError, sendJson } from '../frontends/http/json-response.js';
import type { Authed, ConsoleExchange } from './console-app.js';
import type { ConsoleDeps } from './console-deps.js';
import { hasRole, type Role } from './roles.js';
import type { ConsoleSession } from './session-store.js';
import { ApprovalsRoutes } from './approvals-routes.js';
import { sessionsRoutes } from './sessions-routes.js';
import { policyRoutes } from './policy-routes.js';
import { connectionsRoutes } from './connections-routes.js';

/** One route: a method, a path pattern with `:id` segments, the role it needs, a handler. */
export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: string;
  readonly role: Role | 'any';
  readonly run: (a: Authed, params: Record<string, string>) => Promise<void> | void;
}

const ID = /^[A-Za-z0-9-]{1,64}$/;

/** The JSON API under /console/api, checked for role before any handler runs. */
export class ConsoleApi {
  readonly #routes: Route[];

  constructor(deps: ConsoleDeps, alive: (sessionId: string) => boolean) {
    this.#routes = [...new ApprovalsRoutes(deps, alive).routes(), ...sessionsRoutes(deps), ...policyRoutes(deps), ...connectionsRoutes(deps)];
  }

  me(x: ConsoleExchange, s: ConsoleSession): void {
    sendJson(x.res, 200, { subject: s.subject, groups: s.groups, roles: s.roles, csrf: s.csrf, expires_at: new Date(s.expiresAt).toISOString() });
  }

  async handle(a: Authed): Promise<void> {
    const parts = a.x.path.slice('/console/api/'.length).split('/');
    let wrongMethod = false;
    for (const r of this.#routes) {
      const params = match(r.pattern.split('/'), parts);
      if (!params) continue;
      if (r.method !== a.x.method && !(r.method === 'GET' && a.x.method === 'HEAD')) {
        wrongMethod = true;
        continue;
      }
      if (r.role !== 'any' && !hasRole(a.s.roles, r.role)) {
        sendError(a.x.res, 'ERR_POLICY_DENIED', `this needs the console role ${r.role}; you have ${a.s.roles.join(', ')}`, { status: 403 });
        return;
      }
      await r.run(a, params);
      return;
    }
    if (wrongMethod) sendError(a.x.res, 'ERR_PROTOCOL_VIOLATION', `${a.x.path} does not accept ${a.x.method}`, { status: 405 });
    else sendError(a.x.res, 'ERR_NOT_FOUND', `no console endpoint ${a.x.path}`);
  }
}

function match(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) {
      if (!ID.test(parts[i]!)) return undefined;
      params[p.slice(1)] = parts[i]!;
    } else if (p !== parts[i]) return undefined;
  }
  return params;
}

export function query(a: Authed): URLSearchParams {
  return new URL(a.x.req.url ?? '/', 'http://x').searchParams;
}

export function unavailable(what: string): PortcullisError {
  return new PortcullisError('ERR_NOT_FOUND', `${what} is not configured on this gateway`);
}
