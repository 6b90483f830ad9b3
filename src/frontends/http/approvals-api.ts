import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { isPortcullisError } from '../../errors/portcullis-error.js';
import type { ApprovalRequest, RequestStatus } from '../../approvals/request.js';
import type { Principal } from '../../pipeline/principal.js';
import type { Authenticated } from './bearer-auth.js';
import { sendError, sendJson } from './json-response.js';
import { readJsonBody } from './request-body.js';

/**
 * What the routes need of the approvals engine. Asynchronous because the store may be a
 * PostgreSQL database; each rejects with ERR_APPROVALS_UNAVAILABLE (503) when it is down.
 */
export interface ApprovalsBackend {
  list(status: RequestStatus | undefined, limit: number): Promise<ApprovalRequest[]>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  vote(id: string, voter: Principal, vote: 'approve' | 'deny', comment: string | null): Promise<ApprovalRequest>;
}

export const APPROVALS_PATH = '/api/approvals';

const STATUSES = ['pending', 'approved', 'denied', 'expired', 'withdrawn', 'abandoned', 'used'] as const;
const ID = /^[0-9a-f-]{36}$/;
const voteBody = z.object({ comment: z.string().max(2000).optional() }).strict();

/**
 * `GET /api/approvals?status=pending`, `GET /api/approvals/{id}`,
 * `POST /api/approvals/{id}/approve` and `/deny` with `{ "comment": "…" }`.
 *
 * A request holds another person's SQL and parameters, so it is shown only to its requester
 * and to members of its approver groups; to anyone else it does not exist (404).
 */
export async function serveApprovals(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  method: string,
  backend: ApprovalsBackend,
  authenticate: () => Promise<Authenticated | undefined>,
  bodyLimit: number,
): Promise<void> {
  const parts = path.slice(APPROVALS_PATH.length).split('/').filter((p) => p !== '');
  const id = parts[0];
  const action = parts[1];
  const expected = action === undefined ? ['GET'] : ['POST'];
  if (parts.length > 2 || (action !== undefined && action !== 'approve' && action !== 'deny') || (id !== undefined && !ID.test(id))) {
    sendError(res, 'ERR_NOT_FOUND', `no endpoint ${path}`);
    return;
  }
  if (!expected.includes(method)) {
    sendError(res, 'ERR_PROTOCOL_VIOLATION', `${path} accepts ${expected.join(', ')}`, { status: 405, headers: { allow: expected.join(', ') } });
    return;
  }
  const auth = await authenticate();
  if (!auth) return;
  const p = auth.principal;
  if (id === undefined) {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const status = q.get('status') ?? undefined;
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      sendError(res, 'ERR_PROTOCOL_VIOLATION', `status must be one of ${STATUSES.join(', ')}`);
      return;
    }
    const limit = Math.min(Math.max(Number(q.get('limit') ?? 100) || 100, 1), 1000);
    const items = (await backend.list(status as RequestStatus | undefined, limit)).filter((r) => visible(r, p));
    sendJson(res, 200, { approvals: items.map(requestJson) });
    return;
  }
  const found = await backend.get(id);
  // A vote is judged by the engine, which says why a non-approver may not decide.
  if (!found || (action === undefined && !visible(found, p))) {
    sendError(res, 'ERR_NOT_FOUND', `no approval request ${id}`);
    return;
  }
  if (action === undefined) {
    sendJson(res, 200, requestJson(found));
    return;
  }
  const body = req.headers['content-length'] === '0' || req.headers['content-type'] === undefined ? {} : await readJsonBody(req, bodyLimit);
  const parsed = voteBody.safeParse(body ?? {});
  if (!parsed.success) {
    sendError(res, 'ERR_PROTOCOL_VIOLATION', 'the body is { "comment": "…" } (optional)');
    return;
  }
  try {
    const r = await backend.vote(id, p, action, parsed.data.comment ?? null);
    sendJson(res, 200, requestJson(r));
  } catch (e) {
    if (!isPortcullisError(e)) throw e;
    // A request already decided is a conflict with its state, not a lack of rights.
    sendError(res, e.code, e.message, e.detail === 'not-pending' ? { status: 409 } : {});
  }
}

function visible(r: ApprovalRequest, p: Principal): boolean {
  return r.subject === p.subject || p.groups.some((g) => r.approvers.includes(g));
}

export function requestJson(r: ApprovalRequest): Record<string, unknown> {
  const s = r.summary;
  return {
    id: r.id,
    status: r.status,
    mode: r.mode,
    scope: r.scope,
    rule: r.rule,
    approvers: r.approvers,
    approvals_needed: r.approvalsNeeded,
    votes: r.votes,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
    decided_at: r.decidedAt,
    grant_until: r.grantUntil,
    used_at: r.usedAt,
    requester: { subject: s.who.subject, groups: s.who.groups, client: s.who.client, frontend: s.who.frontend, application_name: s.who.applicationName },
    connection: s.connection,
    session: s.session,
    sql: s.sql,
    params: s.params,
    facts: s.facts,
    reason: s.reason,
    estimated_rows: s.estimatedRows,
  };
}
