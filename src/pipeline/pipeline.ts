import { randomUUID } from 'node:crypto';
import type { Analysis } from '../analysis/facts.js';
import type { AllowDecision, Decision, ReviewDecision, Verdict } from './decision.js';
import type { ClientInfo, Principal } from './principal.js';
import type { AnalysisSession, AnalyzeStage, ApprovalOutcome, ApproveStage, DecideStage, IdentifyStage, RecordStage, ResultSink } from './stages.js';
import { isPortcullisError, PortcullisError } from '../errors/portcullis-error.js';
import type { Connector, QueryRequest, QueryResult, ResultColumn, RowStream, StreamOutcome } from '../connectors/connector.js';
import { openRowStream } from '../connectors/row-stream.js';
import { applicationNameFor } from './application-name.js';

/**
 * The one place the stage order is written:
 *
 *   identify → analyze → decide → approve → execute → mask → record
 *
 * Frontends call `identify` once per connection and `admit` once per statement; execution
 * (relaying bytes, or a connector's driver call) happens in the frontend or connector, and the
 * result stream is masked and recorded by the stages the session hands out. `admit` returns
 * synchronously whenever every stage on the way is synchronous — the common case — so the hot
 * path creates no promise.
 */

/** Limits on what one identity may do: session caps and statement rates. */
export interface LimitsStage {
  /** Whether any statement rate is configured (so every execution must be charged). */
  readonly hasRateLimits?: boolean;
  /** Throws PortcullisError(ERR_SESSION_LIMIT) when the principal may not open another session. */
  acquireSession(principal: Principal): () => void;
  /** A deny decision when the principal is over its rate, else undefined. */
  checkRate(principal: Principal, now: number): Decision | undefined;
}

/** Hears every admission decision (the recorder, the log). Must not throw. */
export interface DecisionListener {
  onSessionStart?(session: PipelineSession): void;
  onDecision?(session: PipelineSession, sql: string, verdict: Verdict): void;
  onSessionEnd?(session: PipelineSession, reason: string): void;
}

export interface PipelineStages {
  identify: IdentifyStage;
  analyze: AnalyzeStage;
  decide: DecideStage;
  /** Without it, `review` is refused with ERR_APPROVAL_REQUIRED (fail closed). */
  approve?: ApproveStage | undefined;
  limits?: LimitsStage | undefined;
  record?: RecordStage | undefined;
  listeners?: DecisionListener[] | undefined;
  /** Masks driver-path results (the wire path masks in its frontend, on the bytes). */
  mask?: ResultMaskStage | undefined;
  /** True when some policy rule carries max_rows or timeout. */
  policyHasLimits?: boolean | undefined;
}

export interface MaskContext {
  readonly sql: string;
  readonly profiles?: readonly string[] | undefined;
  readonly groups: readonly string[];
  readonly connector: Connector;
}

/** How one streamed result is masked: planned once from its columns, applied row by row. */
export interface RowMasking {
  /** Masks a row in place. */
  maskRow(row: (string | null)[]): void;
  /** Per column: a rule (or unknown lineage) replaced the whole value, so the column's type no longer holds. */
  readonly masked: readonly boolean[];
  maskText(text: string): string;
}

export interface ResultMaskStage {
  planRows(columns: readonly ResultColumn[], ctx: MaskContext): Promise<RowMasking>;
  /** A statement error's message and hint, masked as an error of that statement (they can quote values). */
  maskError?(fields: { message: string; hint?: string | undefined }, ctx: MaskContext): Promise<{ message: string; hint?: string | undefined }>;
}

/**
 * An allowed statement's result on the driver path, masked and recorded as it is pulled.
 * Iterating to the end completes the record; `close` stops early (the upstream is cancelled).
 */
export interface MaskedRowStream extends AsyncIterable<(string | null)[][]> {
  readonly columns: readonly ResultColumn[];
  readonly masked: readonly boolean[];
  outcome(): StreamOutcome;
  close(): Promise<void>;
}

export interface StreamRequest {
  readonly sql: string;
  readonly params?: readonly (string | null)[] | undefined;
  readonly maxRows: number;
  readonly signal?: AbortSignal | undefined;
  readonly hooks?: AdmitHooks | undefined;
  /** The frontend's id for this statement (Snowflake query id), passed to the connector's context. */
  readonly requestId?: string | undefined;
}

/** A statement about to run: its verdict (possibly turned into a refusal) and its result sink. */
/** What a frontend can do for a statement that waits for a person. */
export interface AdmitHooks {
  /** Called at once when the statement is held: tell the client which request it waits on. */
  readonly onHold?: ((requestId: string, message: string) => void) | undefined;
}

export interface Admission {
  readonly verdict: Verdict;
  readonly sink: ResultSink | undefined;
}

export class Pipeline {
  readonly #stages: PipelineStages;
  readonly #listeners: DecisionListener[];

  constructor(stages: PipelineStages) {
    this.#stages = stages;
    this.#listeners = stages.listeners ?? [];
  }

  addListener(l: DecisionListener): void {
    this.#listeners.push(l);
  }

  /** identify: throws PortcullisError (ERR_AUTH_FAILED, ERR_IDP_UNAVAILABLE, …). */
  identify(credential: string, client: ClientInfo): Promise<Principal> {
    return this.#stages.identify.authenticate(credential, client);
  }

  /** Opens a statement session for an identified principal on a named connection. */
  openSession(principal: Principal, client: ClientInfo, connection: string): PipelineSession {
    const release = this.#stages.limits?.acquireSession(principal) ?? noop;
    const s = new PipelineSession(this.#stages, this.#listeners, principal, client, connection, release);
    for (const l of this.#listeners) l.onSessionStart?.(s);
    return s;
  }
}

function noop(): void {}

export class PipelineSession {
  readonly id: string = randomUUID();
  readonly startedAt = Date.now();
  readonly principal: Principal;
  readonly client: ClientInfo;
  readonly connection: string;
  readonly #stages: PipelineStages;
  readonly #listeners: DecisionListener[];
  readonly #analysis: AnalysisSession;
  readonly #release: () => void;
  #closed = false;
  #readOnly: boolean | undefined;
  /** Set by a frontend that can end this session on request (the console's end-session). */
  terminate: ((reason: string) => void) | undefined;

  constructor(stages: PipelineStages, listeners: DecisionListener[], principal: Principal, client: ClientInfo, connection: string, release: () => void) {
    this.#stages = stages;
    this.#listeners = listeners;
    this.principal = principal;
    this.client = client;
    this.connection = connection;
    this.#release = release;
    this.#analysis = stages.analyze.openSession(connection);
  }

  /**
   * Whether the frontend must follow every execution (each Query and Execute) rather than
   * only each statement text: recording, approvals, rate limits and result limits all need it.
   */
  get tracksExecutions(): boolean {
    // Approvals too: a statement with bind parameters is reviewed at each Execute, with its values.
    return this.#stages.record !== undefined || this.#stages.approve !== undefined || this.#stages.limits?.hasRateLimits === true || this.#stages.policyHasLimits === true;
  }

  /**
   * Whether policy lets nothing but plain reads through for this session, not even with an
   * approval: the pgwire frontend then opens its upstream session read-only, so PostgreSQL
   * itself refuses a function or view that writes. Asked once per session.
   */
  get readOnly(): boolean {
    this.#readOnly ??= this.#stages.decide.readsOnly?.(this.principal, this.client, this.connection) === true;
    return this.#readOnly;
  }

  /** Whether bind parameters are wanted (for the record). */
  get recordsParams(): boolean {
    return this.#stages.record !== undefined;
  }

  /**
   * One execution is about to go upstream (a Query, or an Execute of a prepared statement):
   * charge the identity's statement rate, then record the statement durably. A rate over its
   * limit, or an audit store that cannot write (with on_failure: refuse), turns the verdict
   * into a refusal. Refusals are recorded too.
   */
  begin(sql: string, verdict: Verdict, params?: readonly (string | null)[] | null, charge = true): Admission | Promise<Admission> {
    let v = verdict;
    if (charge && v.decision.action === 'allow') {
      const limited = this.#stages.limits?.checkRate(this.principal, Date.now());
      if (limited) v = { decision: limited, analysis: v.analysis };
    }
    const rec = this.#stages.record;
    if (!rec) return { verdict: v, sink: undefined };
    let sink: ResultSink | Promise<ResultSink>;
    try {
      sink = rec.statement(this, sql, v, { params: params ?? null, approval: v.approval ?? null, approvalWaitMs: v.approvalWaitMs });
    } catch (e) {
      return auditRefusal(v, e);
    }
    if (sink instanceof Promise) return sink.then((s) => ({ verdict: v, sink: s }), (e: unknown) => auditRefusal(v, e));
    return { verdict: v, sink };
  }

  /** analyze → decide → approve. A promise only while a held statement waits for a person. */
  /**
   * analyze → decide only, for explain tools and catalog filters: nothing is held for review,
   * recorded or run, and the session's PREPARE names are left untouched.
   */
  explain(sql: string, params?: readonly (string | null)[]): Verdict {
    const analysis = this.#stages.analyze.openSession(this.connection).analyze(sql);
    const p = this.principal;
    if (p.expiresAt !== undefined && Date.now() >= p.expiresAt) {
      return { decision: { action: 'deny', rule: 'identity', code: 'ERR_TOKEN_EXPIRED', reason: 'your token has expired; reconnect with a fresh one' }, analysis };
    }
    return { decision: this.#stages.decide.decide({ principal: p, client: this.client, connection: this.connection, analysis, params }), analysis };
  }

  /**
   * `deferReview`: the caller will know the bind parameters only later (an extended-protocol
   * Parse), so a `review` comes back unresolved and `approveDeferred` is called per execution
   * with its parameters — a reviewer never approves a statement without seeing its values.
   */
  admit(sql: string, params?: readonly (string | null)[], hooks?: AdmitHooks, opts?: { deferReview?: boolean }): Verdict | Promise<Verdict> {
    const analysis = this.#analysis.analyze(sql);
    const decision = this.#decide(analysis, params);
    if (decision.action === 'review' && this.#stages.approve) {
      if (opts?.deferReview === true) return { decision, analysis };
      return this.#approve(sql, params, analysis, decision, hooks);
    }
    const verdict: Verdict = { decision, analysis };
    for (const l of this.#listeners) l.onDecision?.(this, sql, verdict);
    return verdict;
  }

  #approve(sql: string, params: readonly (string | null)[] | undefined, analysis: Analysis, decision: ReviewDecision, hooks: AdmitHooks | undefined): Verdict | Promise<Verdict> {
    const started = performance.now();
    const out = this.#stages.approve!.review({ session: this, sql, params, analysis, decision, onHold: hooks?.onHold });
    const done = (o: ApprovalOutcome): Verdict => {
      const waited = out instanceof Promise ? Math.round(performance.now() - started) : 0;
      const verdict: Verdict = o.approval ? { decision: o.decision, analysis, approval: o.approval, approvalWaitMs: waited } : { decision: o.decision, analysis, approvalWaitMs: waited };
      for (const l of this.#listeners) l.onDecision?.(this, sql, verdict);
      return verdict;
    };
    return out instanceof Promise ? out.then(done) : done(out);
  }

  /** approve, for a review `admit` deferred: now with the execution's bind parameters. */
  approveDeferred(sql: string, params: readonly (string | null)[] | undefined, verdict: Verdict, hooks?: AdmitHooks): Verdict | Promise<Verdict> {
    const d = verdict.decision;
    if (d.action !== 'review' || !this.#stages.approve) return verdict;
    return this.#approve(sql, params, verdict.analysis, d, hooks);
  }

  /** A CancelRequest arrived: a statement held for approval is withdrawn. */
  withdrawHeld(): void {
    this.#stages.approve?.withdraw(this.id);
  }

  /** Extended-protocol Parse of a named statement that was admitted. */
  rememberPrepared(name: string, analysis: Analysis): void {
    this.#analysis.remember(name, analysis);
  }

  forgetPrepared(name: string | null): void {
    this.#analysis.forget(name);
  }

  #decide(analysis: Analysis, params: readonly (string | null)[] | undefined): Decision {
    const now = Date.now();
    const p = this.principal;
    if (p.expiresAt !== undefined && now >= p.expiresAt) {
      return { action: 'deny', rule: 'identity', code: 'ERR_TOKEN_EXPIRED', reason: 'your token has expired; reconnect with a fresh one' };
    }
    const d = this.#stages.decide.decide({ principal: p, client: this.client, connection: this.connection, analysis, params });
    if (d.action === 'review' && !this.#stages.approve) {
      // Without an approvals engine a held statement cannot wait for anyone.
      return { action: 'deny', rule: d.rule, code: 'ERR_APPROVAL_REQUIRED', reason: `requires approval, and approvals are not configured on this gateway, so nothing was queued: ${d.reason}` };
    }
    return d;
  }

  /**
   * The driver path (HTTP, MCP): admit, then execute on the connector within the decision's
   * limits. Denied and held statements return their verdict without touching the connector.
   */
  async execute(connector: Connector, req: { sql: string; params?: readonly (string | null)[]; maxRows: number; signal?: AbortSignal }): Promise<{ verdict: Verdict; result?: QueryResult }> {
    // The stream below, collected: one path masks and records every driver-path result.
    const { verdict, rows } = await this.stream(connector, req);
    if (!rows) return { verdict };
    const all: (string | null)[][] = [];
    for await (const batch of rows) for (const r of batch) all.push(r);
    const o = rows.outcome();
    return { verdict, result: { columns: rows.columns, rows: all, rowCount: o.rowCount, command: o.command, truncated: o.truncated, notices: o.notices, queryId: o.queryId } };
  }

  /**
   * The driver path, streaming (Snowflake, large HTTP results): admit, then open the
   * statement on the connector within the decision's limits; rows are masked and recorded
   * batch by batch as the caller pulls them, so no result is ever held whole.
   */
  async stream(connector: Connector, req: StreamRequest): Promise<{ verdict: Verdict; rows?: MaskedRowStream }> {
    const admission = await this.begin(req.sql, await this.admit(req.sql, req.params, req.hooks), req.params);
    const verdict = admission.verdict;
    const d = verdict.decision;
    const sink = admission.sink;
    if (d.action !== 'allow') {
      sink?.error('42501', d.reason);
      return { verdict };
    }
    const maskCtx: MaskContext = { sql: req.sql, profiles: d.mask, groups: this.principal.groups, connector };
    if (connector.dialect === 'postgres' && verdict.analysis.statements.some((s) => s.tag === 'COPY')) {
      // COPY streams its own sub-protocol, which the driver path does not speak.
      const err = new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', 'COPY needs the PostgreSQL wire protocol (psql \\copy); over HTTP and MCP, run the SELECT instead');
      sink?.error('0A000', err.message);
      throw err;
    }
    let upstream: RowStream;
    try {
      upstream = await openRowStream(connector, this.#queryRequest(req, d, verdict.analysis));
    } catch (e) {
      await this.#maskError(e, maskCtx);
      const err = e as { sqlstate?: string; message?: string };
      sink?.error(err.sqlstate ?? 'XX000', err.message ?? 'statement failed');
      throw e;
    }
    let masking: RowMasking | undefined;
    try {
      // mask: planned before a single row leaves the gateway or reaches the record.
      masking = await this.#stages.mask?.planRows(upstream.columns, maskCtx);
    } catch (e) {
      await upstream.close();
      sink?.error('XX000', 'masking could not be planned');
      throw e;
    }
    sink?.columns(upstream.columns.map((c) => c.name));
    return { verdict, rows: maskedStream(upstream, masking, sink, (e) => this.#maskError(e, maskCtx)) };
  }

  /**
   * The database's error for a statement quotes values (a failed cast, a RAISE): masked in
   * place, message and hint, before the frontend or the record sees it.
   */
  async #maskError(e: unknown, ctx: MaskContext): Promise<void> {
    const maskError = this.#stages.mask?.maskError;
    const err = e as { sqlstate?: unknown; message?: unknown; hint?: unknown };
    if (maskError === undefined || typeof err?.sqlstate !== 'string' || typeof err.message !== 'string') return;
    const masked = await maskError({ message: err.message, hint: typeof err.hint === 'string' ? err.hint : undefined }, ctx);
    (err as { message: string }).message = masked.message;
    if (typeof err.hint === 'string') (err as { hint: string | undefined }).hint = masked.hint;
  }

  /** What the connector runs for an allowed statement: within the decision's limits, labelled with who and where. */
  #queryRequest(req: { sql: string; params?: readonly (string | null)[] | undefined; maxRows: number; signal?: AbortSignal | undefined; requestId?: string | undefined }, d: AllowDecision, analysis: Analysis): QueryRequest {
    const readOnly = this.readOnly || this.#stages.decide.runsReadOnly?.({ principal: this.principal, client: this.client, connection: this.connection, analysis, params: req.params }) === true;
    return {
      readOnly,
      sql: req.sql,
      params: req.params,
      maxRows: d.maxRows === undefined ? req.maxRows : Math.min(d.maxRows, req.maxRows),
      timeoutMs: d.timeoutMs,
      applicationName: applicationNameFor(this.principal.subject, this.client.applicationName),
      signal: req.signal,
      context: { subject: this.principal.subject, sessionId: this.id, requestId: req.requestId ?? randomUUID(), frontend: this.client.frontend },
    };
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    for (const l of this.#listeners) l.onSessionEnd?.(this, reason);
  }
}

function maskedStream(upstream: RowStream, masking: RowMasking | undefined, sink: ResultSink | undefined, maskError: (e: unknown) => Promise<void>): MaskedRowStream {
  let outcome: StreamOutcome | undefined;
  let finished = false;
  const finish = (f: () => void): void => {
    if (finished) return;
    finished = true;
    f();
  };
  return {
    columns: upstream.columns,
    masked: masking?.masked ?? upstream.columns.map(() => false),
    async *[Symbol.asyncIterator]() {
      try {
        for await (const batch of upstream) {
          for (const row of batch) {
            masking?.maskRow(row);
            sink?.row(row);
          }
          yield batch;
        }
        const o = upstream.outcome();
        outcome = masking ? { ...o, notices: o.notices.map(masking.maskText) } : o;
        finish(() => sink?.complete(outcome!.command, outcome!.rowCount));
      } catch (e) {
        await maskError(e);
        const err = e as { sqlstate?: string; message?: string };
        finish(() => sink?.error(err.sqlstate ?? 'XX000', err.message ?? 'statement failed'));
        throw e;
      } finally {
        // A consumer that stopped early (or failed) must not leave the upstream statement running.
        if (!finished) finish(() => sink?.error('57014', 'the client stopped reading the result'));
        await upstream.close();
      }
    },
    outcome() {
      if (outcome === undefined) throw new Error('outcome() read before the rows were exhausted');
      return outcome;
    },
    close: async () => {
      finish(() => sink?.error('57014', 'the client stopped reading the result'));
      await upstream.close();
    },
  };
}

function auditRefusal(v: Verdict, e: unknown): Admission {
  if (isPortcullisError(e) && e.code === 'ERR_AUDIT_UNAVAILABLE') {
    return { verdict: { decision: { action: 'deny', rule: 'audit', code: 'ERR_AUDIT_UNAVAILABLE', reason: e.message }, analysis: v.analysis }, sink: undefined };
  }
  return { verdict: { decision: { action: 'deny', rule: 'audit', code: 'ERR_AUDIT_UNAVAILABLE', reason: 'the audit store failed; statements are refused until it recovers' }, analysis: v.analysis }, sink: undefined };
}
