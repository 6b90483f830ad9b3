import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Connector, QueryRequest, QueryResult, RowStream, WireOpenOptions, WireUpstream } from '../connector.js';
import type { PostgresConnectionConfig } from '../../config/schema.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { Be, Fe } from '../../codecs/pgwire/message-codes.js';
import { parseConnectionUrl, type PostgresUrl, type UpstreamTlsMode } from './connection-url.js';
import { openUpstream, type UpstreamTarget, type UpstreamTlsOptions } from './handshake.js';
import { MessageFramer } from './framer.js';
import { CatalogCache } from '../catalog-cache.js';
import type { CatalogSnapshot } from '../catalog-snapshot.js';
import { CATALOG_SESSION, loadPostgresCatalog } from './catalog-query.js';
import { DriverPool } from './driver-pool.js';
import { describeErrorBody } from '../../codecs/pgwire/error-fields.js';

/** A catalog of tens of thousands of relations reads in a few seconds; past this, something is stuck. */
const CATALOG_TIMEOUT_MS = 60_000;

const healthQuery = new MessageWriter(32).begin(Fe.Query).cstring('SELECT 1').end().take();
const terminate = new MessageWriter(8).begin(Fe.Terminate).end().take();

/**
 * A real PostgreSQL server (or anything speaking its protocol) reached over TCP. Serves the
 * wire path: each client session gets its own authenticated upstream session.
 *
 * TLS mode, in order of precedence: the connection's `tls.mode`, the URL's `sslmode`, then a
 * default of `disable` for loopback hosts (the bytes never leave the machine) and
 * `verify-full` for everything else.
 */
export class PostgresConnector implements Connector {
  readonly type = 'postgres';
  readonly dialect = 'postgres' as const;
  readonly name: string;
  readonly #target: UpstreamTarget;
  readonly #tlsMode: UpstreamTlsMode;
  readonly #caFile: string | undefined;
  readonly #servername: string | undefined;
  readonly #connectTimeoutMs: number;
  #driver: Promise<DriverPool> | undefined;

  constructor(name: string, config: PostgresConnectionConfig) {
    this.name = name;
    let url: PostgresUrl;
    try {
      url = parseConnectionUrl(config.url, config.password);
    } catch (e) {
      if (e instanceof PortcullisError) throw new PortcullisError(e.code, `connections.${name}.url: ${e.message}`);
      throw e;
    }
    this.#target = {
      host: url.host,
      port: url.port,
      user: url.user,
      database: url.database,
      connection: name,
      ...(url.password ? { password: url.password } : {}),
    };
    this.#tlsMode = config.tls?.mode ?? url.sslmode ?? (isLoopback(url.host) ? 'disable' : 'verify-full');
    this.#caFile = config.tls?.ca ?? url.sslrootcert;
    this.#servername = config.tls?.servername;
    this.#connectTimeoutMs = Math.round(config.connect_timeout * 1000);
  }

  /** For logs: where this connector points (never the password). */
  describe(): string {
    const t = this.#target;
    return `postgres://${t.user}@${t.host}:${t.port}/${t.database} (tls ${this.#tlsMode})`;
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    const driver = this.#driver;
    this.#driver = undefined;
    await (await driver?.catch(() => undefined))?.close();
  }

  /** The driver path: see driver-pool.ts. The pool is made on first use. */
  async query(req: QueryRequest): Promise<QueryResult> {
    return (await this.#pool()).query(req);
  }

  async stream(req: QueryRequest): Promise<RowStream> {
    return (await this.#pool()).stream(req);
  }

  async #pool(): Promise<DriverPool> {
    this.#driver ??= this.#tls().then((tls) => new DriverPool({ name: this.name, target: this.#target, tls, connectTimeoutMs: this.#connectTimeoutMs }));
    try {
      return await this.#driver;
    } catch (e) {
      // A CA file that could not be read is tried again on the next request.
      this.#driver = undefined;
      throw e;
    }
  }

  async openWire(opts: WireOpenOptions): Promise<WireUpstream> {
    return openUpstream(this.#target, { ...opts, connectTimeoutMs: this.#connectTimeoutMs, tls: await this.#tls() });
  }

  /** Opens a session, runs `SELECT 1`, terminates; resolves with the total milliseconds. */
  async health(): Promise<number> {
    const started = performance.now();
    const up = await this.openWire({ applicationName: 'portcullis:health', parameters: new Map() });
    const framer = new MessageFramer(up.socket, up.leftover);
    const timer = setTimeout(() => up.socket.destroy(), this.#connectTimeoutMs);
    try {
      up.socket.write(healthQuery);
      let failure: string | undefined;
      for (;;) {
        const msg = await framer.next();
        if (msg.code === Be.ErrorResponse) failure = describeErrorBody(msg.body);
        if (msg.code === Be.ReadyForQuery) break;
      }
      if (failure !== undefined) throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `health check on connection "${this.name}" failed: ${failure}`);
      up.socket.end(terminate);
      return performance.now() - started;
    } catch (e) {
      up.socket.destroy();
      if (e instanceof PortcullisError) throw e;
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `health check on connection "${this.name}" failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
      framer.detach();
    }
  }

  async #tls(): Promise<UpstreamTlsOptions> {
    const mode = this.#tlsMode;
    if (mode === 'disable' || mode === 'require') return { mode };
    let ca: string | undefined;
    if (this.#caFile !== undefined) {
      // Read per session so a rotated CA file takes effect without a restart.
      try {
        ca = await readFile(this.#caFile, 'utf8');
      } catch (e) {
        throw new PortcullisError('ERR_CONFIG_INVALID', `connections.${this.name}.tls.ca: cannot read ${this.#caFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
    }
    return { mode, ...(ca !== undefined ? { ca } : {}), ...(this.#servername ? { servername: this.#servername } : {}) };
  }

  readonly #catalog = new CatalogCache((loadedAt) =>
    loadPostgresCatalog(() => this.openWire(CATALOG_SESSION), { connection: this.name, timeoutMs: CATALOG_TIMEOUT_MS, loadedAt }),
  );

  /** Read over a session of its own (catalog-query.ts); see CatalogCache for when it reloads. */
  catalog(): Promise<CatalogSnapshot> {
    return this.#catalog.get();
  }

  invalidateCatalog(): void {
    this.#catalog.invalidate();
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
