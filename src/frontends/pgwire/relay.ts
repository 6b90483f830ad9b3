import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { MessageScanner, KEEP, TAKEN, PAUSE, type ScanSink } from '../../codecs/pgwire/message-scanner.js';
import { Be, Fe, KNOWN_FRONTEND_CODES } from '../../codecs/pgwire/message-codes.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { parseErrorFields, type ErrorFields } from '../../codecs/pgwire/error-fields.js';
import { parseParse, parseQuery, parseTarget } from '../../codecs/pgwire/frontend-messages.js';
import { BodyReader } from '../../codecs/pgwire/body-reader.js';
import { writeErrorResponse, writeNoticeResponse } from '../../codecs/pgwire/backend-messages.js';
import { writeParse, writeQuery, TERMINATE } from '../../codecs/pgwire/frontend-builders.js';
import type { WireUpstream } from '../../connectors/connector.js';
import type { PipelineSession } from '../../pipeline/pipeline.js';
import type { Verdict } from '../../pipeline/decision.js';
import { denialFields, errorFields } from './wire-errors.js';
import type { Cancellable } from './cancel-keys.js';
import { limitsOf, stricter, truncatedTag, type LimitWindow, type Limits } from './statement-limits.js';

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
 */
export interface RelayOptions {
  client: Socket;
  upstream: WireUpstream;
  session: PipelineSession;
  maxMessageBytes: number;
  logger: Logger;
  onClose: (reason: string) => void;
}

const DENIAL_PREFIX = 'portcullis_denied_';

interface PendingDenial {
  fields: ErrorFields;
  /** The ReadyForQuery count after which this denial can no longer be answered. */
  sync: number;
}

export class PgRelay implements Cancellable {
  readonly #client: Socket;
  readonly #up: WireUpstream;
  readonly #session: PipelineSession;
  readonly #log: Logger;
  readonly #onClose: (reason: string) => void;
  readonly #cs: MessageScanner;
  readonly #us: MessageScanner;
  readonly #w = new MessageWriter(256);
  readonly #reader = new BodyReader(Buffer.alloc(0));
  readonly #token = DENIAL_PREFIX + randomBytes(6).toString('hex') + '_';
  #seq = 0;
  readonly #denials = new Map<string, PendingDenial>();
  #syncSent = 0;
  #syncDone = 0;
  #closed = false;
  #expiryTimer: NodeJS.Timeout | undefined;
  #expired = false;
  #clientThrottled = false;
  #upThrottled = false;
  /** max_rows / timeout: by prepared statement, by portal, and per pending sync point. */
  readonly #stmtLimits = new Map<string, Limits>();
  readonly #portalLimits = new Map<string, Limits>();
  readonly #windows: LimitWindow[] = [];
  #rows = 0;
  #truncated = false;

  constructor(o: RelayOptions) {
    this.#client = o.client;
    this.#up = o.upstream;
    this.#session = o.session;
    this.#log = o.logger;
    this.#onClose = o.onClose;

    const upSock = this.#up.socket as Socket;
    const client = this.#client;

    this.#cs = new MessageScanner(this.#clientSink(upSock), o.maxMessageBytes);
    for (let c = 0; c < 256; c++) if (!KNOWN_FRONTEND_CODES.has(c)) this.#cs.inspect[c] = 1;
    for (const c of [Fe.Query, Fe.Parse, Fe.Sync, Fe.Close, Fe.FunctionCall, Fe.Terminate, Fe.Password]) this.#cs.inspect[c] = 1;

    this.#us = new MessageScanner(this.#upstreamSink(client));
    this.#us.inspect[Be.ReadyForQuery] = 1;

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
    this.#up.cancel().catch((e: unknown) => this.#log.warn({ err: (e as Error).message }, 'cancel request failed'));
  }

  // ---- client → upstream ----------------------------------------------------------------

  #clientSink(up: Socket): ScanSink {
    return {
      pass: (buf, start, end) => {
        up.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      },
      message: (code, buf, start, end) => {
        switch (code) {
          case Fe.Query:
            return this.#onStatement(buf, start, end, true);
          case Fe.Parse:
            return this.#onStatement(buf, start, end, false);
          case Fe.Sync:
            this.#syncSent++;
            return KEEP;
          case Fe.Close:
            return this.#onCloseMessage(buf, start, end);
          case Fe.Bind:
            return this.#onBind(buf, start, end);
          case Fe.Execute:
            return this.#onExecute(buf, start, end);
          case Fe.FunctionCall:
            // The fastpath interface calls a function by OID with no SQL to analyze.
            this.#cs.flushRun();
            this.#refuse(true, errorFields('ERR_FUNCTION_CALL_REFUSED', 'the FunctionCall protocol message is not allowed through Portcullis; call the function from SQL instead'));
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
      },
      violation: (reason) => this.#violation(reason),
    };
  }

  #onCloseMessage(buf: Buffer, start: number, end: number): number {
    try {
      const t = parseTarget(buf, start, end);
      if (t.kind === 0x53) {
        if (t.name !== '') this.#session.forgetPrepared(t.name);
        this.#stmtLimits.delete(t.name);
      } else this.#portalLimits.delete(t.name);
    } catch (e) {
      this.#violation((e as Error).message);
      return TAKEN;
    }
    return KEEP;
  }

  #onStatement(buf: Buffer, start: number, end: number, simple: boolean): number {
    let sql: string;
    let name = '';
    try {
      if (simple) sql = parseQuery(buf, start, end);
      else {
        const p = parseParse(buf, start, end);
        sql = p.sql;
        name = p.name;
      }
    } catch (e) {
      this.#violation((e as Error).message);
      return TAKEN;
    }
    let verdict: Verdict | Promise<Verdict>;
    try {
      verdict = this.#session.admit(sql);
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'pipeline failed; refusing the statement');
      verdict = { decision: { action: 'deny', rule: 'internal', code: 'ERR_ANALYSIS_FAILED', reason: 'the gateway could not evaluate this statement' }, analysis: UNKNOWN_ANALYSIS };
    }
    if (!(verdict instanceof Promise)) return this.#apply(verdict, buf, start, end, simple, name, false);

    // Held (approval, or an asynchronous stage): stop reading the client until it resolves.
    this.#cs.flushRun();
    this.#client.pause();
    const frame = Buffer.from(buf.subarray(start, end));
    verdict.then(
      (v) => this.#resumeWith(v, frame, simple, name),
      (e: unknown) => {
        this.#log.error({ err: (e as Error).message }, 'pipeline failed; refusing the statement');
        this.#resumeWith({ decision: { action: 'deny', rule: 'internal', code: 'ERR_ANALYSIS_FAILED', reason: 'the gateway could not evaluate this statement' }, analysis: UNKNOWN_ANALYSIS }, frame, simple, name);
      },
    );
    return PAUSE;
  }

  #resumeWith(v: Verdict, frame: Buffer, simple: boolean, name: string): void {
    if (this.#closed) return;
    const up = this.#up.socket as Socket;
    up.cork();
    this.#apply(v, frame, 0, frame.length, simple, name, true);
    up.uncork();
    this.#cs.resume();
    if (!this.#clientThrottled && !this.#cs.paused && !this.#closed) this.#client.resume();
  }

  /** Applies a verdict to a Query/Parse frame. `detached`: the frame is no longer in a scanner run. */
  #apply(v: Verdict, buf: Buffer, start: number, end: number, simple: boolean, name: string, detached: boolean): number {
    const d = v.decision;
    if (d.action === 'allow') {
      const limits = limitsOf(d);
      if (simple) {
        this.#syncSent++;
        if (limits) this.#openWindow(this.#syncSent, limits);
      } else {
        if (name !== '') this.#session.rememberPrepared(name, v.analysis);
        if (limits) {
          this.#stmtLimits.set(name, limits);
          this.#cs.inspect[Fe.Bind] = 1;
        } else this.#stmtLimits.delete(name);
      }
      if (detached) (this.#up.socket as Socket).write(buf.subarray(start, end));
      return KEEP;
    }
    if (!detached) this.#cs.flushRun();
    const fields = d.action === 'deny' ? denialFields(d) : errorFields('ERR_APPROVAL_REQUIRED', `requires approval: ${d.reason}`);
    this.#refuse(simple, fields, name);
    return TAKEN;
  }

  /** Bind: a portal inherits its statement's limits. Inspected only once a statement has some. */
  #onBind(buf: Buffer, start: number, end: number): number {
    try {
      const r = this.#reader.reset(buf, start + 5, end);
      const portal = r.cstring();
      const limits = this.#stmtLimits.get(r.cstring());
      if (limits) {
        this.#portalLimits.set(portal, limits);
        this.#cs.inspect[Fe.Execute] = 1;
      } else this.#portalLimits.delete(portal);
    } catch (e) {
      this.#violation((e as Error).message);
      return TAKEN;
    }
    return KEEP;
  }

  #onExecute(buf: Buffer, start: number, end: number): number {
    try {
      const limits = this.#portalLimits.get(this.#reader.reset(buf, start + 5, end).cstring());
      if (limits) this.#openWindow(this.#syncSent + 1, limits);
    } catch (e) {
      this.#violation((e as Error).message);
      return TAKEN;
    }
    return KEEP;
  }

  /**
   * Limits apply to the responses up to the given sync point. The timeout is enforced by the
   * gateway: when it passes with the sync point unanswered, the upstream query is cancelled
   * and the resulting 57014 error names the rule.
   */
  #openWindow(sync: number, limits: Limits): void {
    const last = this.#windows.at(-1);
    if (last && last.sync === sync) {
      last.limits = stricter(last.limits, limits);
      return;
    }
    const w: LimitWindow = { sync, limits, timer: undefined, timedOut: false };
    if (limits.timeoutMs !== undefined) {
      w.timer = setTimeout(() => {
        if (this.#syncDone >= sync || this.#closed) return;
        w.timedOut = true;
        this.#us.inspect[Be.ErrorResponse] = 1;
        this.cancelUpstream();
      }, limits.timeoutMs);
      w.timer.unref();
    }
    this.#windows.push(w);
    const u = this.#us.inspect;
    u[Be.DataRow] = u[Be.CommandComplete] = u[Be.ErrorResponse] = u[Be.EmptyQueryResponse] = 1;
  }

  /** The window governing the responses arriving now, if any. */
  #activeWindow(): LimitWindow | undefined {
    const w = this.#windows[0];
    return w !== undefined && w.sync === this.#syncDone + 1 ? w : undefined;
  }

  #closeWindows(): void {
    while (this.#windows.length > 0 && this.#windows[0]!.sync <= this.#syncDone) {
      const w = this.#windows.shift()!;
      if (w.timer) clearTimeout(w.timer);
    }
    if (this.#windows.length === 0) {
      const u = this.#us.inspect;
      u[Be.DataRow] = u[Be.CommandComplete] = u[Be.EmptyQueryResponse] = 0;
      u[Be.ErrorResponse] = this.#denials.size > 0 ? 1 : 0;
      this.#rows = 0;
      this.#truncated = false;
    }
  }

  /** DataRow / CommandComplete under a max_rows window. */
  #limitRow(code: number, buf: Buffer, start: number, end: number): number {
    const w = this.#activeWindow();
    const max = w?.limits.maxRows;
    if (code === Be.DataRow) {
      if (max === undefined) return KEEP;
      if (++this.#rows <= max) return KEEP;
      this.#truncated = true;
      this.#us.flushRun();
      return TAKEN;
    }
    // CommandComplete or EmptyQueryResponse: one result set ends.
    const truncated = this.#truncated;
    const rows = this.#rows;
    this.#rows = 0;
    this.#truncated = false;
    if (!truncated || code !== Be.CommandComplete || !w) return KEEP;
    let tag: string;
    try {
      tag = this.#reader.reset(buf, start + 5, end).cstring();
    } catch {
      return KEEP;
    }
    this.#us.flushRun();
    const shown = Math.min(rows, w.limits.maxRows ?? rows);
    writeNoticeResponse(this.#w, {
      severity: 'NOTICE',
      code: '01000',
      message: `result truncated to ${shown} rows by Portcullis policy rule "${w.limits.rule}" (max_rows)`,
    });
    this.#w.begin(Be.CommandComplete).cstring(truncatedTag(tag, shown)).end();
    this.#client.write(this.#w.take());
    return TAKEN;
  }

  /** Sends the certain-to-fail stand-in upstream and remembers which error to swap. */
  #refuse(simple: boolean, fields: ErrorFields, name = ''): void {
    const token = this.#token + String(++this.#seq);
    if (simple) {
      this.#syncSent++;
      this.#denials.set(token, { fields, sync: this.#syncSent });
      writeQuery(this.#w, token);
    } else {
      this.#denials.set(token, { fields, sync: this.#syncSent + 1 });
      writeParse(this.#w, name, token);
    }
    this.#us.inspect[Be.ErrorResponse] = 1;
    (this.#up.socket as Socket).write(this.#w.take());
  }

  // ---- upstream → client ----------------------------------------------------------------

  #upstreamSink(client: Socket): ScanSink {
    return {
      pass: (buf, start, end) => {
        client.write(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
      },
      message: (code, buf, start, end) => {
        if (code === Be.ReadyForQuery) {
          this.#syncDone++;
          if (this.#denials.size > 0) this.#forgetAnswered();
          if (this.#windows.length > 0) this.#closeWindows();
          if (this.#expired) {
            this.#us.flushRun();
            client.write(buf.subarray(start, end));
            this.#endWithFatal(errorFields('ERR_TOKEN_EXPIRED', 'your token has expired; the session is closed', 'FATAL'), 'token-expired');
            return TAKEN;
          }
          return KEEP;
        }
        if (code === Be.ErrorResponse) {
          this.#rows = 0;
          this.#truncated = false;
          if (this.#denials.size > 0) {
            const r = this.#maybeSwapError(buf, start, end);
            if (r !== KEEP) return r;
          }
          const w = this.#activeWindow();
          if (w?.timedOut) return this.#swapTimeoutError(w, buf, start, end);
          return KEEP;
        }
        return this.#limitRow(code, buf, start, end);
      },
      violation: (reason) => {
        this.#log.error({ reason, connection: this.#session.connection }, 'upstream sent invalid protocol');
        this.#endWithFatal(errorFields('ERR_UPSTREAM_LOST', 'the upstream database sent invalid protocol data', 'FATAL'), 'upstream-protocol');
      },
    };
  }

  #maybeSwapError(buf: Buffer, start: number, end: number): number {
    let f: ErrorFields;
    try {
      f = parseErrorFields(buf, start + 5, end);
    } catch {
      return KEEP;
    }
    const at = f.message.indexOf(this.#token);
    if (at < 0) return KEEP;
    let stop = at + this.#token.length;
    while (stop < f.message.length && f.message.charCodeAt(stop) >= 48 && f.message.charCodeAt(stop) <= 57) stop++;
    const token = f.message.slice(at, stop);
    const pending = this.#denials.get(token);
    if (!pending) return KEEP;
    this.#denials.delete(token);
    if (this.#denials.size === 0 && this.#windows.length === 0) this.#us.inspect[Be.ErrorResponse] = 0;
    this.#us.flushRun();
    this.#client.write(writeErrorResponse(this.#w, pending.fields).take());
    return TAKEN;
  }

  /** The cancel the gateway sent at a rule's timeout comes back as 57014; say which rule. */
  #swapTimeoutError(w: LimitWindow, buf: Buffer, start: number, end: number): number {
    let f: ErrorFields;
    try {
      f = parseErrorFields(buf, start + 5, end);
    } catch {
      return KEEP;
    }
    if (f.code !== '57014') return KEEP;
    w.timedOut = false;
    this.#us.flushRun();
    f.message = `canceling statement due to statement timeout (Portcullis policy rule "${w.limits.rule}": ${w.limits.timeoutMs} ms)`;
    this.#client.write(writeErrorResponse(this.#w, f).take());
    return TAKEN;
  }

  /** A stand-in that PostgreSQL skipped (an earlier error in its batch) is never answered. */
  #forgetAnswered(): void {
    for (const [token, p] of this.#denials) if (p.sync <= this.#syncDone) this.#denials.delete(token);
    if (this.#denials.size === 0 && this.#windows.length === 0) this.#us.inspect[Be.ErrorResponse] = 0;
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
    for (const w of this.#windows) if (w.timer) clearTimeout(w.timer);
    const up = this.#up.socket as Socket;
    if (!up.destroyed) {
      if (reason === 'client-terminate') up.end();
      else up.destroy();
    }
    if (!this.#client.destroyed && reason !== 'protocol-violation' && reason !== 'token-expired' && reason !== 'upstream-lost') this.#client.end();
    this.#session.close(reason);
    this.#onClose(reason);
  }
}

const UNKNOWN_ANALYSIS = { statements: [], kind: 'unknown', risks: ['unparseable'], reads: [], writes: [], functions: [] } as const;
