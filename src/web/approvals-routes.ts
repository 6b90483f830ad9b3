import { z } from 'zod';
import type { ApprovalRequest } from '../approvals/request.js';
import { isPortcullisError } from '../errors/portcullis-error.js';
import { requestJson } from '../frontends/http/approvals-api.js';
import { sendError, sendJson } from '../frontends/http/json-response.js';
import { readJsonBody } from '../frontends/http/request-body.js';
import type { Principal } from '../pipeline/principal.js';
import { logAction } from './action-log.js';
import type { Authed } from './console-app.js';
import { unavailable, type Route } from './console-api.js';
import type { ConsoleDeps } from './console-deps.js';
import { ApprovalsFeed } from './approvals-feed.js';
import { hasRole } from './roles.js';
import type { ConsoleSession } from './session-store.js';

const voteBody = z.object({ comment: z.string().max(2000).optional() }).strict();

/**
 * The approvals queue: a snapshot, a live stream, and votes. Votes go through the engine's
 * `vote` as the signed-in person, so the engine's rules (approver groups, no self-approval,
 * only pending requests) hold here exactly as on the HTTP API and the CLI.
 */
export class ApprovalsRoutes {
  readonly #deps: ConsoleDeps;
  readonly #alive: (id: string) => boolean;
  readonly #feed: ApprovalsFeed | undefined;

  constructor(deps: ConsoleDeps, alive: (id: string) => boolean) {
    this.#deps = deps;
    this.#alive = alive;
    this.#feed = deps.approvals ? new ApprovalsFeed(deps.approvals) : undefined;
  }

  routes(): Route[] {
    return [
      { method: 'GET', pattern: 'approvals', role: 'any', run: (a) => this.#list(a) },
      { method: 'GET', pattern: 'approvals/stream', role: 'any', run: (a) => this.#stream(a) },
      { method: 'POST', pattern: 'approvals/:id/approve', role: 'reviewer', run: (a, p) => this.#vote(a, p['id']!, 'approve') },
      { method: 'POST', pattern: 'approvals/:id/deny', role: 'reviewer', run: (a, p) => this.#vote(a, p['id']!, 'deny') },
    ];
  }

  #backend() {
    if (!this.#deps.approvals) throw unavailable('approvals');
    return this.#deps.approvals;
  }

  async #list(a: Authed): Promise<void> {
    const items = (await this.#backend().list(undefined, 200)).filter(visibleTo(a.s));
    sendJson(a.x.res, 200, { approvals: items.map(requestJson) });
  }

  #stream(a: Authed): void {
    this.#backend();
    this.#feed!.subscribe(a.x.res, visibleTo(a.s), () => this.#alive(a.s.id));
  }

  async #vote(a: Authed, id: string, how: 'approve' | 'deny'): Promise<void> {
    const backend = this.#backend();
    const parsed = voteBody.safeParse(await readJsonBody(a.x.req, 8192));
    if (!parsed.success) return sendError(a.x.res, 'ERR_PROTOCOL_VIOLATION', 'the body is { "comment": "…" } (optional)');
    const comment = parsed.data.comment?.trim() || null;
    try {
      const r = await backend.vote(id, principalOf(a.s), how, comment);
      logAction(this.#deps.logger, a.s.subject, how === 'approve' ? 'approval.approve' : 'approval.deny', { request: id, status: r.status });
      sendJson(a.x.res, 200, requestJson(r));
    } catch (e) {
      if (!isPortcullisError(e)) throw e;
      sendError(a.x.res, e.code, e.message, e.detail === 'not-pending' ? { status: 409 } : {});
    }
  }
}

/** The person in the console, as the approvals engine judges voters. */
export function principalOf(s: ConsoleSession): Principal {
  return { subject: s.subject, groups: s.groups, issuer: s.issuer, authMethod: 'oidc' };
}

/**
 * Reviewers see the requests their groups may decide and their own; auditors and admins see
 * every request, as they can read every recorded statement anyway.
 */
function visibleTo(s: ConsoleSession): (r: ApprovalRequest) => boolean {
  if (hasRole(s.roles, 'auditor')) return () => true;
  return (r) => r.subject === s.subject || s.groups.some((g) => r.approvers.includes(g));
}
