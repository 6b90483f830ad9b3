/**
 * Opens an authenticated PostgreSQL protocol 3.0 session to the upstream server: TCP, optional
 * TLS (SSLRequest, then a TLS handshake over the same socket), StartupMessage, authentication
 * (trust, cleartext, MD5, SCRAM-SHA-256) and the parameter/key exchange up to the first
 * ReadyForQuery. After that the socket belongs to the caller, who relays bytes: it is handed
 * over paused (so nothing is lost between owners) and the caller resumes it.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { WireOpenOptions, WireUpstream } from '../connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import type { Secret } from '../../config/secret.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { BodyReader, ProtocolError } from '../../codecs/pgwire/body-reader.js';
import { Be, Fe, StartupCode } from '../../codecs/pgwire/message-codes.js';
import { MessageFramer } from './framer.js';
import { md5PasswordResponse } from './md5.js';
import { SCRAM_SHA_256, ScramSha256Client } from './scram.js';
import type { UpstreamTlsMode } from './connection-url.js';

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: Secret;
  /** The connection's name in the config, so errors can say which field to fix. */
  readonly connection?: string;
}

export interface UpstreamTlsOptions {
  readonly mode: UpstreamTlsMode;
  /**
   * PEM CA bundle *contents* (not a file path: the connector reads the file, so this module
   * does no file I/O and tests can pass a string). System roots when absent.
   */
  readonly ca?: string | Buffer;
  /** Name to verify the certificate against (and send as SNI); defaults to the host. */
  readonly servername?: string;
}

export interface OpenUpstreamOptions extends WireOpenOptions {
  /** Covers TCP connect, TLS and authentication up to the first ReadyForQuery. */
  readonly connectTimeoutMs: number;
  readonly tls?: UpstreamTlsOptions;
}

/** Authentication request codes (the int32 after 'R'). */
const enum Auth {
  Ok = 0,
  KerberosV5 = 2,
  CleartextPassword = 3,
  MD5Password = 5,
  SCMCredential = 6,
  GSS = 7,
  GSSContinue = 8,
  SSPI = 9,
  SASL = 10,
  SASLContinue = 11,
  SASLFinal = 12,
}

const UNSUPPORTED_AUTH: Readonly<Record<number, string>> = {
  [Auth.KerberosV5]: 'Kerberos V5',
  [Auth.SCMCredential]: 'SCM credentials',
  [Auth.GSS]: 'GSSAPI',
  [Auth.GSSContinue]: 'GSSAPI',
  [Auth.SSPI]: 'SSPI',
};

/**
 * Startup parameters never forwarded from a client, whatever the caller passes: identity and
 * target are the gateway's decision (`user`, `database`), `replication` opens a different
 * protocol, `options`/`role`/`session_authorization` would change privileges or settings
 * behind SQL analysis, `application_name` is set by us, and `_pq_.*` are protocol extensions.
 */
const FORBIDDEN_PARAMS: ReadonlySet<string> = new Set(['user', 'database', 'replication', 'options', 'application_name', 'role', 'session_authorization']);

const SSL_YES = 0x53; // S
const SSL_NO = 0x4e; // N

const sslRequestPacket = new MessageWriter(8).begin(0).int32(StartupCode.SSLRequest).end().take();

/**
 * Connects and authenticates. Every failure rejects with PortcullisError
 * ERR_UPSTREAM_UNAVAILABLE naming host:port/database and the reason; messages never carry the
 * password.
 *
 * @example
 *   const up = await openUpstream(
 *     { host: 'db', port: 5432, user: 'app', database: 'shop', password },
 *     { applicationName: 'portcullis:alice', parameters: new Map(), connectTimeoutMs: 10_000,
 *       tls: { mode: 'verify-full', ca: pem } },
 *   );
 */
export async function openUpstream(target: UpstreamTarget, opts: OpenUpstreamOptions): Promise<WireUpstream> {
  const where = `${hostPort(target)}/${target.database}`;
  return withDeadline(target, where, opts.connectTimeoutMs, async (transport) => {
    const sock = await transport.open(opts.tls);
    const framer = new MessageFramer(sock);
    sock.write(startupPacket(target, opts));
    await authenticate(framer, sock, target, where);
    const { parameters, pid, secret } = await awaitReady(framer, target, where);
    const leftover = framer.detach();
    // Keeps a late socket error from becoming an uncaught exception in the gap before the
    // new owner attaches its own listener; the owner still sees every error.
    sock.on('error', noop);
    const tls = opts.tls;
    const timeout = opts.connectTimeoutMs;
    return {
      socket: sock as WireUpstream['socket'],
      parameters,
      backendPid: pid,
      backendSecret: secret,
      leftover,
      cancel: () => sendCancel(target, tls, timeout, pid, secret),
    };
  });
}

/**
 * CancelRequest goes over a new connection with the same TLS mode; the server closes it
 * without answering, so success means only that the request was delivered.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
export async function sendCancel(target: UpstreamTarget, tls: UpstreamTlsOptions | undefined, timeoutMs: number, pid: number, secret: number): Promise<void> {
  const where = hostPort(target);
  if (pid === 0 && secret === 0) {
    throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} sent no BackendKeyData, so its queries cannot be cancelled`);
  }
  await withDeadline(target, where, timeoutMs, async (transport) => {
    const sock = await transport.open(tls);
    const packet = new MessageWriter(16).begin(0).int32(StartupCode.CancelRequest).int32(pid).int32(secret).end().take();
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.once('close', () => resolve());
      sock.end(packet);
    });
  });
}

/** One connection attempt: the raw TCP socket and, once negotiated, the TLS socket over it. */
class Transport {
  raw: Socket | undefined;
  tls: TLSSocket | undefined;
  readonly #target: UpstreamTarget;

  constructor(target: UpstreamTarget) {
    this.#target = target;
  }

  async open(tls: UpstreamTlsOptions | undefined): Promise<Duplex> {
    const { host, port } = this.#target;
    const raw = netConnect({ host, port });
    this.raw = raw;
    await new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        raw.off('connect', ok);
        raw.off('error', fail);
        raw.off('close', closed);
      };
      const fail = (e: Error): void => {
        cleanup();
        reject(e);
      };
      const closed = (): void => fail(new Error('connection closed before it was established'));
      const ok = (): void => {
        cleanup();
        resolve();
      };
      raw.on('connect', ok);
      raw.on('error', fail);
      raw.on('close', closed);
    });
    raw.setNoDelay(true);
    raw.setKeepAlive(true, 60_000);
    const mode = tls?.mode ?? 'disable';
    if (mode === 'disable') return raw;

    raw.write(sslRequestPacket);
    const answer = await readSslAnswer(raw);
    if (answer === SSL_NO) {
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${hostPort(this.#target)} does not accept TLS, but the connection's tls mode is '${mode}'`);
    }
    if (answer !== SSL_YES) {
      // Per the protocol docs an error here comes from an unauthenticated peer: not shown.
      throw new ProtocolError(`unexpected answer 0x${answer.toString(16)} to SSLRequest`);
    }
    this.tls = await startTls(raw, this.#target, tls!);
    // The TLS socket reports failures of the connection under it; this keeps a duplicate
    // report on the raw socket from crashing the process.
    raw.on('error', noop);
    return this.tls;
  }

  destroy(): void {
    this.tls?.destroy();
    this.raw?.destroy();
  }
}

function readSslAnswer(raw: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      raw.off('data', onData);
      raw.off('error', onError);
      raw.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      cleanup();
      // Bytes after the single answer byte, before the TLS handshake, would be read as if
      // they came over TLS (CVE-2021-23222): refuse them.
      if (chunk.length !== 1) reject(new ProtocolError('server sent unexpected data in answer to SSLRequest'));
      else resolve(chunk[0]!);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('connection closed in answer to SSLRequest'));
    };
    raw.on('data', onData);
    raw.on('error', onError);
    raw.on('close', onClose);
  });
}

function startTls(raw: Socket, target: UpstreamTarget, tls: UpstreamTlsOptions): Promise<TLSSocket> {
  const name = tls.servername ?? target.host;
  const options: ConnectionOptions = {
    socket: raw,
    minVersion: 'TLSv1.2',
    // PostgreSQL 17+ checks ALPN when present; older servers ignore it.
    ALPNProtocols: ['postgresql'],
    // Node verifies against servername, else host. SNI must be a DNS name, so an IP goes
    // only in `host` (and is then matched against the certificate's IP SANs).
    host: name,
    ...(isIP(name) ? {} : { servername: name }),
  };
  if (tls.mode === 'require') {
    // Encrypted, unauthenticated: libpq's sslmode=require. Protects against passive
    // eavesdropping only.
    options.rejectUnauthorized = false;
  } else {
    options.rejectUnauthorized = true;
    if (tls.ca !== undefined) options.ca = tls.ca;
    // verify-ca: the chain must lead to the CA; any name is accepted.
    if (tls.mode === 'verify-ca') options.checkServerIdentity = () => undefined;
  }
  return new Promise((resolve, reject) => {
    const sock = tlsConnect(options);
    const onError = (e: Error): void => {
      sock.off('secureConnect', onSecure);
      reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `TLS to upstream ${hostPort(target)} failed (mode ${tls.mode}): ${e.message}`, { cause: e }));
    };
    const onSecure = (): void => {
      sock.off('error', onError);
      sock.off('close', onClose);
      resolve(sock);
    };
    const onClose = (): void => onError(new Error('connection closed during the TLS handshake'));
    sock.once('secureConnect', onSecure);
    sock.once('error', onError);
    sock.once('close', onClose);
  });
}

function startupPacket(target: UpstreamTarget, opts: WireOpenOptions): Buffer {
  const w = new MessageWriter(256);
  w.begin(0).int32(StartupCode.Protocol30);
  w.cstring('user').cstring(target.user);
  w.cstring('database').cstring(target.database);
  w.cstring('application_name').cstring(stripNul(opts.applicationName));
  for (const [key, value] of opts.parameters) {
    const k = key.toLowerCase();
    // An empty name would end the list early; NUL would split a field.
    if (key === '' || FORBIDDEN_PARAMS.has(k) || k.startsWith('_pq_.') || key.includes('\0') || value.includes('\0')) continue;
    w.cstring(key).cstring(value);
  }
  return w.int8(0).end().take();
}

async function authenticate(framer: MessageFramer, sock: Duplex, target: UpstreamTarget, where: string): Promise<void> {
  const w = new MessageWriter(256);
  let scram: ScramSha256Client | undefined;
  const password = (method: string): string => {
    const pw = target.password?.reveal();
    if (pw === undefined || pw === '') {
      const field = target.connection ? `connections.${target.connection}.password` : "the connection's password";
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} asks for a password (${method}) but none is configured: set ${field} or put it in the URL`);
    }
    return pw;
  };

  for (;;) {
    const msg = await framer.next();
    if (msg.code === Be.ErrorResponse) throw serverError(msg.body, target, where);
    if (msg.code === Be.NoticeResponse || msg.code === Be.NegotiateProtocolVersion) continue;
    if (msg.code !== Be.Authentication) throw new ProtocolError(`unexpected message '${String.fromCharCode(msg.code)}' during authentication`);
    const r = new BodyReader(msg.body);
    const kind = r.int32();
    switch (kind) {
      case Auth.Ok:
        // Accepting Ok mid-SCRAM would let a man in the middle skip proving it knows the
        // password verifier.
        if (scram && !scram.verified) throw new ProtocolError('server ended SCRAM authentication without proving its identity');
        return;
      case Auth.CleartextPassword:
        sock.write(w.begin(Fe.Password).cstring(password('cleartext')).end().take());
        break;
      case Auth.MD5Password: {
        const salt = r.bytes(4);
        sock.write(w.begin(Fe.Password).cstring(md5PasswordResponse(target.user, password('md5'), salt)).end().take());
        break;
      }
      case Auth.SASL: {
        if (scram) throw new ProtocolError('server restarted SASL authentication');
        const mechanisms: string[] = [];
        for (let m = r.cstring(); m !== ''; m = r.cstring()) mechanisms.push(m);
        // SCRAM-SHA-256-PLUS needs channel binding we do not implement; plain SCRAM only.
        if (!mechanisms.includes(SCRAM_SHA_256)) {
          throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} offers SASL mechanisms ${mechanisms.join(', ') || '(none)'}; only ${SCRAM_SHA_256} is supported`);
        }
        scram = new ScramSha256Client(password(SCRAM_SHA_256));
        const first = Buffer.from(scram.clientFirstMessage(), 'utf8');
        sock.write(w.begin(Fe.Password).cstring(SCRAM_SHA_256).int32(first.length).bytes(first).end().take());
        break;
      }
      case Auth.SASLContinue:
        if (!scram) throw new ProtocolError('SASLContinue without SASL');
        sock.write(w.begin(Fe.Password).bytes(Buffer.from(scram.serverFirst(r.rest().toString('utf8')), 'utf8')).end().take());
        break;
      case Auth.SASLFinal:
        if (!scram) throw new ProtocolError('SASLFinal without SASL');
        scram.serverFinal(r.rest().toString('utf8'));
        break;
      default: {
        const name = UNSUPPORTED_AUTH[kind] ?? `method ${kind}`;
        throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} requires ${name} authentication, which Portcullis does not support; use scram-sha-256, md5, password or trust in pg_hba.conf`);
      }
    }
  }
}

async function awaitReady(framer: MessageFramer, target: UpstreamTarget, where: string): Promise<{ parameters: Map<string, string>; pid: number; secret: number }> {
  const parameters = new Map<string, string>();
  let pid = 0;
  let secret = 0;
  for (;;) {
    const msg = await framer.next();
    const r = new BodyReader(msg.body);
    switch (msg.code) {
      case Be.ParameterStatus:
        parameters.set(r.cstring(), r.cstring());
        break;
      case Be.BackendKeyData:
        pid = r.int32();
        secret = r.int32();
        break;
      case Be.ReadyForQuery:
        return { parameters, pid, secret };
      case Be.ErrorResponse:
        throw serverError(msg.body, target, where);
      case Be.NoticeResponse:
      case Be.NegotiateProtocolVersion:
        break;
      default:
        throw new ProtocolError(`unexpected message '${String.fromCharCode(msg.code)}' before ReadyForQuery`);
    }
  }
}

/** An ErrorResponse from the server, as the operator should read it: its message and SQLSTATE. */
function serverError(body: Buffer, target: UpstreamTarget, where: string): PortcullisError {
  const fields = new Map<string, string>();
  const r = new BodyReader(body);
  try {
    for (let t = r.int8(); t !== 0; t = r.int8()) fields.set(String.fromCharCode(t), r.cstring());
  } catch {
    // A truncated error still tells us something; use what was read.
  }
  const text = redactPassword(fields.get('M') ?? 'no message', target.password);
  const code = fields.get('C') ?? '?????';
  return new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} refused the connection: ${text} (SQLSTATE ${code})`);
}

/** Servers do not echo passwords, but a hostile or buggy one might: never pass it on. */
function redactPassword(text: string, password: Secret | undefined): string {
  const pw = password?.reveal();
  return pw && pw.length >= 3 ? text.split(pw).join('***') : text;
}

/**
 * Runs one connection attempt under a deadline. Whatever goes wrong (refused, reset, TLS,
 * protocol, timeout) comes out as ERR_UPSTREAM_UNAVAILABLE and the sockets are destroyed.
 */
async function withDeadline<T>(target: UpstreamTarget, where: string, ms: number, work: (t: Transport) => Promise<T>): Promise<T> {
  const transport = new Transport(target);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} did not complete the connection within ${ms} ms`));
      transport.destroy();
    }, ms);
  });
  const attempt = work(transport);
  try {
    return await Promise.race([attempt, timeout]);
  } catch (e) {
    transport.destroy();
    if (e instanceof PortcullisError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `upstream ${where} is unavailable: ${redactPassword(reason, target.password)}`, { cause: e });
  } finally {
    clearTimeout(timer);
    attempt.catch(noop);
  }
}

function hostPort(t: UpstreamTarget): string {
  return isIP(t.host) === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

function stripNul(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, '') : s;
}

function noop(): void {}
