/**
 * A development and test tool, not a database: an HTTP server speaking enough of Snowflake's
 * driver REST API (the protocol snowflake-sdk, the Python connector and JDBC use) for the real
 * drivers to log in, run statements and download chunked results, with an in-memory DuckDB
 * doing the work behind a thin SQL fix-up. It exists so the gateway's Snowflake connector and
 * frontend can be tested without a Snowflake account. Loopback only, no TLS, no durability.
 * See docs/snowflake.md, "The development emulator".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { Binding } from '../../codecs/snowflake/messages.js';
import { parseSnowflakeToken } from '../../codecs/snowflake/auth-header.js';
import { bindingsToParamRows, SnowflakeBindingError } from '../../codecs/snowflake/bindings.js';
import { SnowflakeCode, StatementTypeId } from '../../codecs/snowflake/codes.js';
import {
  AbortRequestSchema,
  errorEnvelope,
  LoginRequestSchema,
  okEnvelope,
  QueryRequestSchema,
  TokenRequestSchema,
  type LoginResponseData,
  type QueryInProgressData,
  type QueryMonitoringData,
  type QueryResultData,
  type TokenResponseData,
} from '../../codecs/snowflake/messages.js';
import { decodeRequestBody } from '../../codecs/snowflake/request-body.js';
import { isLoopbackAddress } from '../../util/loopback-address.js';
import { demoSeedSql } from './demo-seed.js';
import { UserDirectory, type EmulatorUser } from './login.js';
import { QueryRecord, QueryRegistry, type EmulatorQuery } from './query-registry.js';
import type { StoredResult } from './result-builder.js';
import { runStatement } from './run-statement.js';
import { EmulatorSession } from './session.js';
import { sqlErrorFromDuckDB, type EmulatedSqlError } from './sql-errors.js';

export type { EmulatorQuery } from './query-registry.js';
export type { EmulatorUser } from './login.js';

export interface SnowflakeEmulatorOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** A loopback address; default 127.0.0.1. */
  readonly host?: string;
  /** `demo` loads the gateway's demo shop into DEMO.PUBLIC; `empty` (the default) an empty EMULATOR.PUBLIC. */
  readonly seed?: 'demo' | 'empty';
  /** Login names (case-insensitive) and their credentials; default `{ emulator: { password: 'emulator' } }`. */
  readonly users?: Readonly<Record<string, EmulatorUser>>;
  /** Rows inline in a response and per downloadable chunk; default 4096. */
  readonly chunkRows?: number;
  /** How long a query-request waits for its statement before answering 333334; default 1000 ms. */
  readonly syncWaitMs?: number;
  /** Session token lifetime (the driver renews it when told 390112); default 3600. */
  readonly tokenValiditySeconds?: number;
}

export interface SnowflakeEmulator {
  /** `http://host:port`: snowflake-sdk's `accessUrl`. */
  readonly url: string;
  readonly port: number;
  /** Every statement received so far, oldest first. */
  history(): EmulatorQuery[];
  close(): Promise<void>;
}

const MAX_BODY = 16 << 20;

/**
 * Starts the emulator.
 *
 * @example
 * const emu = await startSnowflakeEmulator({ seed: 'demo', users: { alice: { password: 'pw' } } });
 * process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
 * const snowflake = (await import('snowflake-sdk')).default;
 * const conn = snowflake.createConnection({ accessUrl: emu.url, account: 'emulator', username: 'alice', password: 'pw', database: 'DEMO', schema: 'PUBLIC' });
 */
export async function startSnowflakeEmulator(opts: SnowflakeEmulatorOptions = {}): Promise<SnowflakeEmulator> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== 'localhost' && !isLoopbackAddress(host)) throw new TypeError(`the Snowflake emulator listens on loopback only, not ${host}`);
  const chunkRows = Math.max(1, Math.floor(opts.chunkRows ?? 4096));
  const syncWaitMs = opts.syncWaitMs ?? 1000;
  const tokenValidity = opts.tokenValiditySeconds ?? 3600;
  const users = new UserDirectory(opts.users ?? { emulator: { password: 'emulator' } });
  const defaultDb = opts.seed === 'demo' ? 'DEMO' : 'EMULATOR';

  const instance = await DuckDBInstance.create(':memory:');
  const setup = await instance.connect();
  await setup.run(`ATTACH ':memory:' AS "${defaultDb}"; CREATE SCHEMA "${defaultDb}"."PUBLIC"; USE "${defaultDb}"."PUBLIC"; SET TimeZone = 'UTC'`);
  if (opts.seed === 'demo') await setup.run(demoSeedSql());

  const registry = new QueryRegistry(64);
  const quotedNames = new Set<string>();
  const sessions = new Map<number, EmulatorSession>();
  const byToken = new Map<string, EmulatorSession>();
  let nextSessionId = 1_000_001;
  let baseUrl = '';

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
    res.end(json);
  };
  const fail = (res: ServerResponse, code: string, message: string, data: Parameters<typeof errorEnvelope>[2] = {}) => send(res, 200, errorEnvelope(code, message, data));

  /** The session whose token the request carries, or an answer already sent. */
  const authorize = (req: IncomingMessage, res: ServerResponse): EmulatorSession | null => {
    const token = parseSnowflakeToken(req.headers.authorization);
    const session = token === null ? undefined : byToken.get(token);
    if (!session || session.closed) {
      fail(res, SnowflakeCode.SESSION_TOKEN_INVALID, 'Session token is invalid or has been revoked.');
      return null;
    }
    if (Date.now() >= session.tokenExpiresAt) {
      fail(res, SnowflakeCode.SESSION_TOKEN_EXPIRED, 'Session token expired.');
      return null;
    }
    return session;
  };

  const resultData = (q: QueryRecord, result: StoredResult, session: EmulatorSession | undefined): QueryResultData => ({
    queryId: q.queryId,
    rowtype: result.rowtype,
    rowset: result.rowset,
    total: result.total,
    returned: result.total,
    queryResultFormat: 'json',
    version: 1,
    ...(result.chunks.length
      ? {
          chunks: result.chunks.map((c, i) => ({
            url: `${baseUrl}/emulator/chunks/${q.queryId}/${i}`,
            rowCount: c.rowCount,
            uncompressedSize: c.uncompressedSize,
            compressedSize: c.gzipped.length,
          })),
          chunkHeaders: { 'x-emulator-chunk-key': q.chunkKey },
        }
      : {}),
    statementTypeId: result.statementTypeId,
    parameters: session?.responseParameters() ?? [],
    finalDatabaseName: session?.database ?? null,
    finalSchemaName: session?.schema ?? null,
    finalWarehouseName: session?.warehouse ?? null,
    finalRoleName: session?.role ?? null,
  });

  /** Answers with the statement's outcome, or 333334 when it is still running. */
  const answerQuery = (res: ServerResponse, q: QueryRecord) => {
    const session = sessions.get(q.sessionId);
    if (q.status === 'RUNNING') {
      const data: QueryInProgressData = { queryId: q.queryId, getResultUrl: `/queries/${q.queryId}/result`, queryAbortsAfterSecs: 300, progressDesc: null };
      return send(res, 200, okEnvelope(data, SnowflakeCode.QUERY_IN_PROGRESS_ASYNC, 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.'));
    }
    if (q.error) return fail(res, q.error.code, q.error.message, { sqlState: q.error.sqlState, queryId: q.queryId });
    if (!q.result) return fail(res, SnowflakeCode.QUERY_NOT_FOUND, `Result of statement ${q.queryId} is no longer available.`, { sqlState: '02000', queryId: q.queryId });
    send(res, 200, okEnvelope(resultData(q, q.result, session)));
  };

  const waitBriefly = (q: QueryRecord) => Promise.race([q.done, new Promise<void>((r) => setTimeout(r, syncWaitMs).unref())]);

  const startQuery = (session: EmulatorSession, q: QueryRecord, paramRows: DuckDBValue[][]) => {
    let aborted = false;
    let timedOut = false;
    const timeoutSecs = Number(q.parameters.STATEMENT_TIMEOUT_IN_SECONDS ?? session.params.get('STATEMENT_TIMEOUT_IN_SECONDS') ?? 0);
    q.abort = () => {
      aborted = true;
      session.conn.interrupt();
    };
    q.done = session.serialize(async () => {
      const timer = timeoutSecs > 0 ? setTimeout(() => ((timedOut = true), session.conn.interrupt()), timeoutSecs * 1000) : null;
      try {
        if (aborted) throw new Error('INTERRUPT Error: aborted before it started');
        const result = await runWithParamRows(session, q.sqlText, paramRows, chunkRows, quotedNames);
        q.result = result;
        q.status = 'SUCCESS';
        registry.retain(q);
      } catch (e) {
        let error: EmulatedSqlError = sqlErrorFromDuckDB(e);
        if (timedOut) error = { code: SnowflakeCode.STATEMENT_TIMEOUT, sqlState: '57014', message: `Statement reached its statement or warehouse timeout of ${timeoutSecs} second(s) and was canceled.` };
        else if (aborted) error = { code: SnowflakeCode.STATEMENT_CANCELLED, sqlState: '57014', message: 'SQL execution canceled' };
        q.error = error;
        q.status = aborted ? 'ABORTED' : 'FAILED_WITH_ERROR';
      } finally {
        if (timer) clearTimeout(timer);
        q.abort = null;
        q.endTime = Date.now();
      }
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: unknown, path: string, search: URLSearchParams) => {
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/session/v1/login-request') {
      const parsed = LoginRequestSchema.safeParse(body);
      if (!parsed.success) return fail(res, SnowflakeCode.BAD_REQUEST, 'The login request is malformed.');
      const outcome = await users.authenticate(parsed.data.data, Date.now());
      if (!outcome.ok) return fail(res, outcome.code, outcome.message, { sqlState: '28000' });
      const conn = await instance.connect();
      const session = new EmulatorSession({
        id: nextSessionId++,
        user: outcome.user,
        account: outcome.account,
        conn,
        database: defaultDb,
        schema: 'PUBLIC',
        nowMs: Date.now(),
        tokenValiditySeconds: tokenValidity,
        masterValiditySeconds: Math.max(tokenValidity * 4, 14_400),
      });
      await conn.run(`USE "${defaultDb}"."PUBLIC"; SET TimeZone = 'UTC'`);
      for (const [k, v] of Object.entries(parsed.data.data.SESSION_PARAMETERS ?? {})) {
        if (v !== null && v !== undefined) session.params.set(k.toUpperCase(), String(v));
      }
      // Login's database/schema/warehouse/role come in the query string; an unknown database keeps the default, as Snowflake logs in anyway.
      const useParts: [string, string | null][] = [
        ['WAREHOUSE', search.get('warehouse')],
        ['DATABASE', search.get('databaseName')],
        ['SCHEMA', search.get('schemaName')],
        ['ROLE', search.get('roleName')],
      ];
      for (const [target, name] of useParts) {
        if (!name) continue;
        try {
          await runStatement(session, `USE ${target} ${quoteLoginName(name)}`, [], { inlineRows: 1, chunkRows: 1 });
        } catch {
          /* keep the default */
        }
      }
      sessions.set(session.id, session);
      byToken.set(session.token, session);
      const data: LoginResponseData = {
        token: session.token,
        masterToken: session.masterToken,
        validityInSeconds: tokenValidity,
        masterValidityInSeconds: Math.round((session.masterExpiresAt - Date.now()) / 1000),
        sessionId: session.id,
        parameters: session.responseParameters(),
        sessionInfo: { databaseName: session.database, schemaName: session.schema, warehouseName: session.warehouse, roleName: session.role },
        displayUserName: session.user,
        serverVersion: '9.0.0-emulator',
        firstLogin: false,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
      };
      return send(res, 200, okEnvelope(data, null, null));
    }

    if (method === 'POST' && path === '/session/token-request') {
      const token = parseSnowflakeToken(req.headers.authorization);
      const session = [...sessions.values()].find((s) => s.masterToken === token && !s.closed);
      if (!session) return fail(res, SnowflakeCode.SESSION_TOKEN_INVALID, 'Master token is invalid.');
      if (Date.now() >= session.masterExpiresAt) return fail(res, SnowflakeCode.MASTER_TOKEN_EXPIRED, 'Master token expired.');
      const parsed = TokenRequestSchema.safeParse(body);
      if (!parsed.success) return fail(res, SnowflakeCode.BAD_REQUEST, 'The token request is malformed.');
      byToken.delete(session.token);
      session.renew(Date.now(), tokenValidity);
      byToken.set(session.token, session);
      const data: TokenResponseData = {
        sessionToken: session.token,
        validityInSecondsST: tokenValidity,
        masterToken: session.masterToken,
        validityInSecondsMT: Math.round((session.masterExpiresAt - Date.now()) / 1000),
        sessionId: session.id,
      };
      return send(res, 200, okEnvelope(data));
    }

    if (method === 'GET' && path.startsWith('/emulator/chunks/')) {
      const [, , , queryId, index] = path.split('/');
      const q = queryId ? registry.get(queryId) : undefined;
      const chunk = q?.result?.chunks[Number(index)];
      if (!q || !chunk || req.headers['x-emulator-chunk-key'] !== q.chunkKey) {
        res.writeHead(403, { 'Content-Type': 'text/plain' });
        return res.end('chunk not found or key missing');
      }
      if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Encoding': 'gzip', 'Content-Length': chunk.gzipped.length });
        return res.end(chunk.gzipped);
      }
      const plain = gunzipSync(chunk.gzipped);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': plain.length });
      return res.end(plain);
    }

    if (method === 'POST' && path === '/telemetry/send') return send(res, 200, okEnvelope({}));

    const session = authorize(req, res);
    if (!session) return;

    if (method === 'POST' && path === '/queries/v1/query-request') {
      const parsed = QueryRequestSchema.safeParse(body);
      if (!parsed.success) return fail(res, SnowflakeCode.BAD_REQUEST, 'The query request is malformed.', { sqlState: '08P01' });
      const r = parsed.data;
      const parameters = r.parameters ?? {};
      const stmtTag = parameters.QUERY_TAG ?? parameters.query_tag;
      const queryTag = typeof stmtTag === 'string' ? stmtTag : (session.params.get('QUERY_TAG') ?? null);
      const q = new QueryRecord(r.sqlText, session.id, session.user, queryTag, parameters, r.bindings ?? null, r.asyncExec === true, search.get('requestId'));
      registry.add(q);
      let paramRows: DuckDBValue[][];
      try {
        paramRows = typedParamRows(r.bindings, bindingsToParamRows(r.bindings));
      } catch (e) {
        const message = e instanceof SnowflakeBindingError ? e.message : 'bind variables are malformed';
        q.error = { code: SnowflakeCode.SQL_COMPILATION_ERROR, sqlState: '07002', message };
        q.status = 'FAILED_WITH_ERROR';
        q.endTime = Date.now();
        return answerQuery(res, q);
      }
      startQuery(session, q, paramRows);
      if (!q.asyncExec) await waitBriefly(q);
      return answerQuery(res, q);
    }

    const resultPath = /^\/queries\/([0-9a-f-]{36})\/(result|abort-request)$/.exec(path);
    if (resultPath) {
      const q = registry.get(resultPath[1]!);
      if (!q || q.sessionId !== session.id) return fail(res, SnowflakeCode.QUERY_NOT_FOUND, `Statement ${resultPath[1]} not found.`, { sqlState: '02000' });
      if (resultPath[2] === 'abort-request') {
        q.abort?.();
        return send(res, 200, okEnvelope(null));
      }
      await waitBriefly(q);
      return answerQuery(res, q);
    }

    if (method === 'POST' && path === '/queries/v1/abort-request') {
      const parsed = AbortRequestSchema.safeParse(body);
      const requestId = parsed.success ? parsed.data.requestId : undefined;
      const q = requestId ? registry.byRequestId(requestId) : undefined;
      if (q && q.sessionId === session.id) q.abort?.();
      return send(res, 200, okEnvelope(null));
    }

    const monitoring = /^\/monitoring\/queries\/([0-9a-f-]{36})$/.exec(path);
    if (method === 'GET' && monitoring) {
      const q = registry.get(monitoring[1]!);
      const data: QueryMonitoringData = {
        queries:
          q && q.sessionId === session.id
            ? [
                {
                  id: q.queryId,
                  status: q.status,
                  sqlText: q.sqlText,
                  startTime: q.startTime,
                  endTime: q.endTime ?? 0,
                  ...(q.error ? { errorCode: q.error.code, errorMessage: q.error.message } : {}),
                },
              ]
            : [],
      };
      return send(res, 200, okEnvelope(data));
    }

    if (method === 'POST' && path === '/session/heartbeat') return send(res, 200, okEnvelope({}));

    if (method === 'POST' && path === '/session' && search.get('delete') === 'true') {
      session.closed = true;
      sessions.delete(session.id);
      byToken.delete(session.token);
      session.serialize(async () => session.conn.closeSync()).catch(() => undefined);
      return send(res, 200, okEnvelope(null));
    }

    return fail(res, SnowflakeCode.BAD_REQUEST, `The emulator does not implement ${method} ${path}.`);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY && !refused) {
        refused = true;
        send(res, 413, errorEnvelope(SnowflakeCode.BAD_REQUEST, 'The request body is too large.'));
        req.destroy();
        return;
      }
      if (!refused) chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      const url = new URL(req.url ?? '/', 'http://emulator');
      const raw = Buffer.concat(chunks);
      let body: unknown = {};
      if (raw.length) {
        const decoded = decodeRequestBody(raw, MAX_BODY);
        if (!decoded.ok) return send(res, 400, errorEnvelope(SnowflakeCode.BAD_REQUEST, `The request body is unreadable (${decoded.problem}).`));
        body = decoded.value;
      }
      handle(req, res, body, url.pathname, url.searchParams).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, errorEnvelope(SnowflakeCode.EXECUTION_ERROR, `emulator error: ${(e as Error).message}`));
        else res.destroy();
      });
    });
    req.on('error', () => res.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: baseUrl,
    port,
    history: () => registry.history(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const s of sessions.values()) {
        s.closed = true;
        await s.serialize(async () => s.conn.closeSync()).catch(() => undefined);
      }
      sessions.clear();
      setup.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs a statement once per row of bind values; an array bind reports the summed row count. */
async function runWithParamRows(session: EmulatorSession, sql: string, rows: DuckDBValue[][], chunkRows: number, quotedNames: Set<string>): Promise<StoredResult> {
  const opts = { inlineRows: chunkRows, chunkRows, quotedNames };
  if (rows.length <= 1) return runStatement(session, sql, rows[0] ?? [], opts);
  let total = 0;
  let last: StoredResult | null = null;
  for (const row of rows) {
    last = await runStatement(session, sql, row, opts);
    total += Number(last.rowset[0]?.[0] ?? 0);
  }
  const typeId = last?.statementTypeId ?? StatementTypeId.INSERT;
  return { ...last!, rowset: [[String(total)]], total: 1, chunks: [], statementTypeId: typeId };
}

/**
 * Bind values typed as the driver declared them: DuckDB, unlike Snowflake, will not coerce a
 * text parameter in `? + 1`, so FIXED, REAL and BOOLEAN binds go in as numbers and booleans.
 */
function typedParamRows(bindings: Readonly<Record<string, Binding>> | undefined, rows: (string | null)[][]): DuckDBValue[][] {
  const types = Object.keys(bindings ?? {})
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => bindings![k]!.type.toUpperCase());
  return rows.map((row) =>
    row.map((v, i) => {
      if (v === null) return null;
      switch (types[i]) {
        case 'FIXED':
          return /^-?\d{1,18}$/.test(v) ? BigInt(v) : Number(v);
        case 'REAL':
          return Number(v);
        case 'BOOLEAN':
          return v.toLowerCase() === 'true' || v === '1';
        default:
          return v;
      }
    }),
  );
}

/** Names from the login query string are identifiers as the user typed them: quote any with lower case. */
function quoteLoginName(name: string): string {
  return /^[A-Z_][A-Z0-9_$]*$/i.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
