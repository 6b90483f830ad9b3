import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { MessageScanner, KEEP, TAKEN, PAUSE, type ScanSink } from '../../codecs/pgwire/message-scanner.js';
import { Be, Fe, KNOWN_FRONTEND_CODES } from '../../codecs/pgwire/message-codes.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { BodyReader } from '../../codecs/pgwire/body-reader.js';
import { copyBody, sameBody } from '../../codecs/pgwire/message-body.js';
import { parseErrorFields, type ErrorFields } from '../../codecs/pgwire/error-fields.js';
import { parseBind, parseParse, parseQuery, parseTarget } from '../../codecs/pgwire/frontend-messages.js';
import { writeErrorResponse, writeNoticeResponse, writeParameterStatus } from '../../codecs/pgwire/backend-messages.js';
import { writeDescribePortal, writeParse, writeQuery, TERMINATE } from '../../codecs/pgwire/frontend-builders.js';
import type { WireUpstream } from '../../connectors/connector.js';
import type { AdmitHooks, Admission, PipelineSession } from '../../pipeline/pipeline.js';
import type { AllowDecision, Verdict } from '../../pipeline/decision.js';
import { denialFields, errorFields } from './wire-errors.js';
import { clientEncodingAccepted } from './startup-parameters.js';
import { endsTransaction, endsTransactionBeforeLast, misreadingSetting, textMayBeMisread } from './sql-reading.js';
import type { Cancellable } from './cancel-keys.js';
import { limitsOf, truncatedTag, type Limits } from './statement-limits.js';
import { newExecution, parseDataRow, parseRowDescription, recordableParams, type Execution, type ExecutionKind, type Portal, type Prepared } from './executions.js';
import { touchesNames, type MaskedStatement, type WireMasking } from './wire-masking.js';
import type { StatementLineage } from '../../masking/index.js';
import { isInPlace } from '../../masking/index.js';

/**
 * One client session in relay mode: bytes flow client ⇄ upstream through two scanners.
 *
 * Client → upstream, every Query and Parse goes through the pipeline before it is relayed.
 * A refused statement never reaches the database: in its place the gateway sends a statement
 * that is certain to fail to parse and carries a per-session random token. PostgreSQL then
 * fails it exactly where the refused statement stood — aborting the transaction block,
 * skipping the rest of an extended-protocol batch until Sync, keeping every response in
 * order — and the gateway swaps that syntax error for its own 42501 on the way back.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
 *
 * Upstream → client, bytes pass through untouched except the few messages a stage needs.
 * When the session records, rate-limits executions or caps results, every execution (a Query,
 * or an Execute of a prepared statement) is followed through `executions.ts`.
 */
export interface RelayOptions {
  client: Socket;
  upstream: WireUpstream;
  session: PipelineSession;
  maxMessageBytes: number;
  logger: Logger;
  onClose: (reason: string) => void;
  /** Present when masking is configured: results, notices and errors pass through it. */
  masking?: WireMasking | undefined;
}

const DENIAL_PREFIX = 'portcullis_denied_';
const NO_VALUES: readonly null[] = [];

interface PendingDenial {
  fields: ErrorFields;
  /** The ReadyForQuery count after which this denial can no longer be answered. */
  sync: number;
}

/** Parse: a review waits for each Execute's parameters (see PipelineSession.admit). */
const DEFER_REVIEW = { deferReview: true } as const;
/** Any mention at all: a false positive only makes masking more conservative for the session. */
const SEARCH_PATH = /search_path/i;
/** RESET ALL, or a setting named with Unicode escapes (U&"…"): what it changes cannot be read off the text. */
const RENAMES_SETTINGS = /\breset\s+all\b|u&"/i;

/**
 * With masking on, what the next RowDescription or NoData from upstream answers, in request
 * order. Masking must plan every Execute from that Execute's own columns: a client may skip
 * Describe, describe in an earlier batch, or describe one portal while another executes, and
 * none of that may leave rows unplanned or planned from another result's columns.
 * - `client`: the client's own Describe, relayed; it also plans `exec` when the Execute of that
 *   very binding follows it directly (the usual Bind/Describe/Execute).
 * - `injected`: a Describe of the portal the gateway sent ahead of an Execute; planned from and
 *   never relayed.
 * - `query`: a simple Query; its result sets' RowDescriptions plan the execution at the head.
 */
type DescribeAnswer =
  | { readonly kind: 'client'; readonly sync: number; readonly portal: Portal | null; exec: Execution | undefined }
  | { readonly kind: 'injected'; readonly sync: number; readonly exec: Execution }
  | { readonly kind: 'query'; readonly sync: number };
const REFUSED_BY_GATEWAY: Verdict['decision'] = { action: 'deny', rule: 'internal', code: 'ERR_ANALYSIS_FAILED', reason: 'the gateway could not evaluate this statement' };
const UNKNOWN_ANALYSIS: Verdict['analysis'] = { statements: [], kind: 'unknown', risks: ['unparseable'], reads: [], writes: [], functions: [] };

function then<T, U>(x: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}

export class PgRelay implements Cancellable {
  readonly #client: Socket;
  readonly #up: WireUpstream;
  readonly #upSock: Socket;
  readonly #session: PipelineSession;
  readonly #log: Logger;
  readonly #onClose: (reason: string) => void;
  readonly #cs: MessageScanner;
  readonly #us: MessageScanner;
  readonly #w = new MessageWriter(256);
  readonly #reader = new BodyReader(Buffer.alloc(0));
  readonly #token = DENIAL_PREFIX + randomBytes(6).toString('hex') + '_';
  readonly #track: boolean;
  readonly #masking: WireMasking | undefined;
  #lastCatalogCheck = Date.now();
  #seq = 0;
  readonly #denials = new Map<string, PendingDenial>();
  #syncSent = 0;
  #syncDone = 0;
  readonly #prepared = new Map<string, Prepared>();
  readonly #portals = new Map<string, Portal>();
  readonly #execs: Execution[] = [];
  readonly #answers: DescribeAnswer[] = [];
  /**
   * Parses relayed upstream whose ParseComplete has not come back, in order. One whose batch
   * ends without it failed or was skipped: the relay's view of the statement is undone, so a
   * later Bind can never run the server's statement under another statement's verdict.
   */
  readonly #parses: { readonly name: string; readonly sync: number }[] = [];
  /** Extended-protocol messages went upstream since the last Sync (a Query there may be skipped). */
  #batchOpen = false;
  /** An Execute ran in the open batch: what is parsed after it may be read under switched settings (#onParse). */
  #executedInBatch = false;
  /** A read-only session's open batch ended a transaction: nothing more may run in it (#onExecute). */
  #txEndedInBatch = false;
  readonly #inFlightWaiters: (() => void)[] = [];
  #lastColumns: { readonly shape: Buffer; readonly names: string[]; readonly binary: boolean[] | null; readonly formats: ('text' | 'binary')[] | undefined } | undefined;
  #closed = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #expired = false;
  #clientThrottled = false;
  #upThrottled = false;

  constructor(o: RelayOptions) {
    this.#client = o.client;
    this.#up = o.upstream;
    this.#upSock = o.upstream.socket as Socket;
    this.#session = o.session;
    this.#log = o.logger;
    this.#onClose = o.onClose;
    this.#masking = o.masking;
    this.#track = o.session.tracksExecutions || o.masking !== undefined;

    const upSock = this.#upSock;
    const client = this.#client;

    this.#cs = new MessageScanner(this.#clientSink(), o.maxMessageBytes);
    for (let c = 0; c < 256; c++) if (!KNOWN_FRONTEND_CODES.has(c)) this.#cs.inspect[c] = 1;
    for (const c of [Fe.Query, Fe.Parse, Fe.Sync, Fe.Close, Fe.FunctionCall, Fe.Terminate, Fe.Password]) this.#cs.inspect[c] = 1;

    this.#us = new MessageScanner(this.#upstreamSink());
    this.#us.inspect[Be.ReadyForQuery] = 1;
    // Rare, and two of them change how the server reads SQL (#onParameterStatus).
    this.#us.inspect[Be.ParameterStatus] = 1;
    if (this.#track) {
      this.#cs.inspect[Fe.Bind] = this.#cs.inspect[Fe.Execute] = this.#cs.inspect[Fe.Describe] = 1;
      this.#us.inspect[Be.ParseComplete] = 1;
      for (const c of [Be.RowDescription, Be.DataRow, Be.CommandComplete, Be.EmptyQueryResponse, Be.PortalSuspended, Be.ErrorResponse]) this.#us.inspect[c] = 1;
    }
    if (this.#masking) {
      for (const c of [Be.NoticeResponse, Be.NotificationResponse, Be.CopyOutResponse, Be.NoData]) this.#us.inspect[c] = 1;
      this.#cs.inspect[Fe.Describe] = 1;
    }

    client.on('data', (chunk: Buffer) => {
      upSock.cork();
      this.#cs.push(chunk);
      upSock.uncork();
      if (upSock.writableNeedDrain) this.#throttle(client, upSock);
    });
    upSock.on('data', (chunk: Buffer) => {
      client.cork();
      this.#us.push(chunk);
      client.uncork();
      if (client.writableNeedDrain) this.#throttle(upSock, client);
    });
    client.on('close', () => this.#shutdown('client-disconnect'));
    client.on('error', (e) => {
      this.#log.debug({ err: e.message }, 'client socket error');
      this.#shutdown('client-error');
    });
    upSock.on('close', () => this.#upstreamGone());
    upSock.on('error', (e) => this.#log.warn({ err: e.message, connection: this.#session.connection }, 'upstream socket error'));

    const exp = this.#session.principal.expiresAt;
    if (exp !== undefined) {
      this.#expiryTimer = setTimeout(() => this.#expire(), Math.min(Math.max(exp - Date.now(), 0), 0x7fffffff));
      this.#expiryTimer.unref();
    }
    // The console's end-session: the client hears why, at the next message boundary if it can.
    this.#session.terminate = (reason) => this.#endWithFatal(errorFields('ERR_POLICY_DENIED', `an administrator ended this session: ${reason}`, 'FATAL'), 'ended-by-admin');
    if (this.#up.leftover) upSock.unshift(this.#up.leftover);
    // The connector hands the socket over paused so no byte is lost between owners.
    upSock.resume();
  }

  /** Back-pressure: stop reading `from` until `to` has drained, so no side buffers a result. */
  #throttle(from: Socket, to: Socket): void {
    const isClient = from === this.#client;
    if (isClient ? this.#clientThrottled : this.#upThrottled) return;
    if (isClient) this.#clientThrottled = true;
    else this.#upThrottled = true;
    from.pause();
    to.once('drain', () => {
      if (isClient) this.#clientThrottled = false;
      else this.#upThrottled = false;
      if (!this.#closed && !(isClient && this.#cs.paused)) from.resume();
    });
  }

  cancelUpstream(): void {
    this.#session.withdrawHeld();
    this.#up.cancel().catch((e: unknown) => this.#log.warn({ err: (e as Error).message }, 'cancel request failed'));
  }

  // ---- client → upstream ----------------------------------------------------------------

  #clientSink(): ScanSink {
    const up = this.#upSock;
    return {
      pass: (buf, start, end) => {
        up.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      },
      message: (code, buf, start, end) => {
        // Pipelined behind statements still running: some must wait for their ReadyForQuery
        // (and the ParameterStatus reports before it) before they are read at all.
        if (this.#syncSent > this.#syncDone && this.#mustWait(code, buf, start, end)) {
          return this.#when(this.#inFlightDone(), buf, start, end, (_v, b, s, e) => this.#clientSink().message(code, b, s, e));
        }
        try {
          switch (code) {
            case Fe.Query:
              return this.#onQuery(buf, start, end);
            case Fe.Parse:
              return this.#onParse(buf, start, end);
            case Fe.Bind:
              return this.#onBind(buf, start, end);
            case Fe.Execute:
              return this.#onExecute(buf, start, end);
            case Fe.Sync:
              this.#syncSent++;
              this.#batchOpen = false;
              this.#executedInBatch = false;
              this.#txEndedInBatch = false;
              return KEEP;
            case Fe.Close:
              return this.#onCloseMessage(buf, start, end);
            case Fe.Describe:
              return this.#onDescribe(buf, start, end);
            case Fe.FunctionCall:
              // The fastpath interface calls a function by OID with no SQL to analyze.
              this.#cs.flushRun();
              this.#refuse(true, errorFields('ERR_FUNCTION_CALL_REFUSED', 'the FunctionCall protocol message is not allowed through Portcullis; call the function from SQL instead'), undefined);
              return TAKEN;
            case Fe.Terminate:
              this.#cs.flushRun();
              up.write(TERMINATE);
              this.#shutdown('client-terminate');
              return TAKEN;
            default:
              this.#violation(`unexpected message type 0x${code.toString(16)} after startup`);
              return TAKEN;
          }
        } catch (e) {
          this.#violation((e as Error).message);
          return TAKEN;
        }
      },
      violation: (reason) => this.#violation(reason),
    };
  }

  /**
   * Runs `step` now when its value is ready; otherwise holds the client until it is, then
   * relays or replaces the frame. The frame is copied because the scanner moves on.
   */
  #when<T>(value: T | Promise<T>, buf: Buffer, start: number, end: number, apply: (v: T, buf: Buffer, start: number, end: number, detached: boolean) => number): number {
    if (!(value instanceof Promise)) return apply(value, buf, start, end, false);
    this.#cs.flushRun();
    this.#client.pause();
    const frame = Buffer.from(buf.subarray(start, end));
    const resume = (v: T) => {
      if (this.#closed) return;
      this.#upSock.cork();
      const r = apply(v, frame, 0, frame.length, true);
      if (r === KEEP) this.#upSock.write(frame);
      this.#upSock.uncork();
      // Held again (an approval after a barrier): that hold resumes the scan when it ends.
      if (r === PAUSE) return;
      this.#cs.resume();
      if (!this.#clientThrottled && !this.#cs.paused && !this.#closed) this.#client.resume();
    };
    value.then(resume, (e: unknown) => {
      this.#log.error({ err: (e as Error).message }, 'pipeline failed; closing the session');
      this.#endWithFatal(errorFields('ERR_INTERNAL', 'the gateway failed to evaluate a statement', 'FATAL'), 'internal-error');
    });
    return PAUSE;
  }

  /**
   * Whether a client message pipelined behind unanswered ones must wait for them. A read-only
   * session waits with everything: a statement before it may have turned
   * default_transaction_read_only off (a function can), which PostgreSQL reports only at
   * ReadyForQuery. Elsewhere only SQL text that a switched client_encoding or
   * standard_conforming_strings would read differently waits (sql-reading.ts).
   */
  #mustWait(code: number, buf: Buffer, start: number, end: number): boolean {
    // These end or feed what is already running (COPY FROM STDIN data): holding them would wait forever.
    if (code === Fe.Sync || code === Fe.Flush || code === Fe.Terminate || code === Fe.CopyData || code === Fe.CopyDone || code === Fe.CopyFail) return false;
    if (this.#session.readOnly) return true;
    return (code === Fe.Query || code === Fe.Parse) && textMayBeMisread(code, buf, start, end);
  }

  /** Resolves once every ReadyForQuery owed so far has arrived. */
  #inFlightDone(): Promise<void> {
    return new Promise((resolve) => this.#inFlightWaiters.push(resolve));
  }

  /** A held statement: the client hears at once which approval request it waits on. */
  readonly #hooks: AdmitHooks = {
    onHold: (_id, message) => {
      // A notice may sit between any two backend messages, never inside one.
      if (!this.#us.atBoundary || this.#client.destroyed) return;
      this.#client.write(writeNoticeResponse(this.#w, { severity: 'NOTICE', code: '01000', message }).take());
    },
  };

  #admit(sql: string, deferReview = false): Verdict | Promise<Verdict> {
    try {
      return this.#session.admit(sql, undefined, this.#hooks, deferReview ? DEFER_REVIEW : undefined);
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'pipeline failed; refusing the statement');
      return { decision: REFUSED_BY_GATEWAY, analysis: UNKNOWN_ANALYSIS };
    }
  }

  #approveDeferred(stmt: Prepared, portal: Portal): Verdict | Promise<Verdict> {
    try {
      return this.#session.approveDeferred(stmt.sql, portal.rawParams ?? [], stmt.verdict, this.#hooks);
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'approval failed; refusing the statement');
      return { decision: REFUSED_BY_GATEWAY, analysis: stmt.verdict.analysis };
    }
  }

  #begin(sql: string, v: Verdict, params: (string | null)[] | null, charge: boolean): Admission | Promise<Admission> {
    return this.#track ? this.#session.begin(sql, v, params, charge) : { verdict: v, sink: undefined };
  }

  #onQuery(buf: Buffer, start: number, end: number): number {
    if (this.#track && this.#batchOpen) {
      // PostgreSQL skips a Query after an error in the open batch, and answers it otherwise:
      // the relay could not tell which of its results belong to which statement.
      this.#cs.flushRun();
      this.#endWithFatal(errorFields('ERR_PROTOCOL_SEQUENCE', 'a simple Query was sent inside an extended-protocol batch; send Sync before a Query', 'FATAL'), 'protocol-sequence');
      return TAKEN;
    }
    const sql = parseQuery(buf, start, end);
    const admission = then(this.#admit(sql), (v) => this.#begin(sql, v, null, true));
    return this.#when(admission, buf, start, end, (a, _b, _s, _e, detached) => {
      const d = a.verdict.decision;
      if (d.action === 'allow' && this.#session.readOnly && endsTransactionBeforeLast(a.verdict.analysis.statements)) {
        // What follows the COMMIT would run in a new transaction before PostgreSQL could report
        // whether the statements before it turned default_transaction_read_only off.
        if (!detached) this.#cs.flushRun();
        this.#refuse(true, errorFields('ERR_PROTOCOL_SEQUENCE', 'in a read-only session COMMIT or ROLLBACK must be the last statement of a Query; send the rest as a new Query'), a.sink);
        return TAKEN;
      }
      if (d.action === 'allow') {
        this.#syncSent++;
        const an = a.verdict.analysis;
        const bound = this.#masking ? this.#namesAdmitted(this.#masking, sql, an) : undefined;
        if (this.#track) this.#push('query', this.#syncSent, null, limitsOf(d), a.sink, { sql, profiles: d.mask, writes: an.kind !== 'read', bound }, an.kind === 'ddl');
        if (this.#masking) this.#answers.push({ kind: 'query', sync: this.#syncSent });
        // SQL-level PREPARE, DEALLOCATE and DISCARD change what a protocol name stands for: a
        // later Bind of such a name is then admitted as EXECUTE "name", as the analyzer knows it.
        if (this.#track && an.statements.some((st) => st.tag === 'PREPARE' || st.tag === 'DEALLOCATE' || st.tag.startsWith('DISCARD'))) this.#prepared.clear();
        return KEEP;
      }
      if (!detached) this.#cs.flushRun();
      this.#refuse(true, this.#refusalFields(a.verdict), a.sink);
      return TAKEN;
    });
  }

  #onParse(buf: Buffer, start: number, end: number): number {
    const p = parseParse(buf, start, end);
    this.#batchOpen = true;
    if (this.#executedInBatch && textMayBeMisread(Fe.Parse, buf, start, end)) {
      // The server parses this text only after the earlier Execute ran, and would report a
      // switched client_encoding or standard_conforming_strings only at ReadyForQuery: too late
      // to know whether it reads backslashes and non-ASCII bytes as the analyzer does.
      return this.#refuseInBatch(errorFields('ERR_PROTOCOL_SEQUENCE', 'a statement with backslashes or non-ASCII text was parsed after an Execute in the same batch, where an earlier statement may have changed how the server reads it; send Sync before parsing it'));
    }
    if (this.#track && p.name !== '' && this.#prepared.has(p.name)) {
      // PostgreSQL would refuse it too (42P05) and keep the old statement: so must the relay's view.
      return this.#refuseInBatch(errorFields('ERR_STATEMENT_EXISTS', `prepared statement "${p.name.slice(0, 63)}" already exists; Close it before parsing the name again`));
    }
    return this.#when(this.#admit(p.sql, true), buf, start, end, (v, _b, _s, _e, detached) => {
      const d = v.decision;
      // A statement for review is prepared (that runs nothing); each Execute asks for approval
      // with its own parameters.
      if (d.action === 'allow' || d.action === 'review') {
        if (p.name !== '') this.#session.rememberPrepared(p.name, v.analysis);
        this.#prepared.set(p.name, { sql: p.sql, verdict: v, limits: d.action === 'allow' ? limitsOf(d) : undefined });
        if (this.#track) this.#parses.push({ name: p.name, sync: this.#syncSent + 1 });
        return KEEP;
      }
      this.#prepared.delete(p.name);
      if (!detached) this.#cs.flushRun();
      // A refused Parse is a statement attempt: record it (it never executes).
      const recorded = this.#begin(p.sql, v, null, false);
      const sink = recorded instanceof Promise ? undefined : recorded.sink;
      this.#refuse(false, this.#refusalFields(v), sink, p.name);
      return TAKEN;
    });
  }

  /** Bind: a portal remembers its statement, parameters and (across Executes) its row count. */
  #onBind(buf: Buffer, start: number, end: number): number {
    this.#batchOpen = true;
    const r = this.#reader.reset(buf, start + 5, end);
    const portal = r.cstring();
    const statement = r.cstring();
    const prepared = this.#prepared.get(statement);
    const awaitsReview = prepared?.verdict.decision.action === 'review';
    const records = this.#session.recordsParams;
    const raw = records || awaitsReview ? recordableParams(parseBind(buf, start, end).params) : undefined;
    const m = this.#masking;
    // Parameters are recorded as the masking rules would show them, never raw.
    const params = records && raw ? (m ? raw.map((p) => (p === null ? null : (m.engine.maskText(p) ?? p))) : raw) : null;
    this.#portals.set(portal, { stmt: prepared, statement, params, rawParams: awaitsReview ? raw : undefined, rows: 0, truncated: false });
    return KEEP;
  }

  /** Execute: one execution of a prepared statement, charged and recorded like a Query. */
  #onExecute(buf: Buffer, start: number, end: number): number {
    this.#batchOpen = true;
    const name = this.#reader.reset(buf, start + 5, end).cstring();
    const portal = this.#portals.get(name) ?? null;
    const stmt = portal?.stmt;
    if (!stmt) {
      // A statement PREPAREd in SQL can be bound by name: run it through policy, approval and
      // the record exactly as `EXECUTE name` would be — never straight upstream.
      if (portal !== null && portal.statement !== '') return this.#onExecuteSqlPrepared(buf, start, end, name, portal);
      // A portal the relay never saw bound (a SQL cursor executed as a portal), or bound to an
      // unnamed statement whose Parse failed or was refused: nothing says what it would run.
      const why = portal === null ? `portal "${name.slice(0, 63)}" was not created by a Bind through Portcullis; read a SQL cursor with FETCH` : 'the unnamed statement this portal was bound to was refused or did not parse';
      return this.#refuseInBatch(errorFields('ERR_PROTOCOL_SEQUENCE', `Execute refused: ${why}`));
    }
    if (this.#txEndedInBatch) {
      // A new transaction in this batch would start before PostgreSQL could report whether an
      // earlier statement turned default_transaction_read_only off.
      return this.#refuseInBatch(errorFields('ERR_PROTOCOL_SEQUENCE', 'in a read-only session a transaction must end its batch: send Sync after COMMIT or ROLLBACK'));
    }
    const reviewed = stmt.verdict.decision.action === 'review';
    const admission = reviewed ? then(this.#approveDeferred(stmt, portal), (v) => this.#begin(stmt.sql, v, portal.params, true)) : this.#begin(stmt.sql, stmt.verdict, portal.params, true);
    return this.#when(admission, buf, start, end, (a, _b, _s, _e, detached) =>
      this.#executeAdmitted(a, detached, name, portal, stmt.sql, stmt.verdict.analysis, (d) => (reviewed ? limitsOf(d) : stmt.limits)),
    );
  }

  /** Execute of a portal bound to a statement PREPAREd in SQL: admitted as `EXECUTE "name"`. */
  #onExecuteSqlPrepared(buf: Buffer, start: number, end: number, name: string, portal: Portal): number {
    const sql = `EXECUTE "${portal.statement.replaceAll('"', '""')}"`;
    const admission = then(this.#admit(sql), (v) => this.#begin(sql, v, portal.params, true));
    return this.#when(admission, buf, start, end, (a, _b, _s, _e, detached) => this.#executeAdmitted(a, detached, name, portal, sql, a.verdict.analysis, limitsOf));
  }

  /** An Execute whose admission is known: followed (and described ahead for masking) when allowed, else replaced by a refusal. */
  #executeAdmitted(a: Admission, detached: boolean, name: string, portal: Portal, sql: string, analysis: Verdict['analysis'], limits: (d: AllowDecision) => Limits | undefined): number {
    const d = a.verdict.decision;
    if (d.action === 'allow') {
      this.#executedInBatch = true;
      if (this.#session.readOnly && endsTransaction(analysis.statements)) this.#txEndedInBatch = true;
      const bound = this.#masking ? this.#namesAdmitted(this.#masking, sql, analysis) : undefined;
      const x = this.#push('execute', this.#syncSent + 1, portal, limits(d), a.sink, { sql, profiles: d.mask, writes: analysis.kind !== 'read', bound }, analysis.kind === 'ddl');
      if (this.#masking) this.#describeAhead(x, name, portal, detached);
      return KEEP;
    }
    if (!detached) this.#cs.flushRun();
    this.#refuse(false, this.#refusalFields(a.verdict), a.sink, this.#token + 'x');
    return TAKEN;
  }

  /**
   * Refuses an extended-protocol message in place: a stand-in makes the server fail the batch
   * here and skip to Sync, so the client's batch semantics stay PostgreSQL's own.
   */
  #refuseInBatch(fields: ErrorFields): number {
    this.#cs.flushRun();
    this.#refuse(false, fields, undefined, this.#token + 'x');
    return TAKEN;
  }

  /**
   * What an admitted statement does to names, for masking — by simple Query or extended
   * Execute alike: cursor and prepared names are bound in admission order (wire-masking.ts
   * bindNames), and after a search_path change (SET, RESET, any set_config, whose name may be
   * computed, RESET ALL, DISCARD, U&"…" names) unqualified names may resolve elsewhere.
   */
  #namesAdmitted(masking: WireMasking, sql: string, an: Verdict['analysis']): ReadonlyMap<number, StatementLineage | undefined> | undefined {
    if (SEARCH_PATH.test(sql) || RENAMES_SETTINGS.test(sql) || an.statements.some((st) => st.tag.startsWith('DISCARD') || st.functions.some((f) => f === 'set_config' || f.endsWith('.set_config')))) {
      masking.distrustNames();
    }
    return touchesNames(an.statements) ? masking.bindNames(sql) : undefined;
  }

  /** The client's Describe, noted so that its answer is relayed and not mistaken for another result's columns. */
  #onDescribe(buf: Buffer, start: number, end: number): number {
    this.#batchOpen = true;
    if (!this.#masking) return KEEP;
    const t = parseTarget(buf, start, end);
    this.#answers.push({ kind: 'client', sync: this.#syncSent + 1, portal: t.kind === 0x50 ? (this.#portals.get(t.name) ?? null) : null, exec: undefined });
    return KEEP;
  }

  /**
   * Makes sure the Execute about to go upstream gets its own columns before its rows: from the
   * client's Describe of the same binding right before it, else from a Describe the gateway
   * sends ahead of the Execute (its answer is swallowed).
   */
  #describeAhead(x: Execution, name: string, portal: Portal | null, detached: boolean): void {
    const tail = this.#answers[this.#answers.length - 1];
    if (tail?.kind === 'client' && tail.exec === undefined && portal !== null && tail.portal === portal) {
      tail.exec = x;
      return;
    }
    // Everything before the Execute goes first; in a resumed frame the caller writes the Execute after this.
    if (!detached) this.#cs.flushRun();
    this.#upSock.write(writeDescribePortal(this.#w, name).take());
    this.#answers.push({ kind: 'injected', sync: x.sync, exec: x });
  }

  #onCloseMessage(buf: Buffer, start: number, end: number): number {
    this.#batchOpen = true;
    const t = parseTarget(buf, start, end);
    if (t.kind === 0x53) {
      if (t.name !== '') this.#session.forgetPrepared(t.name);
      this.#prepared.delete(t.name);
    } else this.#portals.delete(t.name);
    return KEEP;
  }

  #refusalFields(v: Verdict): ErrorFields {
    const d = v.decision;
    if (d.action === 'deny') return denialFields(d);
    return errorFields('ERR_APPROVAL_REQUIRED', `requires approval: ${d.action === 'review' ? d.reason : ''}`);
  }

  /**
   * Sends the certain-to-fail stand-in upstream and remembers which error to swap. A simple
   * Query stand-in is its own sync point; an extended one fails the batch up to the next Sync.
   */
  #refuse(simple: boolean, fields: ErrorFields, sink: Admission['sink'], name = ''): void {
    const token = this.#token + String(++this.#seq);
    if (simple) {
      this.#syncSent++;
      this.#denials.set(token, { fields, sync: this.#syncSent });
      writeQuery(this.#w, token);
    } else {
      this.#denials.set(token, { fields, sync: this.#syncSent + 1 });
      writeParse(this.#w, name, token);
    }
    if (this.#track) this.#push('refusal', simple ? this.#syncSent : this.#syncSent + 1, null, undefined, sink);
    this.#us.inspect[Be.ErrorResponse] = 1;
    this.#upSock.write(this.#w.take());
  }

  #push(kind: ExecutionKind, sync: number, portal: Portal | null, limits: Limits | undefined, sink: Admission['sink'], stmt?: MaskedStatement, ddl = false): Execution {
    const x = newExecution(kind, sync, portal, limits, sink, stmt, ddl);
    if (limits?.timeoutMs !== undefined) {
      // Enforced by the gateway: past the rule's timeout with the execution unanswered, the
      // upstream query is cancelled and the resulting 57014 names the rule.
      x.timer = setTimeout(() => {
        if (this.#closed || !this.#execs.includes(x)) return;
        x.timedOut = true;
        this.cancelUpstream();
      }, limits.timeoutMs);
      x.timer.unref();
    }
    this.#execs.push(x);
    return x;
  }

  // ---- upstream → client ----------------------------------------------------------------

  #upstreamSink(): ScanSink {
    const client = this.#client;
    return {
      pass: (buf, start, end) => {
        // A session ended mid-chunk (a FATAL at one message) relays nothing after that message.
        if (this.#closed) return;
        client.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      },
      message: (code, buf, start, end) => {
        if (this.#closed) return TAKEN;
        try {
          switch (code) {
            case Be.ReadyForQuery:
              return this.#onReady(buf, start, end);
            case Be.ErrorResponse:
              return this.#onError(buf, start, end);
            case Be.DataRow:
              return this.#onDataRow(buf, start, end);
            case Be.RowDescription:
              return this.#onRowDescription(buf, start, end);
            case Be.NoData:
              return this.#onNoData();
            case Be.ParseComplete:
              this.#parses.shift();
              return KEEP;
            case Be.ParameterStatus:
              return this.#onParameterStatus(buf, start, end);
            case Be.NoticeResponse:
              return this.#maskNotice(buf, start, end);
            case Be.NotificationResponse:
              return this.#maskNotification(buf, start, end);
            case Be.CopyOutResponse: {
              const x = this.#execs[0];
              if (x?.stmt && this.#masking) {
                x.copy = this.#masking.copyPlan(x.stmt, x.copyIndex++);
                const enc = x.copy.format.encoding;
                if (x.copy.plan && x.copy.format.format !== 'binary' && enc !== undefined && !clientEncodingAccepted(enc)) {
                  // Its fields could not be told apart as UTF-8: nothing of it may reach the client.
                  return this.#fatalAtUpstreamMessage(errorFields('ERR_SQL_READING_CHANGED', `COPY … ENCODING '${enc.slice(0, 40)}' cannot be masked: Portcullis splits COPY output into fields as UTF-8; the session is closed. Leave out ENCODING`, 'FATAL'), 'copy-encoding');
                }
                if (x.copy.plan) this.#us.inspect[Be.CopyData] = 1;
              }
              return KEEP;
            }
            case Be.CopyData:
              return this.#maskCopyData(buf, start, end);
            case Be.CommandComplete:
              return this.#onComplete(buf, start, end);
            case Be.EmptyQueryResponse:
            case Be.PortalSuspended: {
              const x = this.#execs[0];
              if (x !== undefined && x.kind !== 'query') {
                x.sink?.complete(code === Be.EmptyQueryResponse ? 'EMPTY' : 'SUSPENDED', null);
                this.#finish(x);
              }
              return KEEP;
            }
            default:
              return KEEP;
          }
        } catch (e) {
          this.#log.error({ err: (e as Error).message, connection: this.#session.connection }, 'upstream sent a malformed message');
          this.#endWithFatal(errorFields('ERR_UPSTREAM_LOST', 'the upstream database sent invalid protocol data', 'FATAL'), 'upstream-protocol');
          return TAKEN;
        }
      },
      violation: (reason) => {
        this.#log.error({ reason, connection: this.#session.connection }, 'upstream sent invalid protocol');
        this.#endWithFatal(errorFields('ERR_UPSTREAM_LOST', 'the upstream database sent invalid protocol data', 'FATAL'), 'upstream-protocol');
      },
    };
  }

  #onRowDescription(buf: Buffer, start: number, end: number): number {
    if (this.#masking) {
      const a = this.#answers[0];
      if (a !== undefined && a.kind !== 'query') {
        this.#answers.shift();
        if (a.exec !== undefined) this.#describeResult(a.exec, buf, start, end);
        if (a.kind === 'client') return KEEP;
        this.#us.flushRun();
        return TAKEN;
      }
    }
    const x = this.#execs[0];
    // With masking on, only a simple Query's result sets are described in line; an Execute's
    // columns come from its Describe answer above, never from whatever is at the head.
    if (x !== undefined && (!this.#masking || x.kind === 'query')) this.#describeResult(x, buf, start, end);
    return KEEP;
  }

  #describeResult(x: Execution, buf: Buffer, start: number, end: number): void {
    // Names and formats are for the record only: with recording off, masking reads the frame itself.
    if (x.sink !== undefined) {
      const d = this.#columnsOf(buf, start, end);
      x.binary = d.binary;
      x.sink.columns(d.names, d.formats);
    }
    if (this.#masking) {
      x.plan = x.stmt ? this.#masking.planFor(x.stmt, buf, start, end, x.resultIndex++) : null;
      x.planned = true;
    }
  }

  /**
   * A RowDescription's names and formats for the record. A connection usually repeats one
   * result shape: the same bytes give back the same arrays, so the record builds and
   * serializes its column list once (result-capture.ts, chain.ts).
   */
  #columnsOf(buf: Buffer, start: number, end: number): { readonly names: string[]; readonly binary: boolean[] | null; readonly formats: ('text' | 'binary')[] | undefined } {
    const last = this.#lastColumns;
    if (last !== undefined && sameBody(last.shape, buf, start, end)) return last;
    const t = parseRowDescription(buf, start, end);
    const d = { shape: copyBody(buf, start, end), names: t.names, binary: t.binary, formats: t.binary?.map((b): 'text' | 'binary' => (b ? 'binary' : 'text')) };
    this.#lastColumns = d;
    return d;
  }

  /** A Describe's answer for a statement that returns no rows. */
  #onNoData(): number {
    const a = this.#answers[0];
    if (a === undefined || a.kind === 'query') return KEEP;
    this.#answers.shift();
    if (a.exec !== undefined) {
      a.exec.plan = null;
      a.exec.planned = true;
    }
    if (a.kind === 'client') return KEEP;
    this.#us.flushRun();
    return TAKEN;
  }

  #finish(x: Execution): void {
    const i = this.#execs.indexOf(x);
    if (i >= 0) this.#execs.splice(i, 1);
    if (x.timer) clearTimeout(x.timer);
  }

  #onReady(buf: Buffer, start: number, end: number): number {
    this.#syncDone++;
    if (this.#syncDone >= this.#syncSent && this.#inFlightWaiters.length > 0) {
      // After this ReadyForQuery is relayed: the held message is then read as a new one.
      const waiting = this.#inFlightWaiters.splice(0);
      queueMicrotask(() => {
        for (const w of waiting) w();
      });
    }
    // Describes PostgreSQL skipped after an error in their batch are never answered.
    while (this.#answers.length > 0 && this.#answers[0]!.sync <= this.#syncDone) this.#answers.shift();
    // Parses of this batch that never completed did not create their statement. A failed
    // unnamed Parse dropped the old unnamed statement while a skipped one did not: either way
    // the relay no longer knows what it holds, and an Execute bound to it is refused.
    while (this.#parses.length > 0 && this.#parses[0]!.sync <= this.#syncDone) {
      const { name } = this.#parses.shift()!;
      this.#prepared.delete(name);
      if (name !== '') this.#session.forgetPrepared(name);
    }
    if (this.#denials.size > 0) this.#forgetAnswered();
    // Everything up to this sync point is over: a Query's record completes, and Executes that
    // PostgreSQL skipped after an error in their batch are recorded as not run.
    while (this.#execs.length > 0 && this.#execs[0]!.sync <= this.#syncDone) {
      const x = this.#execs[0]!;
      if (x.kind === 'query') x.sink?.complete(x.tag || 'EMPTY', undefined);
      else x.sink?.error('XX000', 'not executed: an earlier statement in the same batch failed');
      this.#finish(x);
    }
    if (this.#masking && Date.now() - this.#lastCatalogCheck > 30_000) {
      this.#lastCatalogCheck = Date.now();
      this.#masking.refresh();
    }
    // Transaction end destroys portals (WITH HOLD cursors aside, which are SQL-level).
    if (buf[start + 5] === 0x49 && this.#portals.size > 0) this.#portals.clear();
    if (this.#expired) {
      this.#us.flushRun();
      this.#client.write(buf.subarray(start, end));
      this.#endWithFatal(errorFields('ERR_TOKEN_EXPIRED', 'your token has expired; the session is closed', 'FATAL'), 'token-expired');
      return TAKEN;
    }
    return KEEP;
  }

  #onDataRow(buf: Buffer, start: number, end: number): number {
    const x = this.#execs[0];
    if (x === undefined) return this.#masking ? this.#unplannedRow('none') : KEEP;
    const max = x.limits?.maxRows;
    if (max !== undefined) {
      const counter = x.portal ?? x;
      if (++counter.rows > max) {
        counter.truncated = true;
        this.#us.flushRun();
        return TAKEN;
      }
    }
    if (this.#masking && !x.planned) return this.#unplannedRow(x.kind);
    let row = buf, rs = start, re = end, r = KEEP;
    if (x.plan !== null) {
      const out = x.plan.maskDataRow(buf, start, end);
      if (out !== null && !isInPlace(out, buf, start)) {
        this.#us.flushRun();
        this.#client.write(out);
        row = out;
        rs = 0;
        re = out.length;
        r = TAKEN;
      }
    }
    const sink = x.sink;
    if (sink !== undefined) {
      if (sink.accepting === false) sink.row(NO_VALUES, re - rs);
      else sink.row(parseDataRow(row, rs, re, x.binary), re - rs);
    }
    return r;
  }

  /**
   * A setting the server reports changed. Two change how the server reads SQL text: in a
   * multi-byte client encoding such as SJIS, or with standard_conforming_strings off, bytes the
   * analyzer read as inside a string literal can end it for the server. However the session got
   * there (SET, set_config, a DO block, a function), what came next would be decided and masked
   * on a misreading, so the session ends before anything after the change reaches the client.
   * application_name is free text a statement can fill from data: masked like a notice.
   */
  #onParameterStatus(buf: Buffer, start: number, end: number): number {
    const r = this.#reader.reset(buf, start + 5, end);
    const name = r.cstring();
    const value = r.cstring();
    const misread = misreadingSetting(name, value, this.#session.readOnly);
    if (misread !== undefined) {
      this.#log.warn({ connection: this.#session.connection, session: this.#session.id, setting: name }, 'the session changed how the server reads SQL; ending it');
      return this.#fatalAtUpstreamMessage(errorFields('ERR_SQL_READING_CHANGED', `the session switched to ${misread}; the session is closed`, 'FATAL'), 'sql-reading-changed');
    }
    if (name === 'application_name' && this.#masking) {
      const masked = this.#masking.maskSetting(value, this.#execs[0]?.stmt);
      if (masked !== value) {
        this.#us.flushRun();
        writeParameterStatus(this.#w, name, masked);
        this.#client.write(this.#w.take());
        return TAKEN;
      }
    }
    return KEEP;
  }

  /** Never relay a row that could not be masked: that would be the leak masking exists to stop. */
  #unplannedRow(kind: string): number {
    this.#log.error({ connection: this.#session.connection, session: this.#session.id, kind }, 'rows arrived before their columns were known; closing the session');
    return this.#fatalAtUpstreamMessage(errorFields('ERR_INTERNAL', 'the gateway could not tell which columns this result has, so it cannot mask it; the session is closed', 'FATAL'), 'masking-unplanned');
  }

  #maskCopyData(buf: Buffer, start: number, end: number): number {
    const c = this.#execs[0]?.copy;
    if (!c?.plan) return KEEP;
    const out = c.plan.maskCopyData(buf, start, end, c.format);
    if (out === null) return KEEP;
    this.#us.flushRun();
    this.#client.write(out);
    return TAKEN;
  }

  #maskNotice(buf: Buffer, start: number, end: number): number {
    const m = this.#masking!;
    let f: ErrorFields;
    try {
      f = parseErrorFields(buf, start + 5, end);
    } catch {
      return KEEP;
    }
    const masked = m.maskError(f, this.#execs[0]?.stmt);
    if (masked === null) return KEEP;
    this.#us.flushRun();
    writeNoticeResponse(this.#w, masked);
    this.#client.write(this.#w.take());
    return TAKEN;
  }

  #maskNotification(buf: Buffer, start: number, end: number): number {
    const n = this.#masking!.maskNotification(buf, start, end, this.#execs[0]?.stmt);
    if (n === null) return KEEP;
    this.#us.flushRun();
    this.#w.begin(Be.NotificationResponse).int32(n.pid).cstring(n.channel).cstring(n.payload).end();
    this.#client.write(this.#w.take());
    return TAKEN;
  }

  #onComplete(buf: Buffer, start: number, end: number): number {
    const x = this.#execs[0];
    if (x === undefined) return KEEP;
    const counter = x.portal ?? x;
    const max = x.limits?.maxRows;
    const truncated = counter.truncated && max !== undefined;
    // The tag is read only for the record or to rewrite it: decoding it costs a string per statement.
    let shownTag = truncated || x.sink !== undefined ? this.#reader.reset(buf, start + 5, end).cstring() : '';
    let r = KEEP;
    if (truncated) {
      this.#us.flushRun();
      shownTag = truncatedTag(shownTag, max);
      writeNoticeResponse(this.#w, { severity: 'NOTICE', code: '01000', message: `result truncated to ${max} rows by Portcullis policy rule "${x.limits!.rule}" (max_rows)` });
      this.#w.begin(Be.CommandComplete).cstring(shownTag).end();
      this.#client.write(this.#w.take());
      r = TAKEN;
    }
    counter.rows = 0;
    counter.truncated = false;
    x.plan = null;
    x.planned = false;
    if (x.copy) {
      x.copy = null;
      this.#us.inspect[Be.CopyData] = 0;
    }
    if (x.ddl) this.#masking?.invalidate();
    if (x.kind === 'query') x.tag = shownTag;
    else {
      x.sink?.complete(shownTag, undefined);
      this.#finish(x);
    }
    return r;
  }

  #onError(buf: Buffer, start: number, end: number): number {
    const x = this.#execs[0];
    if (this.#denials.size === 0 && x === undefined) return KEEP;
    let f: ErrorFields;
    try {
      f = parseErrorFields(buf, start + 5, end);
    } catch {
      return KEEP;
    }
    let replacement: ErrorFields | undefined = this.#denials.size > 0 ? this.#swapDenial(f) : undefined;
    if (replacement === undefined && x?.timedOut && f.code === '57014') {
      x.timedOut = false;
      replacement = { ...f, message: `canceling statement due to statement timeout (Portcullis policy rule "${x.limits!.rule}": ${x.limits!.timeoutMs} ms)` };
    }
    if (this.#masking) {
      const masked = this.#masking.maskError(replacement ?? f, x?.stmt);
      if (masked !== null) replacement = masked;
    }
    const shown = replacement ?? f;
    if (x !== undefined) {
      x.sink?.error(shown.code, shown.message);
      if (x.portal) x.portal.rows = 0;
      if (x.kind !== 'query') this.#finish(x);
    }
    if (replacement === undefined) return KEEP;
    this.#us.flushRun();
    this.#client.write(writeErrorResponse(this.#w, replacement).take());
    return TAKEN;
  }

  /** The stand-in's syntax error carries the token; the client gets the refusal instead. */
  #swapDenial(f: ErrorFields): ErrorFields | undefined {
    const at = f.message.indexOf(this.#token);
    if (at < 0) return undefined;
    let stop = at + this.#token.length;
    while (stop < f.message.length && f.message.charCodeAt(stop) >= 48 && f.message.charCodeAt(stop) <= 57) stop++;
    const token = f.message.slice(at, stop);
    const pending = this.#denials.get(token);
    if (!pending) return undefined;
    this.#denials.delete(token);
    if (this.#denials.size === 0 && !this.#track) this.#us.inspect[Be.ErrorResponse] = 0;
    return pending.fields;
  }

  /** A stand-in that PostgreSQL skipped (an earlier error in its batch) is never answered. */
  #forgetAnswered(): void {
    for (const [token, p] of this.#denials) if (p.sync <= this.#syncDone) this.#denials.delete(token);
    if (this.#denials.size === 0 && !this.#track) this.#us.inspect[Be.ErrorResponse] = 0;
  }

  // ---- endings ----------------------------------------------------------------------------

  #expire(): void {
    this.#expired = true;
    if (this.#syncSent === this.#syncDone && this.#us.atBoundary && !this.#cs.paused) {
      this.#endWithFatal(errorFields('ERR_TOKEN_EXPIRED', 'your token has expired; the session is closed', 'FATAL'), 'token-expired');
    }
  }

  #violation(reason: string): void {
    this.#log.info({ reason, session: this.#session.id }, 'client protocol violation');
    this.#endWithFatal(errorFields('ERR_PROTOCOL_VIOLATION', `protocol violation: ${reason}`, 'FATAL'), 'protocol-violation');
  }

  /**
   * Ends the session from inside the upstream scan, at the message being scanned: the run
   * before it goes out whole, so the client is at a message boundary for the FATAL, and
   * nothing from this message on reaches it.
   */
  #fatalAtUpstreamMessage(f: ErrorFields, reason: string): number {
    this.#us.flushRun();
    if (!this.#closed && !this.#client.destroyed) this.#client.end(writeErrorResponse(this.#w, f).take());
    this.#shutdown(reason);
    return TAKEN;
  }

  #endWithFatal(f: ErrorFields, reason: string): void {
    if (this.#closed) return;
    if (this.#us.atBoundary && !this.#client.destroyed) this.#client.end(writeErrorResponse(this.#w, f).take());
    else this.#client.destroy();
    this.#shutdown(reason);
  }

  #upstreamGone(): void {
    if (this.#closed) return;
    this.#log.warn({ connection: this.#session.connection, session: this.#session.id }, 'upstream connection lost');
    this.#endWithFatal(errorFields('ERR_UPSTREAM_LOST', `the connection to upstream "${this.#session.connection}" was lost`, 'FATAL'), 'upstream-lost');
  }

  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    for (const x of this.#execs) {
      if (x.timer) clearTimeout(x.timer);
      x.sink?.error('08006', `session ended before the statement completed (${reason})`);
    }
    this.#execs.length = 0;
    const up = this.#upSock;
    if (!up.destroyed) {
      if (reason === 'client-terminate') up.end();
      else up.destroy();
    }
    if (!this.#client.destroyed && reason !== 'protocol-violation' && reason !== 'token-expired' && reason !== 'upstream-lost') this.#client.end();
    this.#session.close(reason);
    this.#onClose(reason);
  }
}
