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
  readonly rule: string;
  readonly waitMs: number;
  readonly resolve: (o: ApprovalOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

const SYSTEM = 'portcullis';
const PLACEHOLDER = /\$[1-9]/;
/** How often held requests are re-read, to hear of a decision another gateway took. */
const WATCH_MS = 1000;

/**
 * The approve stage. A `review` decision becomes a request in the approvals store; then
 *
 *  - hold: the statement's promise resolves when enough approvers say yes (allow), one says
 *    no (deny, with their reason), the hold times out, or the client cancels or leaves;
 *  - return: the statement is refused at once with the request id; once approved, the
 *    identical statement from the same principal on the same connection spends the grant,
 *    exactly once (a conditional UPDATE in the store).
 *
 * Votes come from the HTTP API and the CLI through `vote`, which enforces who may decide. The
 * store is shared by every gateway pointing at it: a vote cast on another gateway reaches a
 * statement held here through a once-a-second re-read of the held requests.
 *
 * The store is asynchronous, so every review is a promise; when the store cannot be reached
 * the statement is refused (fail closed) with an explanation, never allowed.
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
  #watch: NodeJS.Timeout | undefined;
  #watching = false;
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
  }

  /**
   * Held requests of this gateway left pending by a previous run become `abandoned`: their
   * sessions ended with it. Call once at start, before any statement is held. A store that
   * cannot be reached is logged, not thrown: the gateway serves, refusing review statements.
   */
  async recover(): Promise<void> {
    try {
      const abandoned = await this.store.abandonHeld(this.gateway, this.#now());
      if (abandoned.length > 0) this.#log.warn({ requests: abandoned }, 'approvals: held requests from a previous run are abandoned (their sessions ended with it)');
    } catch (e) {
      this.#log.error({ err: errText(e) }, 'approvals: could not abandon held requests left by a previous run; they expire on their own');
    }
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
    return this.#review(input, opts, approvers).catch((e: unknown) => {
      this.#log.error({ err: errText(e), rule: d.rule, session: input.session.id }, 'approvals: the store failed; the statement is refused');
      return refuse(d.rule, `${d.reason}; the approvals store is unavailable, so no approval request could be made or checked and the statement did not run — try again once it is back (the gateway log names the cause)`);
    });
  }

  async #review(input: ReviewInput, opts: ReviewOptions, approvers: readonly string[]): Promise<ApprovalOutcome> {
    const d = input.decision;
    const p = input.session.principal;
    const now = this.#now();

    const window = await this.store.openWindow(p.subject, input.session.connection, d.rule, now);
    if (window) return { decision: { action: 'allow', rule: d.rule }, approval: note(window, `window grant of request ${window.id}`) };

    const mode = modeFor(opts, input.session.client.frontend);
    if (mode === 'return' && input.params === undefined && PLACEHOLDER.test(input.sql)) {
      // On the PostgreSQL wire the values arrive in Bind, after the decision: a grant could not
      // be bound to them, so it would cover any values.
      return refuse(d.rule, `${d.reason}; this statement has bind parameters whose values are not known when it is decided, so it cannot be approved for a retry — send it with literal values, or through the HTTP API`);
    }
    const fingerprint = grantKey(p.subject, input.session.connection, input.sql, input.params);
    if (mode === 'return') {
      const spent = opts.scope === 'statement' ? await this.store.spendGrant(fingerprint, now) : undefined;
      if (spent) {
        this.#audit?.recordAction({ session: input.session.id, actor: { subject: p.subject, groups: p.groups }, action: 'approval.used', target: spent.id, detail: { rule: d.rule, mode: 'return' } });
        return { decision: { action: 'allow', rule: d.rule }, approval: note(spent, `request ${spent.id}`) };
      }
      const open = await this.store.pendingFor(fingerprint, now);
      if (open) return refuse(d.rule, `approval request ${open.id} for this statement is still pending (${this.#votesText(open)}); send the identical statement again once it is approved — ${this.link(open.id)}`, open.id);
      const id = await this.#create(input, opts, approvers, mode, fingerprint, now);
      return refuse(d.rule, `${d.reason}. Approval requested: request ${id} at ${this.link(id)}; once a reviewer approves it, send the identical statement again on connection "${input.session.connection}" — it will run once`, id);
    }

    const waitMs = Math.min(opts.timeout, opts.expires);
    const id = randomUUID();
    // The waiter exists before the row does, so a vote landing the moment the row is visible
    // finds someone to wake.
    const outcome = new Promise<ApprovalOutcome>((resolve) => {
      const timer = setTimeout(() => void this.#timeout(id), waitMs);
      timer.unref();
      this.#waiters.set(id, { session: input.session.id, rule: d.rule, waitMs, resolve, timer });
    });
    try {
      await this.#create(input, opts, approvers, mode, fingerprint, now, id);
    } catch (e) {
      this.#drop(id);
      throw e;
    }
    if (!this.#waiters.has(id)) {
      // The client left while the request was being stored: nobody waits for it any more.
      await this.store.transition(id, 'pending', 'withdrawn', this.#now()).catch(() => false);
      return outcome;
    }
    this.#startWatch();
    input.onHold?.(id, `awaiting approval: request ${id} at ${this.link(id)} (rule "${d.rule}"; waiting up to ${Math.round(waitMs / 1000)} s)`);
    return outcome;
  }

  withdraw(sessionId: string): void {
    this.#end(sessionId, 'withdrawn', 'the client cancelled the statement');
  }

  onSessionEnd(session: { readonly id: string }, reason: string): void {
    this.#end(session.id, 'withdrawn', `the session ended (${reason})`);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    await this.#expireDue();
    return this.store.get(id);
  }

  async list(status: RequestStatus | undefined, limit = 100): Promise<ApprovalRequest[]> {
    await this.#expireDue();
    return this.store.list(status, limit);
  }

  /**
   * A reviewer's vote. Rejects with PortcullisError when the request does not exist
   * (ERR_NOT_FOUND), the voter may not decide it or it is no longer pending
   * (ERR_POLICY_DENIED), or the store cannot be reached (ERR_APPROVALS_UNAVAILABLE).
   */
  async vote(id: string, voter: Principal, vote: 'approve' | 'deny', comment: string | null): Promise<ApprovalRequest> {
    await this.#expireDue();
    const r = await this.store.get(id);
    if (!r) throw new PortcullisError('ERR_NOT_FOUND', `no approval request ${id}`);
    if (r.status !== 'pending') throw new PortcullisError('ERR_POLICY_DENIED', `request ${id} is ${r.status}; only pending requests can be decided`, { detail: 'not-pending' });
    if (voter.subject === r.subject) throw new PortcullisError('ERR_POLICY_DENIED', `you cannot decide your own request ${id}; ask someone in ${r.approvers.join(', ')}`);
    if (!voter.groups.some((g) => r.approvers.includes(g))) throw new PortcullisError('ERR_POLICY_DENIED', `only members of ${r.approvers.join(', ')} may decide request ${id}`);
    const now = this.#now();
    await this.store.vote(id, { voter: voter.subject, vote, comment, timeMs: now });
    this.#audit?.recordAction({ session: r.summary.session, actor: { subject: voter.subject, groups: voter.groups }, action: 'approval.vote', target: id, detail: { vote, comment, rule: r.rule } });
    if (vote === 'deny') {
      if (await this.store.transition(id, 'pending', 'denied', now)) await this.#decided(id, 'approval.denied');
    } else {
      // Read after our own vote: of two approvers voting at once on two gateways, the later
      // reader sees both votes, so a request needing two is approved by one of them.
      const yes = (await this.store.get(id))?.votes.filter((v) => v.vote === 'approve').length ?? 0;
      if (yes >= r.approvalsNeeded) {
        const opts = this.#reviews.get(r.rule);
        const grantMs = r.scope === 'window' ? (opts?.window ?? 600_000) : (opts?.expires ?? 900_000);
        if (await this.store.transition(id, 'pending', 'approved', now, now + grantMs)) await this.#decided(id, 'approval.approved');
      }
    }
    const after = await this.store.get(id);
    if (!after) throw new PortcullisError('ERR_NOT_FOUND', `no approval request ${id}`);
    return after;
  }

  /** Waits for background estimates and webhook deliveries (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.#background]);
    await this.notifier.settle();
  }

  async close(): Promise<void> {
    this.#stopWatch();
    const held = [...this.#waiters.entries()];
    this.#waiters.clear();
    await Promise.all(
      held.map(async ([id, w]) => {
        clearTimeout(w.timer);
        await this.store.transition(id, 'pending', 'abandoned', this.#now()).catch(() => false);
        w.resolve(refuse(w.rule, `request ${id} was abandoned: the gateway is shutting down`));
      }),
    );
    await this.settle().catch(() => undefined);
    await this.store.close();
  }

  async #create(input: ReviewInput, opts: ReviewOptions, approvers: readonly string[], mode: 'hold' | 'return', fingerprint: string, now: number, id: string = randomUUID()): Promise<string> {
    const s = input.session;
    const summary = reviewSummary(input);
    await this.store.insert({
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
      summary,
    });
    this.#audit?.recordAction({ session: s.id, actor: { subject: s.principal.subject, groups: s.principal.groups }, action: 'approval.requested', target: id, detail: { rule: input.decision.rule, mode, scope: opts.scope, approvers: approvers.join(',') } });
    // The estimate runs upstream and may take a moment; reviewers are told once it is in.
    const job = this.#estimate(id, summary, input)
      .then(async () => {
        const r = await this.store.get(id);
        if (r) this.notifier.notify('approval.requested', r, this.link(id));
      })
      .catch((e: unknown) => this.#log.warn({ request: id, err: errText(e) }, 'approvals: estimate or notification failed'));
    const tracked = job.finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
    return id;
  }

  async #estimate(id: string, summary: ApprovalRequest['summary'], input: ReviewInput): Promise<void> {
    if (!this.#config.estimate) return;
    const s = input.session;
    const rows = await estimateAffectedRows(this.#connectors.get(s.connection), input.analysis, input.sql, input.params, applicationNameFor(s.principal.subject, 'approval-estimate'));
    if (rows !== null) await this.store.setSummary(id, { ...summary, estimatedRows: rows });
  }

  /** Decided here: tell the webhooks and wake the held statement, if it is held here. */
  async #decided(id: string, event: ApprovalEvent): Promise<void> {
    const r = await this.store.get(id);
    if (!r) return;
    this.notifier.notify(event, r, this.link(id));
    await this.#wake(r);
  }

  /** Resolves the statement held on `r`, once: whoever removes the waiter first answers it. */
  async #wake(r: ApprovalRequest): Promise<void> {
    const w = this.#drop(r.id);
    if (!w) return;
    try {
      w.resolve(await this.#outcome(r, w));
    } catch (e) {
      this.#log.error({ request: r.id, err: errText(e) }, 'approvals: the store failed while releasing a held statement; it is refused');
      w.resolve(refuse(r.rule, `request ${r.id} could not be completed: the approvals store is unavailable; the statement did not run`));
    }
  }

  async #outcome(r: ApprovalRequest, w: Waiter): Promise<ApprovalOutcome> {
    const id = r.id;
    if (r.status === 'approved') {
      // The held statement is the grant's one use; if that cannot be written, it does not run.
      if (r.scope === 'statement' && !(await this.store.transition(id, 'approved', 'used', this.#now()))) return refuse(r.rule, `request ${id} was approved but its grant is already used; the statement did not run`);
      this.#audit?.recordAction({ session: r.summary.session, actor: { subject: r.subject, groups: [] }, action: 'approval.used', target: id, detail: { rule: r.rule, mode: 'hold' } });
      return { decision: { action: 'allow', rule: r.rule }, approval: note(r, `request ${id}`) };
    }
    if (r.status === 'denied') {
      const d = r.votes.find((v) => v.vote === 'deny');
      return {
        decision: deny(r.rule, `request ${id} was denied by ${d?.voter ?? 'a reviewer'}${d?.comment ? `: ${d.comment}` : ''}`),
        approval: { approver: d?.voter ?? SYSTEM, decision: 'rejected', time: r.decidedAt ?? new Date(this.#now()).toISOString(), comment: d?.comment ?? null },
      };
    }
    if (r.status === 'expired') {
      return {
        decision: deny(r.rule, `request ${id} was not approved within ${Math.round(w.waitMs / 1000)} s (${this.#votesText(r)}); the statement did not run`),
        approval: { approver: SYSTEM, decision: 'expired', time: r.decidedAt ?? new Date(this.#now()).toISOString(), comment: null },
      };
    }
    return refuse(r.rule, `request ${id} is ${r.status}; the statement did not run`);
  }

  /**
   * The hold ran out. The expiry is conditional like any transition: if a reviewer (here or on
   * another gateway) decided first, the statement gets that decision instead.
   */
  async #timeout(id: string): Promise<void> {
    if (!this.#waiters.has(id)) return;
    try {
      const expired = await this.store.transition(id, 'pending', 'expired', this.#now());
      const r = await this.store.get(id);
      if (!r) throw new PortcullisError('ERR_APPROVALS_UNAVAILABLE', `request ${id} is missing from the approvals store`);
      if (expired) this.notifier.notify('approval.expired', r, this.link(id));
      await this.#wake(r);
    } catch (e) {
      const w = this.#drop(id);
      this.#log.error({ request: id, err: errText(e) }, 'approvals: the store failed when a hold timed out; the statement is refused');
      w?.resolve(refuse(w.rule, `request ${id} was not approved within ${Math.round(w.waitMs / 1000)} s; the statement did not run`));
    }
  }

  #end(sessionId: string, to: RequestStatus, why: string): void {
    for (const [id, w] of this.#waiters) {
      if (w.session !== sessionId) continue;
      this.#drop(id);
      // The client is answered now; the store catches up (a failure leaves the request to expire).
      const job = this.store
        .transition(id, 'pending', to, this.#now())
        .then(() => undefined)
        .catch((e: unknown) => this.#log.warn({ request: id, err: errText(e) }, `approvals: could not mark a request ${to}`));
      const tracked = job.finally(() => this.#background.delete(tracked));
      this.#background.add(tracked);
      w.resolve(refuse(w.rule, `request ${id} was withdrawn: ${why}`));
    }
  }

  #drop(id: string): Waiter | undefined {
    const w = this.#waiters.get(id);
    if (!w) return undefined;
    this.#waiters.delete(id);
    clearTimeout(w.timer);
    if (this.#waiters.size === 0) this.#stopWatch();
    return w;
  }

  #startWatch(): void {
    if (this.#watch) return;
    this.#watch = setInterval(() => void this.#recheck(), WATCH_MS);
    this.#watch.unref();
  }

  #stopWatch(): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = undefined;
  }

  /** Held requests decided elsewhere (another gateway sharing the store) are answered here. */
  async #recheck(): Promise<void> {
    if (this.#watching) return;
    this.#watching = true;
    try {
      for (const id of [...this.#waiters.keys()]) {
        const r = await this.store.get(id);
        if (r && r.status !== 'pending') await this.#wake(r);
      }
    } catch (e) {
      // The hold's own timeout still ends the wait; a store that is down only delays the news.
      this.#log.warn({ err: errText(e) }, 'approvals: could not re-read held requests');
    } finally {
      this.#watching = false;
    }
  }

  /** Return-mode requests expire lazily: nothing waits on them. */
  async #expireDue(): Promise<void> {
    const now = this.#now();
    for (const r of await this.store.expiredPending(now)) {
      if (this.#waiters.has(r.id)) continue;
      if (await this.store.transition(r.id, 'pending', 'expired', now)) {
        const after = await this.store.get(r.id);
        if (after) this.notifier.notify('approval.expired', after, this.link(r.id));
      }
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

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
