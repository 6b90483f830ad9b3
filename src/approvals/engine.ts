import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Connector } from '../connectors/connector.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { ApprovalNote, DenyDecision } from '../pipeline/decision.js';
import type { DecisionListener } from '../pipeline/pipeline.js';
import type { Principal } from '../pipeline/principal.js';
import type { ApprovalOutcome, ApproveStage, ReviewInput } from '../pipeline/stages.js';
import { applicationNameFor } from '../pipeline/application-name.js';
import { silentLogger } from '../util/logger.js';
import { estimateAffectedRows } from './estimate.js';
import type { ApprovalRequest, RequestStatus } from './request.js';
import { modeFor, parseReview, type ApprovalsConfig, type NotificationsConfig, type ReviewOptions } from './schema.js';
import type { ApprovalStore } from './store.js';
import { reviewSummary } from './summary.js';
import { WebhookNotifier, type ApprovalEvent } from './webhooks.js';

export interface ApprovalsEngineOptions {
  readonly store: ApprovalStore;
  readonly config: ApprovalsConfig;
  readonly notifications?: NotificationsConfig | undefined;
  /** Review rules by name, validated at start so a bad `review:` block stops the gateway. */
  readonly rules: readonly { readonly name: string; readonly review?: unknown }[];
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly logger?: Logger | undefined;
  readonly now?: (() => number) | undefined;
  /** Every request, vote and use goes to the audit log as an `action` event. */
  readonly audit?: { recordAction(a: { session: string; actor: { subject: string; groups: readonly string[] }; action: string; target: string | null; detail?: Record<string, string | number | boolean | null> | null }): void } | undefined;
}

interface Waiter {
  readonly session: string;
  readonly resolve: (o: ApprovalOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

const SYSTEM = 'portcullis';
const PLACEHOLDER = /\$[1-9]/;

/**
 * The approve stage. A `review` decision becomes a request in the approvals store; then
 *
 *  - hold: the statement's promise resolves when enough approvers say yes (allow), one says
 *    no (deny, with their reason), the hold times out, or the client cancels or leaves;
 *  - return: the statement is refused at once with the request id; once approved, the
 *    identical statement from the same principal on the same connection spends the grant,
 *    exactly once (a conditional UPDATE in the store).
 *
 * Votes come from the HTTP API and the CLI through `vote`, which enforces who may decide.
 */
export class ApprovalsEngine implements ApproveStage, DecisionListener {
  readonly store: ApprovalStore;
  readonly gateway: string;
  /** Base of the links in notices and webhooks; main.ts sets it once the HTTP listener is up. */
  consoleUrl: string | undefined;
  readonly #config: ApprovalsConfig;
  readonly #reviews = new Map<string, ReviewOptions>();
  readonly #connectors: ReadonlyMap<string, Connector>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #waiters = new Map<string, Waiter>();
  readonly #background = new Set<Promise<void>>();
  readonly notifier: WebhookNotifier;

  readonly #audit: ApprovalsEngineOptions['audit'];

  constructor(o: ApprovalsEngineOptions) {
    this.store = o.store;
    this.#config = o.config;
    this.#connectors = o.connectors;
    this.#log = o.logger ?? silentLogger;
    this.#now = o.now ?? Date.now;
    this.#audit = o.audit;
    this.gateway = o.config.instance ?? hostname();
    this.consoleUrl = o.config.console_url?.replace(/\/+$/, '');
    this.notifier = new WebhookNotifier(o.notifications?.webhooks ?? [], this.#log);
    for (const r of o.rules) if (r.review !== undefined) this.#reviews.set(r.name, parseReview(r.name, r.review));
    const abandoned = this.store.abandonHeld(this.gateway, this.#now());
    if (abandoned.length > 0) this.#log.warn({ requests: abandoned }, 'approvals: held requests from a previous run are abandoned (their sessions ended with it)');
  }

  /** Link a reviewer follows for one request. */
  link(id: string): string {
    return `${this.consoleUrl ?? ''}/api/approvals/${id}`;
  }

  review(input: ReviewInput): ApprovalOutcome | Promise<ApprovalOutcome> {
    const d = input.decision;
    const opts = this.#reviews.get(d.rule) ?? parseReview(d.rule, d.review);
    const approvers = opts.approvers ?? this.#config.default_approvers;
    if (!approvers) return refuse(d.rule, `${d.reason}; no approver groups are configured for rule "${d.rule}" (review.approvers or approvals.default_approvers), so nobody can approve it`);
    const p = input.session.principal;
    const now = this.#now();

    const window = this.store.openWindow(p.subject, input.session.connection, d.rule, now);
    if (window) return { decision: { action: 'allow', rule: d.rule }, approval: note(window, `window grant of request ${window.id}`) };

    const mode = modeFor(opts, input.session.client.frontend);
    if (mode === 'return' && input.params === undefined && PLACEHOLDER.test(input.sql)) {
      // On the PostgreSQL wire the values arrive in Bind, after the decision: a grant could not
      // be bound to them, so it would cover any values.
      return refuse(d.rule, `${d.reason}; this statement has bind parameters whose values are not known when it is decided, so it cannot be approved for a retry — send it with literal values, or through the HTTP API`);
    }
    const fingerprint = grantKey(p.subject, input.session.connection, input.sql, input.params);
    if (mode === 'return') {
      const spent = opts.scope === 'statement' ? this.store.spendGrant(fingerprint, now) : undefined;
      if (spent) {
        this.#audit?.recordAction({ session: input.session.id, actor: { subject: p.subject, groups: p.groups }, action: 'approval.used', target: spent.id, detail: { rule: d.rule, mode: 'return' } });
        return { decision: { action: 'allow', rule: d.rule }, approval: note(spent, `request ${spent.id}`) };
      }
      const open = this.store.pendingFor(fingerprint, now);
      if (open) return refuse(d.rule, `approval request ${open.id} for this statement is still pending (${this.#votesText(open)}); send the identical statement again once it is approved — ${this.link(open.id)}`, open.id);
    }

    const r = this.#create(input, opts, approvers, mode, fingerprint, now);
    if (mode === 'return') {
      return refuse(d.rule, `${d.reason}. Approval requested: request ${r.id} at ${this.link(r.id)}; once a reviewer approves it, send the identical statement again on connection "${r.connection}" — it will run once`, r.id);
    }
    const waitMs = Math.min(opts.timeout, opts.expires);
    input.onHold?.(r.id, `awaiting approval: request ${r.id} at ${this.link(r.id)} (rule "${d.rule}"; waiting up to ${Math.round(waitMs / 1000)} s)`);
    return new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => this.#timeout(r.id, waitMs), waitMs);
      timer.unref();
      this.#waiters.set(r.id, { session: input.session.id, resolve, timer });
    });
  }

  withdraw(sessionId: string): void {
    this.#end(sessionId, 'withdrawn', 'the client cancelled the statement');
  }

  onSessionEnd(session: { readonly id: string }, reason: string): void {
    this.#end(session.id, 'withdrawn', `the session ended (${reason})`);
  }

  get(id: string): ApprovalRequest | undefined {
    this.#expireDue();
    return this.store.get(id);
  }

  list(status: RequestStatus | undefined, limit = 100): ApprovalRequest[] {
    this.#expireDue();
    return this.store.list(status, limit);
  }

  /**
   * A reviewer's vote. Throws PortcullisError when the request does not exist (ERR_NOT_FOUND)
   * or the voter may not decide it, or it is no longer pending (ERR_POLICY_DENIED).
   */
  vote(id: string, voter: Principal, vote: 'approve' | 'deny', comment: string | null): ApprovalRequest {
    this.#expireDue();
    const r = this.store.get(id);
    if (!r) throw new PortcullisError('ERR_NOT_FOUND', `no approval request ${id}`);
    if (r.status !== 'pending') throw new PortcullisError('ERR_POLICY_DENIED', `request ${id} is ${r.status}; only pending requests can be decided`, { detail: 'not-pending' });
    if (voter.subject === r.subject) throw new PortcullisError('ERR_POLICY_DENIED', `you cannot decide your own request ${id}; ask someone in ${r.approvers.join(', ')}`);
    if (!voter.groups.some((g) => r.approvers.includes(g))) throw new PortcullisError('ERR_POLICY_DENIED', `only members of ${r.approvers.join(', ')} may decide request ${id}`);
    const now = this.#now();
    this.store.vote(id, { voter: voter.subject, vote, comment, timeMs: now });
    this.#audit?.recordAction({ session: r.summary.session, actor: { subject: voter.subject, groups: voter.groups }, action: 'approval.vote', target: id, detail: { vote, comment, rule: r.rule } });
    if (vote === 'deny') {
      if (this.store.transition(id, 'pending', 'denied', now)) this.#settle(id, 'approval.denied');
      return this.store.get(id)!;
    }
    const yes = this.store.get(id)!.votes.filter((v) => v.vote === 'approve').length;
    if (yes >= r.approvalsNeeded) {
      const opts = this.#reviews.get(r.rule);
      const grantMs = r.scope === 'window' ? (opts?.window ?? 600_000) : (opts?.expires ?? 900_000);
      if (this.store.transition(id, 'pending', 'approved', now, now + grantMs)) this.#settle(id, 'approval.approved');
    }
    return this.store.get(id)!;
  }

  /** Waits for background estimates and webhook deliveries (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.#background]);
    await this.notifier.settle();
  }

  async close(): Promise<void> {
    for (const [id, w] of this.#waiters) {
      clearTimeout(w.timer);
      if (this.store.transition(id, 'pending', 'abandoned', this.#now())) w.resolve(refuse('approvals', `request ${id} was abandoned: the gateway is shutting down`));
    }
    this.#waiters.clear();
    await this.settle().catch(() => undefined);
    this.store.close();
  }

  #create(input: ReviewInput, opts: ReviewOptions, approvers: readonly string[], mode: 'hold' | 'return', fingerprint: string, now: number): ApprovalRequest {
    const id = randomUUID();
    const s = input.session;
    this.store.insert({
      id,
      mode,
      scope: opts.scope,
      rule: input.decision.rule,
      approvers,
      approvalsNeeded: opts.approvals,
      subject: s.principal.subject,
      connection: s.connection,
      fingerprint,
      createdMs: now,
      expiresMs: now + opts.expires,
      gateway: this.gateway,
      summary: reviewSummary(input),
    });
    const created = this.store.get(id)!;
    this.#audit?.recordAction({ session: s.id, actor: { subject: s.principal.subject, groups: s.principal.groups }, action: 'approval.requested', target: id, detail: { rule: input.decision.rule, mode, scope: opts.scope, approvers: approvers.join(',') } });
    // The estimate runs upstream and may take a moment; reviewers are told once it is in.
    const job = this.#estimate(created, input).then(
      () => this.notifier.notify('approval.requested', this.store.get(id) ?? created, this.link(id)),
      (e: unknown) => this.#log.warn({ request: id, err: e instanceof Error ? e.message : String(e) }, 'approvals: estimate failed'),
    );
    const tracked = job.finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
    return created;
  }

  async #estimate(r: ApprovalRequest, input: ReviewInput): Promise<void> {
    if (!this.#config.estimate) return;
    const s = input.session;
    const rows = await estimateAffectedRows(this.#connectors.get(s.connection), input.analysis, input.sql, input.params, applicationNameFor(s.principal.subject, 'approval-estimate'));
    if (rows !== null) this.store.setSummary(r.id, { ...r.summary, estimatedRows: rows });
  }

  /** A decided request: wake its held statement (if any) and tell the webhooks. */
  #settle(id: string, event: ApprovalEvent): void {
    const r = this.store.get(id)!;
    this.notifier.notify(event, r, this.link(id));
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    clearTimeout(w.timer);
    if (r.status === 'approved') {
      // The held statement is the grant's one use.
      if (r.scope === 'statement') this.store.transition(id, 'approved', 'used', this.#now());
      this.#audit?.recordAction({ session: r.summary.session, actor: { subject: r.subject, groups: [] }, action: 'approval.used', target: id, detail: { rule: r.rule, mode: 'hold' } });
      w.resolve({ decision: { action: 'allow', rule: r.rule }, approval: note(r, `request ${id}`) });
      return;
    }
    const d = r.votes.find((v) => v.vote === 'deny');
    w.resolve({
      decision: deny(r.rule, `request ${id} was denied by ${d?.voter ?? 'a reviewer'}${d?.comment ? `: ${d.comment}` : ''}`),
      approval: { approver: d?.voter ?? SYSTEM, decision: 'rejected', time: r.decidedAt ?? new Date(this.#now()).toISOString(), comment: d?.comment ?? null },
    });
  }

  #timeout(id: string, waitMs: number): void {
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    const now = this.#now();
    this.store.transition(id, 'pending', 'expired', now);
    this.notifier.notify('approval.expired', this.store.get(id)!, this.link(id));
    const r = this.store.get(id)!;
    w.resolve({
      decision: deny(r.rule, `request ${id} was not approved within ${Math.round(waitMs / 1000)} s (${this.#votesText(r)}); the statement did not run`),
      approval: { approver: SYSTEM, decision: 'expired', time: new Date(now).toISOString(), comment: null },
    });
  }

  #end(sessionId: string, to: RequestStatus, why: string): void {
    for (const [id, w] of this.#waiters) {
      if (w.session !== sessionId) continue;
      this.#waiters.delete(id);
      clearTimeout(w.timer);
      this.store.transition(id, 'pending', to, this.#now());
      w.resolve(refuse(this.store.get(id)?.rule ?? 'approvals', `request ${id} was withdrawn: ${why}`));
    }
  }

  /** Return-mode requests expire lazily: nothing waits on them. */
  #expireDue(): void {
    const now = this.#now();
    for (const r of this.store.expiredPending(now)) {
      if (this.#waiters.has(r.id)) continue;
      if (this.store.transition(r.id, 'pending', 'expired', now)) this.notifier.notify('approval.expired', this.store.get(r.id)!, this.link(r.id));
    }
  }

  #votesText(r: ApprovalRequest): string {
    const yes = r.votes.filter((v) => v.vote === 'approve').length;
    return `${yes} of ${r.approvalsNeeded} approval${r.approvalsNeeded === 1 ? '' : 's'}`;
  }
}

/**
 * Binds a statement-scope grant to who, where and exactly what: a digest of the principal,
 * the connection name, the SQL text and the parameters, each length-delimited by JSON.
 */
export function grantKey(subject: string, connection: string, sql: string, params: readonly (string | null)[] | undefined): string {
  return createHash('sha256').update(JSON.stringify([subject, connection, sql, params ?? null])).digest('hex');
}

function note(r: ApprovalRequest, what: string): ApprovalNote {
  const yes = r.votes.filter((v) => v.vote === 'approve');
  const comments = yes.map((v) => v.comment).filter((c): c is string => c !== null && c !== '');
  return { approver: yes.map((v) => v.voter).join(', '), decision: 'approved', time: r.decidedAt ?? new Date().toISOString(), comment: comments.length > 0 ? `${what}: ${comments.join('; ')}` : what };
}

function deny(rule: string, reason: string, requestId?: string): DenyDecision {
  return { action: 'deny', rule, code: 'ERR_APPROVAL_REQUIRED', reason, ...(requestId ? { requestId } : {}) };
}

function refuse(rule: string, reason: string, requestId?: string): ApprovalOutcome {
  return { decision: deny(rule, reason, requestId) };
}
