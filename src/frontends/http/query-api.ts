import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Authenticated } from './bearer-auth.js';
import { errorBodyOf, sendError, sendJson } from './json-response.js';
import { decisionJson, runStatement, type DriverDeps } from './run-statement.js';

/** Rows a call returns when it names no `max_rows`, and the most it may ask for: scripts page with LIMIT/OFFSET. */
export const HTTP_DEFAULT_ROWS = 1000;
export const HTTP_MAX_ROWS = 10_000;

/** JSON scalars are accepted as parameters for convenience and sent in PostgreSQL text form. */
const paramSchema = z.union([z.string(), z.number().finite(), z.boolean(), z.null()]).transform((v) => (v === null ? null : typeof v === 'string' ? v : String(v)));

export const queryBodySchema = z
  .object({
    connection: z.string().min(1).max(63),
    sql: z.string().min(1).max(1_000_000),
    params: z.array(paramSchema).max(65_535).optional(),
    max_rows: z.number().int().min(0).max(HTTP_MAX_ROWS).optional(),
  })
  .strict();

/** `POST /api/v1/query` */
export async function handleQuery(res: ServerResponse, deps: DriverDeps, auth: Authenticated, raw: unknown, signal: AbortSignal, challenge: () => string): Promise<void> {
  const parsed = queryBodySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    sendError(res, 'ERR_PROTOCOL_VIOLATION', `invalid request body: ${issues}`);
    return;
  }
  const b = parsed.data;
  const outcome = await runStatement(deps, auth.principal, auth.client, {
    connection: b.connection,
    sql: b.sql,
    params: b.params,
    maxRows: b.max_rows ?? HTTP_DEFAULT_ROWS,
    signal,
  });
  if (signal.aborted) return;
  switch (outcome.kind) {
    case 'result': {
      const r = outcome.result;
      sendJson(res, 200, {
        columns: r.columns.map((c) => ({ name: c.name, type_oid: c.typeOid })),
        rows: r.rows,
        row_count: r.rowCount,
        command: r.command,
        truncated: r.truncated,
        decision: decisionJson(outcome.decision),
        notices: r.notices,
      });
      return;
    }
    case 'refused': {
      const d = outcome.decision;
      if (d.requestId !== undefined) {
        // Return mode: queued for a reviewer; the identical request runs once approved.
        sendJson(res, 202, { status: 'pending_approval', request_id: d.requestId, message: d.reason, decision: decisionJson(d) });
        return;
      }
      sendError(res, d.code, d.reason, {
        extra: { decision: decisionJson(d) },
        ...(d.code === 'ERR_TOKEN_EXPIRED' ? { headers: { 'www-authenticate': challenge() } } : {}),
      });
      return;
    }
    case 'failed': {
      const { status, body } = errorBodyOf(outcome.error);
      sendJson(res, status, body);
      return;
    }
  }
}

/** `GET /api/v1/connections`: names and types only; where they point stays in the gateway. */
export function handleConnections(res: ServerResponse, deps: DriverDeps): void {
  sendJson(res, 200, { connections: [...deps.connectors.values()].map((c) => ({ name: c.name, type: c.type })) });
}

