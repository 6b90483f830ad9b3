import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { parseSnowflakeToken } from '../../codecs/snowflake/auth-header.js';
import { AbortRequestSchema, LoginRequestSchema, QueryRequestSchema, TokenRequestSchema, okEnvelope, type SnowflakeParameter } from '../../codecs/snowflake/messages.js';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import { HttpListener } from '../../util/http-listener.js';
import { handleLogin, handleTokenRequest } from './login.js';
import { handleAbort, handleMonitoring, handleQueryRequest, handleResultRequest, sendEnvelope, type QueryDeps } from './query-api.js';
import type { QueryRegistryLimits } from './query-registry.js';
import { readBody } from './read-body.js';
import { SnowflakeSessions, type SessionLimits, type SnowflakeSession } from './sessions.js';
import type { ListenerBase } from '../listener-base.js';
import { SqlApi, sendFailure } from './sql-api.js';
import { driverFailureBody, failureOf } from './wire-errors.js';

export interface SnowflakeFrontendOptions extends Omit<ListenerBase, 'tls'> {
  readonly tls?: ListenerBase['tls'];
  /** Masks values a database quoted into an error message (the masking engine's detectors). */
  readonly maskText?: ((s: string, sql?: string) => string) | undefined;
  /** Largest request body, compressed or inflated, in bytes. */
  readonly bodyLimit?: number | undefined;
  /** Time a client has to send a whole request (slow senders are cut off). */
  readonly requestTimeoutMs?: number | undefined;
  readonly headersTimeoutMs?: number | undefined;
  /** How long a request waits for a statement before answering 333334 and letting the client poll. */
  readonly syncWaitMs?: number | undefined;
  /** Rows one statement returns at most (policy's max_rows may lower it). */
  readonly maxRows?: number | undefined;
  /** Encoded result bytes a query keeps before its first fetch. */
  readonly bufferBytes?: number | undefined;
  readonly sessions?: Partial<Omit<SessionLimits, 'queries'>> | undefined;
  readonly queries?: Partial<QueryRegistryLimits> | undefined;
}

const DEFAULTS = {
  bodyLimit: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  syncWaitMs: 3_000,
  maxRows: 10_000_000,
  bufferBytes: 1024 * 1024,
  sessionValidityMs: 60 * 60_000,
  masterValidityMs: 4 * 60 * 60_000,
  idleMs: 60 * 60_000,
  maxQueries: 64,
  queryTtlMs: 10 * 60_000,
  maxRetainedBytes: 16 * 1024 * 1024,
} as const;

/** What every login and query response reports as session parameters. */
const PARAMETERS: readonly SnowflakeParameter[] = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
  { name: 'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', value: 3600 },
  { name: 'QUERY_CONTEXT_CACHE_SIZE', value: 5 },
  { name: 'CLIENT_RESULT_CHUNK_SIZE', value: 160 },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
];

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const QUERY_RESULT = new RegExp(`^/queries/(${UUID})/result$`);
const QUERY_ABORT = new RegExp(`^/queries/(${UUID})/abort-request$`);
const MONITORING = new RegExp(`^/monitoring/queries/(${UUID})$`);
const STATEMENT = new RegExp(`^/api/v2/statements/(${UUID})$`);
const STATEMENT_CANCEL = new RegExp(`^/api/v2/statements/(${UUID})/cancel$`);
const ANY = z.unknown();

/**
 * The Snowflake frontend: the driver REST protocol (what snowflake-sdk, the Python connector,
 * JDBC and SnowSQL speak, with JSON results) and the SQL API v2, on one HTTP(S) listener.
 * Drivers point their host or access URL here and log in with their own Portcullis credential;
 * every statement goes through the one pipeline on the connection their account names.
 * Results are always inline JSON, streamed as the rows arrive.
 */
export class SnowflakeFrontend {
  readonly #o: SnowflakeFrontendOptions;
  readonly #listener: HttpListener;
  readonly #tls: boolean;
  readonly #sessions: SnowflakeSessions;
  readonly #sqlApi: SqlApi;
  readonly #queryDeps: QueryDeps;
  readonly #bodyLimit: number;

  constructor(o: SnowflakeFrontendOptions) {
    this.#o = o;
    this.#tls = o.tls !== undefined;
    this.#bodyLimit = o.bodyLimit ?? DEFAULTS.bodyLimit;
    const queries: QueryRegistryLimits = {
      maxQueries: o.queries?.maxQueries ?? DEFAULTS.maxQueries,
      ttlMs: o.queries?.ttlMs ?? DEFAULTS.queryTtlMs,
      maxRetainedBytes: o.queries?.maxRetainedBytes ?? DEFAULTS.maxRetainedBytes,
    };
    this.#sessions = new SnowflakeSessions(
      {
        sessionValidityMs: o.sessions?.sessionValidityMs ?? DEFAULTS.sessionValidityMs,
        masterValidityMs: o.sessions?.masterValidityMs ?? DEFAULTS.masterValidityMs,
        idleMs: o.sessions?.idleMs ?? DEFAULTS.idleMs,
        maxSessions: o.sessions?.maxSessions ?? o.maxConnections,
        queries,
      },
      o.logger,
    );
    this.#queryDeps = {
      parameters: PARAMETERS,
      syncWaitMs: o.syncWaitMs ?? DEFAULTS.syncWaitMs,
      maxRows: o.maxRows ?? DEFAULTS.maxRows,
      bufferBytes: o.bufferBytes ?? DEFAULTS.bufferBytes,
      maskText: o.maskText ?? ((s) => s),
    };
    this.#sqlApi = new SqlApi(
      { ...this.#queryDeps, pipeline: o.pipeline, connectors: o.connectors, tls: this.#tls, allowInsecureLoopback: o.allowInsecureLoopback, logger: o.logger, bodyLimit: this.#bodyLimit },
      { ...queries, maxQueries: Math.max(queries.maxQueries, o.maxConnections) },
    );
    this.#listener = new HttpListener(
      { tls: o.tls, requestTimeoutMs: o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, headersTimeoutMs: o.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs, maxConnections: o.maxConnections, logger: o.logger, name: 'snowflake' },
      (req, res) => void this.#handle(req, res),
    );
  }

  listen(): Promise<{ host: string; port: number }> {
    return this.#listener.listen(this.#o.port, this.#o.host);
  }

  /** Snowflake sessions currently open (for tests and the log). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  close(): Promise<void> {
    return this.#listener.close(() => Promise.all([this.#sessions.closeAll('shutdown'), this.#sqlApi.close()]));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const sqlApi = path.startsWith('/api/v2/');
    try {
      await this.#route(req, res, req.method ?? 'GET', path, query);
    } catch (e) {
      if (!isPortcullisError(e)) this.#o.logger.error({ err: e instanceof Error ? e.message : String(e), path: path.slice(0, 100) }, 'snowflake request failed');
      const f = failureOf(e, this.#queryDeps.maskText);
      // A body cut off for size may still be arriving: the connection cannot be reused.
      if (isPortcullisError(e) && e.code === 'ERR_MESSAGE_TOO_LARGE') res.shouldKeepAlive = false;
      if (sqlApi) sendFailure(res, f, undefined);
      else sendEnvelope(res, driverFailureBody(f));
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: URLSearchParams): Promise<void> {
    const limit = this.#bodyLimit;
    let m: RegExpExecArray | null;
    if (path === '/session/v1/login-request') {
      this.#method(method, 'POST');
      const body = await readBody(req, limit, LoginRequestSchema);
      const deps = { pipeline: this.#o.pipeline, connectors: this.#o.connectors, sessions: this.#sessions, tls: this.#tls, allowInsecureLoopback: this.#o.allowInsecureLoopback, logger: this.#o.logger, parameters: PARAMETERS, version: this.#o.version };
      sendEnvelope(res, await handleLogin(deps, req.socket.remoteAddress ?? 'unknown', body, query));
      return;
    }
    if (path === '/session/token-request') {
      this.#method(method, 'POST');
      await readBody(req, limit, TokenRequestSchema);
      sendEnvelope(res, handleTokenRequest(this.#sessions, parseSnowflakeToken(req.headers.authorization) ?? undefined));
      return;
    }
    if (path === '/api/v2/statements') {
      this.#method(method, 'POST');
      await this.#sqlApi.submit(req, res, query);
      return;
    }
    if ((m = STATEMENT.exec(path))) {
      this.#method(method, 'GET');
      await this.#sqlApi.status(req, res, m[1]!.toLowerCase());
      return;
    }
    if ((m = STATEMENT_CANCEL.exec(path))) {
      this.#method(method, 'POST');
      await this.#sqlApi.cancel(req, res, m[1]!.toLowerCase());
      return;
    }

    // Everything below needs a session token from login.
    const known = path === '/session' || path === '/session/heartbeat' || path === '/queries/v1/query-request' || path === '/queries/v1/abort-request' || path === '/telemetry/send' || QUERY_RESULT.test(path) || QUERY_ABORT.test(path) || MONITORING.test(path);
    if (!known) throw new PortcullisError('ERR_NOT_FOUND', `no endpoint ${JSON.stringify(path.slice(0, 100))} on the Portcullis Snowflake listener`);
    const s = this.#session(req, res);
    if (!s) return;
    if (path === '/queries/v1/query-request') {
      this.#method(method, 'POST');
      const body = await readBody(req, limit, QueryRequestSchema);
      await handleQueryRequest(this.#queryDeps, s, body, query.get('requestId')?.slice(0, 64) ?? undefined, res);
    } else if ((m = QUERY_RESULT.exec(path))) {
      this.#method(method, 'GET');
      await handleResultRequest(this.#queryDeps, s, m[1]!.toLowerCase(), res);
    } else if ((m = MONITORING.exec(path))) {
      this.#method(method, 'GET');
      handleMonitoring(s, m[1]!.toLowerCase(), res);
    } else if ((m = QUERY_ABORT.exec(path))) {
      this.#method(method, 'POST');
      await readBody(req, limit, ANY);
      await handleAbort(s, { queryId: m[1]!.toLowerCase() }, res);
    } else if (path === '/queries/v1/abort-request') {
      this.#method(method, 'POST');
      const body = await readBody(req, limit, AbortRequestSchema);
      await handleAbort(s, { requestId: body.requestId }, res);
    } else if (path === '/session/heartbeat') {
      this.#method(method, 'POST');
      await readBody(req, limit, ANY);
      sendEnvelope(res, okEnvelope(null));
    } else if (path === '/telemetry/send') {
      // Driver telemetry is accepted and dropped: it can carry stack traces and host details.
      this.#method(method, 'POST');
      await readBody(req, limit, ANY);
      sendEnvelope(res, okEnvelope(null));
    } else if (path === '/session') {
      this.#method(method, 'POST');
      if (query.get('delete') !== 'true') throw new PortcullisError('ERR_PROTOCOL_VIOLATION', 'POST /session only ends a session: send ?delete=true');
      await readBody(req, limit, ANY);
      await this.#sessions.close(s, 'logout');
      sendEnvelope(res, okEnvelope(null));
    }
  }

  /** The session behind the request's token, or undefined after answering 390104/390112. */
  #session(req: IncomingMessage, res: ServerResponse): SnowflakeSession | undefined {
    const r = this.#sessions.check(parseSnowflakeToken(req.headers.authorization) ?? undefined);
    if ('session' in r) return r.session;
    // The rest of the body is not read; the connection cannot be reused.
    res.shouldKeepAlive = false;
    sendEnvelope(res, driverFailureBody(r.failure));
    return undefined;
  }

  #method(method: string, allowed: 'GET' | 'POST'): void {
    if (method !== allowed) throw new PortcullisError('ERR_PROTOCOL_VIOLATION', `this endpoint accepts ${allowed} only`);
  }
}
