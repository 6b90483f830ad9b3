import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isPortcullisError, PortcullisError } from '../errors/portcullis-error.js';
import type { DecisionListener } from '../pipeline/pipeline.js';
import type { Verdict } from '../pipeline/decision.js';
import type { ClientInfo, Principal } from '../pipeline/principal.js';
import { silentLogger } from '../util/logger.js';
import type { AnchorRow } from './checkpoint.js';
import { analysisRecord, decisionRecord, type ActionEvent, type ApprovalRecord, type AuditEvent, type SessionStartEvent, type StatementEvent } from './events.js';
import { isoTime } from './event-time.js';
import { openStore } from './open-store.js';
import { AuditQuery } from './query.js';
import { ResultCapture } from './result-capture.js';
import type { AuditConfig } from './schema.js';
import type { AuditStore } from './store.js';

/** What the recorder needs of a session; `PipelineSession` has exactly this. */
export interface AuditedSession {
  readonly id: string;
  readonly principal: Principal;
  readonly client: ClientInfo;
  readonly connection: string;
  /** Epoch ms; defaults to the recorder's clock. */
  readonly startedAt?: number;
}

export interface StatementOptions {
  /** Bind parameters, already masked by the masking rules. Kept, not copied: must not change afterwards. */
  readonly params?: readonly (string | null)[] | null | undefined;
  readonly approval?: ApprovalRecord | null | undefined;
  readonly approvalWaitMs?: number | undefined;
}

export interface RecorderOptions {
  readonly logger?: Logger | undefined;
  /** Names this gateway in session.start; restart recovery closes only its own sessions. Default: audit.instance, else the host name. */
  readonly gateway?: string | undefined;
  /** Epoch-ms clock for event times; tests freeze it. */
  readonly now?: (() => number) | undefined;
  /** Use this store instead of opening `config.store` (tests). */
  readonly store?: AuditStore | undefined;
}

const DAY_MS = 24 * 60 * 60 * 1000;

interface SessionState {
  next: number;
  open: ResultCapture | undefined;
}

/**
 * The record stage. The lead wires it in four places:
 *
 *   (a) session start — `recorder.onSessionStart(session)`, or add the recorder as a pipeline
 *       listener (`new Pipeline({ …, listeners: [recorder] })`): queued, never throws.
 *   (b) before a statement goes upstream — `const cap = recorder.statement(session, sql, verdict, { params })`.
 *       For an allowed statement this returns a `Promise<ResultCapture>` that resolves once the
 *       statement event is durable: both stores group-commit, so every statement of one
 *       event-loop turn shares one transaction. It throws (store known to be down) or rejects
 *       (the commit failed) PortcullisError('ERR_AUDIT_UNAVAILABLE') when `audit.on_failure`
 *       is `refuse`: send that error to the client instead of the statement. Denied statements
 *       are recorded too, and return a `ResultCapture` at once (queued; never throws).
 *   (c) as the result streams back — `cap.columns(names)`, `cap.row(values)` per DataRow,
 *       then `cap.complete(tag, rowCount)` or `cap.error(sqlstate, message)`.
 *   (d) session end — `recorder.onSessionEnd(session, reason)` (or via the listener).
 *
 * `onDecision` is deliberately not implemented: a listener cannot refuse a statement, and
 * recording must be able to.
 */
export class Recorder implements DecisionListener {
  readonly store: AuditStore;
  readonly query: AuditQuery;
  readonly gateway: string;
  readonly #config: AuditConfig;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #sessions = new Map<string, SessionState>();
  readonly #caps: { maxRows: number; maxBytes: number };
  readonly #emitResult: (e: AuditEvent) => void;
  #retentionTimer: NodeJS.Timeout | undefined;

  /**
   * Opens the store, closes sessions a crash left open (`gateway-restart`) and applies
   * retention. Never rejects because the store is down: statements then fail closed until it
   * is back (or proceed, with `on_failure: allow`).
   */
  static async open(config: AuditConfig, opts: RecorderOptions = {}): Promise<Recorder> {
    const r = new Recorder(config, opts);
    await r.recover().catch((e: unknown) => r.#log.error({ err: errText(e) }, 'audit: could not close sessions left open by a previous run'));
    await r.applyRetention().catch((e: unknown) => r.#log.error({ err: errText(e) }, 'audit: retention failed'));
    r.#retentionTimer = setInterval(() => {
      r.applyRetention().catch((e: unknown) => r.#log.error({ err: errText(e) }, 'audit: retention failed'));
    }, DAY_MS);
    r.#retentionTimer.unref();
    return r;
  }

  constructor(config: AuditConfig, opts: RecorderOptions = {}) {
    this.#config = config;
    this.#log = opts.logger ?? silentLogger;
    this.#now = opts.now ?? Date.now;
    this.gateway = opts.gateway ?? config.instance ?? hostname();
    this.#caps = { maxRows: config.results.max_rows, maxBytes: config.results.max_bytes };
    this.store =
      opts.store ??
      openStore(config, {
        now: this.#now,
        onAsyncError: (e) => this.#log.error({ err: errText(e) }, 'audit: a queued event could not be written'),
      });
    this.query = new AuditQuery(this.store);
    this.#emitResult = (e) => this.store.append(e);
  }

  onSessionStart(s: AuditedSession): void {
    this.#start(s);
  }

  #start(s: AuditedSession): SessionState {
    const state: SessionState = { next: 1, open: undefined };
    this.#sessions.set(s.id, state);
    const p = s.principal;
    const c = s.client;
    const event: SessionStartEvent = {
      client: { address: c.address, applicationName: c.applicationName ?? null, frontend: c.frontend, tls: c.tls, userName: c.userName ?? null },
      connection: s.connection,
      gateway: this.gateway,
      principal: { authMethod: p.authMethod, groups: p.groups, issuer: p.issuer, subject: p.subject, tokenId: p.tokenId ?? null },
      session: s.id,
      time: isoTime(s.startedAt ?? this.#now()),
      type: 'session.start',
    };
    this.store.append(event);
    return state;
  }

  /**
   * Records a statement with its decision. See the class comment, step (b).
   * @throws PortcullisError ERR_AUDIT_UNAVAILABLE (allowed statements, on_failure: refuse)
   */
  statement(s: AuditedSession, sql: string, verdict: Verdict, opts: StatementOptions = {}): ResultCapture | Promise<ResultCapture> {
    const state = this.#sessions.get(s.id) ?? this.#start(s);
    state.open?.error('08006', 'the client sent another statement before this one completed');
    const n = state.next++;
    const event: StatementEvent = {
      analysis: analysisRecord(verdict.analysis),
      approval: opts.approval ?? null,
      decision: decisionRecord(verdict.decision),
      params: opts.params ?? null,
      session: s.id,
      sql,
      statement: n,
      subject: s.principal.subject,
      time: isoTime(this.#now()),
      type: 'statement',
    };
    const capture = new ResultCapture(this.#emitResult, s.id, n, opts.approvalWaitMs ?? 0, this.#caps, this.#now);
    state.open = capture;
    if (verdict.decision.action !== 'allow') {
      // Nothing goes upstream, so nothing waits for the disk.
      this.store.append(event);
      return capture;
    }
    let pending: void | Promise<void>;
    try {
      pending = this.store.appendDurable(event);
    } catch (e) {
      return this.#failed(e, capture);
    }
    if (pending === undefined) return capture;
    return pending.then(
      () => capture,
      (e: unknown) => this.#failed(e, capture),
    );
  }

  #failed(e: unknown, capture: ResultCapture): ResultCapture {
    const err = isPortcullisError(e) ? e : new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit store failed: ${errText(e)}`, { cause: e });
    if (this.#config.on_failure === 'refuse') throw err;
    this.#log.warn({ err: err.message }, 'audit: statement not recorded; proceeding because audit.on_failure is allow');
    return capture;
  }

  onSessionEnd(s: { readonly id: string }, reason: string): void {
    const state = this.#sessions.get(s.id);
    this.#sessions.delete(s.id);
    state?.open?.error('08006', `the session ended (${reason}) before the statement completed`);
    this.store.append({ reason, session: s.id, time: isoTime(this.#now()), type: 'session.end' });
  }

  /** Closes, as `gateway-restart`, the sessions this gateway started and never ended. */
  /**
   * Records an action (approvals, console). Queued with the next commit, never throws: a lost
   * action record is logged, and the chain still verifies.
   */
  recordAction(a: { session: string; actor: { subject: string; groups: readonly string[] }; action: string; target: string | null; detail?: ActionEvent['detail'] }): void {
    try {
      this.store.append({ action: a.action, actor: { groups: [...a.actor.groups], subject: a.actor.subject }, detail: a.detail ?? null, session: a.session, target: a.target, time: isoTime(this.#now()), type: 'action' });
    } catch (e) {
      this.#log.warn({ err: (e as Error).message, action: a.action }, 'audit: could not record an action');
    }
  }

  async recover(): Promise<string[]> {
    const open = (await this.store.openSessions(this.gateway)).filter((id) => !this.#sessions.has(id));
    const time = isoTime(this.#now());
    for (const id of open) this.store.append({ reason: 'gateway-restart', session: id, time, type: 'session.end' });
    await this.store.flush();
    return open;
  }

  /** Deletes segments older than `audit.retention_days`, keeping an anchor so verify still works. */
  applyRetention(): Promise<AnchorRow | null> {
    return this.store.prune(this.#now() - this.#config.retention_days * DAY_MS);
  }

  /**
   * Ends open sessions (`gateway-shutdown`), flushes, writes a final checkpoint, closes the
   * store. Never rejects: what could not be written is logged (shutdown must go on).
   */
  async close(): Promise<void> {
    if (this.#retentionTimer) clearInterval(this.#retentionTimer);
    for (const id of [...this.#sessions.keys()]) this.onSessionEnd({ id }, 'gateway-shutdown');
    await this.store.close().catch((e: unknown) => this.#log.error({ err: errText(e) }, 'audit: events queued at shutdown could not be written'));
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
