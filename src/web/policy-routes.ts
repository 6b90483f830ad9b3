import { z } from 'zod';
import { sendError, sendJson } from '../frontends/http/json-response.js';
import { readJsonBody } from '../frontends/http/request-body.js';
import type { Principal } from '../pipeline/principal.js';
import { logAction } from './action-log.js';
import type { Authed } from './console-app.js';
import type { Route } from './console-api.js';
import type { ConsoleDeps } from './console-deps.js';

const explainBody = z
  .object({
    sql: z.string().min(1).max(100_000),
    subject: z.string().min(1).max(200),
    groups: z.array(z.string().min(1).max(200)).max(100).default([]),
    connection: z.string().min(1).max(63),
    frontend: z.enum(['pgwire', 'http', 'mcp']).default('pgwire'),
  })
  .strict();

/**
 * The active policy, read-only, and the explain playground: analyze and decide a statement as
 * a chosen identity would be judged — nothing is held, recorded or run.
 */
export function policyRoutes(deps: ConsoleDeps): Route[] {
  const policy = (a: Authed): void => {
    const c = deps.config;
    sendJson(a.x.res, 200, { policy: c.policy ?? null, connections: Object.keys(c.connections) });
  };

  const explain = async (a: Authed): Promise<void> => {
    const parsed = explainBody.safeParse(await readJsonBody(a.x.req, 128 * 1024));
    if (!parsed.success) return sendError(a.x.res, 'ERR_PROTOCOL_VIOLATION', 'the body is { sql, subject, groups, connection, frontend? }');
    const b = parsed.data;
    if (!(b.connection in deps.config.connections)) return sendError(a.x.res, 'ERR_UNKNOWN_CONNECTION', `no connection named ${b.connection}`);
    const principal: Principal = { subject: b.subject, groups: b.groups, issuer: 'portcullis:console-explain', authMethod: 'oidc' };
    const analysis = deps.analyze.openSession(b.connection).analyze(b.sql);
    const e = deps.policy.explain({ principal, client: { address: 'console', frontend: b.frontend, tls: true }, connection: b.connection, analysis });
    logAction(deps.logger, a.s.subject, 'policy.explain', { as: b.subject, connection: b.connection });
    sendJson(a.x.res, 200, { analysis, decision: e.decision, per_statement: e.perStatement });
  };

  return [
    { method: 'GET', pattern: 'policy', role: 'any', run: policy },
    { method: 'POST', pattern: 'explain', role: 'any', run: explain },
  ];
}
