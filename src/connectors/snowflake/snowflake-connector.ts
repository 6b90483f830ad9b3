import type * as Snowflake from 'snowflake-sdk';
import type { Connector, QueryRequest, QueryResult, RowStream } from '../connector.js';
import type { SnowflakeConnectionConfig } from '../../config/schema.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { CatalogCache } from '../catalog-cache.js';
import type { CatalogRow, CatalogSnapshot } from '../catalog-snapshot.js';
import { loadSnowflakeSdk, type SnowflakeSdk } from './sdk.js';
import { closeSession, openSession } from './login.js';
import { credentialTexts } from './login-options.js';
import { SessionPool } from './session-pool.js';
import { FETCH_AS_STRING } from './driver-values.js';
import { statementParameters } from './statement-parameters.js';
import { isFileTransfer, leadingKeyword, leavesSessionClean } from './statement-kind.js';
import { SnowflakeRowStream } from './snowflake-row-stream.js';
import { loadSnowflakeCatalog } from './catalog-query.js';
import { SnowflakeStatementError, isSessionGone, scrubberFor, statementFailure, type Scrub } from './upstream-errors.js';

/** INFORMATION_SCHEMA of a large account reads in seconds; past this, something is stuck. */
const CATALOG_TIMEOUT_MS = 60_000;

/**
 * A Snowflake account, reached with snowflake-sdk over its REST driver protocol. Serves the
 * driver path (`stream`, `query`) for every frontend; there is no wire path to relay.
 *
 * Each statement runs on a pooled session of its own (session-pool.ts) and carries its
 * QUERY_TAG, MULTI_STATEMENT_COUNT = 1 and timeout as per-statement parameters
 * (statement-parameters.ts). Values come back in the gateway's canonical text form
 * (driver-values.ts, codecs/snowflake/values.ts).
 *
 * @example
 *   const c = new SnowflakeConnector('wh', { type: 'snowflake', account: 'myorg-acct', user: 'PORTCULLIS', private_key, connect_timeout: 30 });
 *   const rows = await c.stream({ sql: 'SELECT id FROM customers WHERE region = ?', params: ['EU'], maxRows: 1000, applicationName: 'portcullis:alice', context });
 *   for await (const batch of rows) send(batch);
 */
export class SnowflakeConnector implements Connector {
  readonly type = 'snowflake';
  readonly dialect = 'snowflake' as const;
  readonly name: string;
  readonly #config: SnowflakeConnectionConfig;
  readonly #connectTimeoutMs: number;
  readonly #scrub: Scrub;
  #pool: Promise<SessionPool> | undefined;
  /** Aborted by close(): statements still running are cancelled upstream, open streams stop. */
  readonly #shutdown = new AbortController();

  constructor(name: string, config: SnowflakeConnectionConfig) {
    this.name = name;
    this.#config = config;
    this.#connectTimeoutMs = Math.round(config.connect_timeout * 1000);
    this.#scrub = scrubberFor(credentialTexts(config));
  }

  /** For logs: where this connector points and how it logs in (never the credential). */
  describe(): string {
    const c = this.#config;
    const auth = c.private_key !== undefined ? 'key pair' : c.oauth_token !== undefined ? 'OAuth' : 'password';
    return `snowflake://${c.user}@${c.url ?? c.account} (${auth})`;
  }

  /** Loads the driver; sessions are opened on first use. */
  async start(): Promise<void> {
    await this.#sessions();
  }

  async close(): Promise<void> {
    this.#shutdown.abort(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.name}" is closed`));
    const pool = this.#pool;
    this.#pool = undefined;
    (await pool?.catch(() => undefined))?.close();
  }

  async stream(req: QueryRequest): Promise<RowStream> {
    if (!Number.isInteger(req.maxRows) || req.maxRows < 0) throw new TypeError('maxRows must be a non-negative integer');
    req.signal?.throwIfAborted();
    if (isFileTransfer(req.sql)) {
      throw new SnowflakeStatementError('0A000', 'PUT and GET transfer files on the gateway host and are not available through Portcullis');
    }
    const keyword = leadingKeyword(req.sql);
    const pool = await this.#sessions();
    const signal = req.signal ? AbortSignal.any([req.signal, this.#shutdown.signal]) : this.#shutdown.signal;
    // A session found gone (expired, logged out) failed before the statement reached
    // Snowflake, so the statement is tried once more on a fresh login.
    for (let attempt = 0; ; attempt++) {
      const conn = await pool.acquire(signal);
      let stmt: Snowflake.RowStatement;
      try {
        stmt = await execute(conn, req, signal, statementParameters(this.name, req.context, req.timeoutMs));
      } catch (e) {
        const gone = isSessionGone(e);
        pool.release(conn, !gone && leavesSessionClean(keyword));
        if (gone && attempt === 0) continue;
        throw statementFailure(e, this.name, this.#scrub);
      }
      return new SnowflakeRowStream(stmt, {
        connection: this.name,
        maxRows: req.maxRows,
        keyword,
        signal,
        scrub: this.#scrub,
        done: (broken) => pool.release(conn, !broken && leavesSessionClean(keyword)),
      });
    }
  }

  /** The same statement, collected whole (at most `maxRows` rows) for the HTTP and MCP frontends. */
  async query(req: QueryRequest): Promise<QueryResult> {
    const rs = await this.stream(req);
    const rows: (string | null)[][] = [];
    try {
      for await (const batch of rs) for (const r of batch) rows.push(r);
    } finally {
      await rs.close();
    }
    const o = rs.outcome();
    return { columns: rs.columns, rows, rowCount: o.rowCount, command: o.command, truncated: o.truncated, notices: o.notices, queryId: o.queryId };
  }

  /** `SELECT 1` on a pooled session (a login first when none is open); round-trip milliseconds. */
  async health(): Promise<number> {
    const started = performance.now();
    try {
      await this.query({ sql: 'SELECT 1', maxRows: 1, applicationName: 'portcullis:health', timeoutMs: this.#connectTimeoutMs });
    } catch (e) {
      if (e instanceof PortcullisError && e.code === 'ERR_UPSTREAM_UNAVAILABLE') throw e;
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `health check on connection "${this.name}" failed: ${this.#scrub(e instanceof Error ? e.message : String(e))}`);
    }
    return performance.now() - started;
  }

  readonly #catalog = new CatalogCache((loadedAt) => this.#loadCatalog(loadedAt));

  /** INFORMATION_SCHEMA of the configured database (catalog-query.ts); see CatalogCache for when it reloads. */
  catalog(): Promise<CatalogSnapshot> {
    return this.#catalog.get();
  }

  invalidateCatalog(): void {
    this.#catalog.invalidate();
  }

  async #loadCatalog(loadedAt: number): Promise<CatalogSnapshot> {
    const read = async (sql: string): Promise<readonly CatalogRow[]> => {
      try {
        return (await this.query({ sql, maxRows: Number.MAX_SAFE_INTEGER, applicationName: 'portcullis:catalog', timeoutMs: CATALOG_TIMEOUT_MS })).rows;
      } catch (e) {
        if (e instanceof PortcullisError) throw e;
        throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `catalog of connection "${this.name}" could not be read: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    return loadSnowflakeCatalog(read, { schema: this.#config.schema, loadedAt });
  }

  #sessions(): Promise<SessionPool> {
    if (this.#shutdown.signal.aborted) return Promise.reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.name}" is closed`));
    this.#pool ??= loadSnowflakeSdk().then((sdk) => this.#newPool(sdk));
    return this.#pool;
  }

  #newPool(sdk: SnowflakeSdk): SessionPool {
    const login = { connection: this.name, connectTimeoutMs: this.#connectTimeoutMs, scrub: this.#scrub };
    return new SessionPool({
      connection: this.name,
      open: () => openSession(sdk, this.#config, login),
      close: closeSession,
      waitMs: this.#connectTimeoutMs,
    });
  }
}

/**
 * Starts the statement and resolves once Snowflake reports it complete (its first result
 * chunk is then available). An abort cancels it upstream by its request id, which names this
 * statement only, so the session stays usable.
 */
function execute(conn: Snowflake.Connection, req: QueryRequest, signal: AbortSignal, parameters: Record<string, string | number>): Promise<Snowflake.RowStatement> {
  return new Promise((resolve, reject) => {
    let stmt: Snowflake.RowStatement | undefined;
    const onAbort = (): void => stmt?.cancel(() => {});
    try {
      stmt = conn.execute({
        sqlText: req.sql,
        ...(req.params !== undefined && req.params.length > 0 ? { binds: [...req.params] } : {}),
        parameters,
        streamResult: true,
        rowMode: 'array',
        fetchAsString: FETCH_AS_STRING,
        complete: (err, s) => {
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(s);
        },
      });
    } catch (e) {
      // Invalid options (a bind the driver cannot serialise) are thrown synchronously.
      reject(e);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}
