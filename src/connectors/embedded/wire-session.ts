import type { Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { Be, Fe } from '../../codecs/pgwire/message-codes.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import {
  AUTH_OK,
  SSL_REFUSE,
  writeBackendKeyData,
  writeErrorResponse,
  writeNegotiateProtocolVersion,
  writeParameterStatus,
  writeReadyForQuery,
} from '../../codecs/pgwire/backend-messages.js';
import { parseStartupPacket, startupPacketLength } from '../../codecs/pgwire/startup.js';
import { ScopedNames } from './scoped-names.js';
import type { GateHolder, SessionGate } from './session-gate.js';

/** PostgreSQL's own cap on a protocol message (PQ_LARGE_MESSAGE_LIMIT). */
const MAX_MESSAGE = 0x3fff_ffff;
const READY_IDLE = 0x49; // I
/**
 * PGlite aborts its whole WebAssembly instance (exit(1)) when COPY FROM STDIN asks it for input
 * that is not already in the batch, and a client only sends the data after CopyInResponse.
 * Such statements are therefore replaced before they reach the backend by one that fails
 * with SQLSTATE 0A000; the backend then applies the usual error semantics (transaction aborted,
 * extended-query messages skipped until Sync). Matching is deliberately broad: a false
 * positive is a refused statement, a false negative would take the database down.
 */
const COPY_FROM_STDIN = /\bcopy\b[\s\S]*\bstdin\b/i;
const REFUSE_COPY_IN =
  "DO $portcullis$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = 'COPY FROM STDIN is not supported by the embedded database'; END$portcullis$";

/** The only database and role a PGlite instance has. */
export const EMBEDDED_DATABASE = 'postgres';
export const EMBEDDED_ROLE = 'postgres';

export interface WireSessionContext {
  readonly db: PGlite;
  readonly gate: SessionGate;
  /** ParameterStatus values PGlite reports at startup, replayed to every client. */
  readonly parameters: ReadonlyMap<string, string>;
  /** How long a session may keep the backend while idle and others wait; 0 waits forever. */
  readonly idleHolderTimeoutMs: number;
}

/**
 * Follows the backend's output across arbitrary chunk boundaries just far enough to know the
 * last message type and the last ReadyForQuery status.
 */
class BackendTracker {
  lastType: number = Be.ReadyForQuery;
  lastStatus: number = READY_IDLE;
  readonly #header = Buffer.alloc(5);
  #headerLen = 0;
  #remaining = 0;
  #wantStatus = false;

  get idle(): boolean {
    return this.lastType === Be.ReadyForQuery && this.lastStatus === READY_IDLE && this.#remaining === 0 && this.#headerLen === 0;
  }

  feed(b: Uint8Array): void {
    let i = 0;
    while (i < b.length) {
      if (this.#remaining > 0) {
        if (this.#wantStatus) {
          this.lastStatus = b[i] as number;
          this.#wantStatus = false;
        }
        const n = Math.min(this.#remaining, b.length - i);
        i += n;
        this.#remaining -= n;
        continue;
      }
      this.#header[this.#headerLen++] = b[i++] as number;
      if (this.#headerLen === 5) {
        this.#headerLen = 0;
        this.lastType = this.#header[0] as number;
        this.#remaining = this.#header.readInt32BE(1) - 4;
        this.#wantStatus = this.lastType === Be.ReadyForQuery && this.#remaining > 0;
      }
    }
  }
}

/**
 * One client connection to the embedded server, speaking protocol 3.0 on the client side and
 * feeding PGlite's single backend through the shared {@link SessionGate}.
 *
 * The startup phase is answered here rather than by PGlite: PGlite would apply each client's
 * startup parameters to the one backend every session shares. Clients get the ParameterStatus
 * set PGlite reported once at boot, a BackendKeyData with this session's own key, and
 * ReadyForQuery. No authentication is performed (the server listens on loopback only).
 */
export class EmbeddedWireSession implements GateHolder {
  readonly pid: number;
  readonly secret: number;
  /** Resolves when the socket is gone and the session's backend state is cleaned up. */
  readonly closed: Promise<void>;

  readonly #socket: Socket;
  readonly #ctx: WireSessionContext;
  readonly #names: ScopedNames;
  readonly #tracker = new BackendTracker();
  #phase: 'startup' | 'ready' | 'closed' = 'startup';
  #inbuf: Buffer = Buffer.alloc(0);
  #pending: Buffer[] = [];
  /** True between an extended-query message and its Sync: the backend holds per-batch state. */
  #inExtended = false;
  #terminating = false;
  #pumping = false;
  #cleaning = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #resolveClosed!: () => void;

  constructor(socket: Socket, ctx: WireSessionContext, pid: number, secret: number) {
    this.#socket = socket;
    this.#ctx = ctx;
    this.pid = pid;
    this.secret = secret;
    this.#names = new ScopedNames(`pc${pid}_`);
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Drops the connection; any open transaction is rolled back before the gate is released. */
  close(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#disarmIdle();
    this.#socket.destroy();
    if (!this.#pumping) void this.#cleanup();
  }

  onContended(): void {
    if (!this.#pumping) this.#armIdle();
  }

  #onData(chunk: Buffer): void {
    if (this.#phase === 'closed' || this.#terminating) return;
    this.#inbuf = this.#inbuf.length === 0 ? chunk : Buffer.concat([this.#inbuf, chunk]);
    try {
      if (this.#phase === 'startup') this.#startup();
      if (this.#phase === 'ready') this.#frame();
    } catch (err) {
      this.#fatal('08P01', err instanceof Error ? err.message : 'invalid protocol message');
      return;
    }
    void this.#pump();
  }

  // https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
  #startup(): void {
    for (;;) {
      const len = startupPacketLength(this.#inbuf);
      if (len === 0) return;
      const packet = parseStartupPacket(this.#inbuf, len);
      this.#inbuf = this.#inbuf.subarray(len);
      switch (packet.type) {
        case 'ssl':
        case 'gssenc':
          this.#socket.write(SSL_REFUSE);
          continue;
        case 'cancel':
          // A cancel cannot interrupt PGlite: a running statement blocks the event loop until
          // it finishes, so this connection could not even be read before then.
          this.close();
          return;
        case 'startup':
          this.#greet(packet.major, packet.minor, packet.params);
          return;
      }
    }
  }

  #greet(major: number, minor: number, params: Map<string, string>): void {
    if (major !== 3) {
      this.#fatal('0A000', `unsupported frontend protocol ${major}.${minor}: server supports 3.0`);
      return;
    }
    const user = params.get('user') ?? '';
    const database = params.get('database') || user;
    if (user !== EMBEDDED_ROLE) {
      this.#fatal('28000', `role "${user}" is not available: the embedded database has only the role "${EMBEDDED_ROLE}"`);
      return;
    }
    if (database !== EMBEDDED_DATABASE) {
      this.#fatal('3D000', `database "${database}" does not exist: the embedded database is "${EMBEDDED_DATABASE}"`);
      return;
    }
    const w = new MessageWriter(1024);
    const unsupported = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unsupported.length > 0) writeNegotiateProtocolVersion(w, 0, unsupported);
    w.bytes(AUTH_OK);
    const appName = params.get('application_name');
    for (const [name, value] of this.#ctx.parameters) {
      writeParameterStatus(w, name, name === 'application_name' && appName !== undefined ? appName : value);
    }
    writeBackendKeyData(w, this.pid, this.secret);
    writeReadyForQuery(w, READY_IDLE);
    this.#socket.write(w.take());
    this.#phase = 'ready';
  }

  /** Splits buffered bytes into complete messages and queues them (names scoped) for the backend. */
  #frame(): void {
    let buf = this.#inbuf;
    while (buf.length >= 5) {
      const len = buf.readInt32BE(1);
      if (len < 4 || len > MAX_MESSAGE) throw new RangeError(`invalid message length ${len}`);
      if (buf.length < len + 1) break;
      let msg = buf.subarray(0, len + 1);
      buf = buf.subarray(len + 1);
      const type = msg[0] as number;
      if (type === Fe.Terminate) {
        this.#terminating = true;
        buf = Buffer.alloc(0);
        break;
      }
      if (type === Fe.Query || type === Fe.Parse) msg = refuseCopyIn(msg);
      if (type === Fe.Sync) this.#inExtended = false;
      else if (type === Fe.Parse || type === Fe.Bind || type === Fe.Describe || type === Fe.Execute || type === Fe.Close) this.#inExtended = true;
      this.#pending.push(this.#names.rewrite(msg));
    }
    this.#inbuf = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  /** Runs queued messages on the backend, holding the gate until the backend is idle again. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    this.#disarmIdle();
    try {
      while (this.#pending.length > 0 && !this.#isClosed()) {
        await this.#ctx.gate.acquire(this);
        if (this.#isClosed()) break;
        const batch = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
        this.#pending = [];
        await this.#execute(batch, (out) => {
          if (this.#phase !== 'closed') this.#socket.write(out);
        });
        if (this.#tracker.idle && !this.#inExtended && this.#pending.length === 0) this.#ctx.gate.release(this);
      }
    } catch (err) {
      this.#fatal('XX000', `embedded database failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.#pumping = false;
    }
    if (this.#isClosed()) {
      await this.#cleanup();
      return;
    }
    if (this.#terminating && this.#pending.length === 0) {
      this.close();
      return;
    }
    if (this.#ctx.gate.holder === this && this.#ctx.gate.waiting > 0) this.#armIdle();
  }

  async #execute(batch: Buffer, sink: (out: Buffer) => void): Promise<void> {
    await this.#ctx.db.execProtocolRawStream(new Uint8Array(batch.buffer, batch.byteOffset, batch.length), {
      onRawData: (data: Uint8Array) => {
        // The chunk is a view into PGlite's receive buffer, which the next message reuses.
        const out = Buffer.from(data);
        this.#tracker.feed(out);
        sink(out);
      },
    });
  }

  /**
   * Leaves the shared backend as if this session had never been there: ends a COPY or an
   * unfinished extended-query batch, rolls back an open transaction, and deallocates the
   * session's named statements. Other sessions never see this session's transaction state.
   */
  async #cleanup(): Promise<void> {
    if (this.#cleaning) return;
    this.#cleaning = true;
    const gate = this.#ctx.gate;
    const dirty = gate.holder === this || this.#names.statements.size > 0 || !this.#tracker.idle || this.#inExtended;
    try {
      if (!dirty) {
        gate.release(this);
        return;
      }
      await gate.acquire(this);
      const discard = () => {};
      const w = new MessageWriter(256);
      if (this.#tracker.lastType === Be.CopyInResponse) w.begin(Fe.CopyFail).cstring('client disconnected').end();
      if (!this.#tracker.idle || this.#inExtended) w.begin(Fe.Sync).end();
      if (w.pending > 0) await this.#execute(w.take(), discard);
      if (this.#ctx.db.isInTransaction()) w.begin(Fe.Query).cstring('ROLLBACK').end();
      for (const name of this.#names.statements) w.begin(Fe.Close).int8(0x53).cstring(this.#names.scoped(name)).end();
      if (w.pending > 0) {
        w.begin(Fe.Sync).end();
        await this.#execute(w.take(), discard);
      }
      this.#names.statements.clear();
    } catch {
      // The backend is unusable if even clean-up fails; the next session will report it.
    } finally {
      gate.release(this);
      this.#resolveClosed();
    }
  }

  // A method rather than a field test: TypeScript would narrow #phase across the awaits above.
  #isClosed(): boolean {
    return this.#phase === 'closed';
  }

  #armIdle(): void {
    const ms = this.#ctx.idleHolderTimeoutMs;
    if (ms <= 0 || this.#idleTimer !== undefined || this.#phase === 'closed') return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#ctx.gate.holder !== this || this.#pumping) return;
      // Same SQLSTATE as PostgreSQL's idle_in_transaction_session_timeout.
      this.#fatal('25P03', `terminating connection: it kept the embedded database busy for ${ms} ms without sending anything while other sessions waited`);
    }, ms);
    this.#idleTimer.unref();
  }

  #disarmIdle(): void {
    if (this.#idleTimer === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #fatal(code: string, message: string): void {
    if (this.#phase === 'closed') return;
    const w = new MessageWriter(256);
    writeErrorResponse(w, { severity: 'FATAL', code, message });
    this.#socket.end(w.take());
    this.#phase = 'closed';
    this.#disarmIdle();
    // Let the error reach the client before the socket is torn down.
    this.#socket.once('finish', () => this.#socket.destroy());
    if (!this.#pumping) void this.#cleanup();
  }
}

/** Replaces the SQL of a Query or Parse message that could start COPY FROM STDIN. */
function refuseCopyIn(msg: Buffer): Buffer {
  const textStart = msg[0] === Fe.Query ? 5 : msg.indexOf(0, 5) + 1;
  const textEnd = msg.indexOf(0, textStart);
  if (textStart <= 0 || textEnd < 0 || !COPY_FROM_STDIN.test(msg.toString('utf8', textStart, textEnd))) return msg;
  const out = Buffer.concat([msg.subarray(0, textStart), Buffer.from(REFUSE_COPY_IN, 'utf8'), msg.subarray(textEnd)]);
  out.writeInt32BE(out.length - 1, 1);
  return out;
}
