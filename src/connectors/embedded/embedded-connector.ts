import type { Connector, QueryRequest, QueryResult, WireOpenOptions, WireUpstream } from '../connector.js';
import type { EmbeddedConnectionConfig } from '../../config/schema.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { openUpstream } from '../postgres/handshake.js';
import { startEmbeddedServer, type EmbeddedServer } from './embedded-server.js';
import { CatalogCache } from '../catalog-cache.js';
import type { CatalogSnapshot } from '../catalog-snapshot.js';
import { loadEmbeddedCatalog } from './catalog-query.js';
import { EMBEDDED_DATABASE, EMBEDDED_ROLE } from './wire-session.js';
import { queryPglite } from './driver-query.js';

/** Loopback, no TLS, no password: the handshake completes in well under a second. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * PostgreSQL in this process (PGlite), served on 127.0.0.1 for the wire path. Used by
 * `portcullis demo` and by tests that need a database without Docker.
 *
 * @example
 * const c = new EmbeddedConnector('demo', { type: 'embedded', seed: 'demo' });
 * await c.start();
 * const up = await c.openWire({ applicationName: 'portcullis:alice', parameters: new Map() });
 */
export class EmbeddedConnector implements Connector {
  readonly type = 'embedded';
  readonly dialect = 'postgres' as const;
  readonly name: string;
  readonly #config: EmbeddedConnectionConfig;
  #starting: Promise<EmbeddedServer> | undefined;

  constructor(name: string, config: EmbeddedConnectionConfig) {
    this.name = name;
    this.#config = config;
  }

  /** For logs: where the embedded server listens once started. */
  describe(): string {
    const where = this.#config.data_dir === undefined ? 'in memory' : `in ${this.#config.data_dir}`;
    return `embedded PGlite ${where}, seed ${this.#config.seed}`;
  }

  start(): Promise<void> {
    return this.#server().then(() => undefined);
  }

  /** The running server's address, for tests and `demo` output. Starts it if needed. */
  async address(): Promise<{ host: string; port: number }> {
    const s = await this.#server();
    return { host: s.host, port: s.port };
  }

  async openWire(opts: WireOpenOptions): Promise<WireUpstream> {
    const s = await this.#server();
    return openUpstream({ host: s.host, port: s.port, user: EMBEDDED_ROLE, database: EMBEDDED_DATABASE, connection: this.name }, { ...opts, connectTimeoutMs: CONNECT_TIMEOUT_MS, tls: { mode: 'disable' } });
  }

  /** The driver path: one statement on PGlite between wire sessions' transactions (driver-query.ts). */
  async query(req: QueryRequest): Promise<QueryResult> {
    const s = await this.#server();
    req.signal?.throwIfAborted();
    return s.exclusive((db) => queryPglite(db, req));
  }

  /** Runs `SELECT 1` on PGlite directly (between client transactions) and times it. */
  async health(): Promise<number> {
    const s = await this.#server();
    const started = performance.now();
    try {
      await s.exclusive((db) => db.query('SELECT 1'));
    } catch (err) {
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.name}": the embedded database did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return performance.now() - started;
  }

  async close(): Promise<void> {
    const starting = this.#starting;
    this.#starting = undefined;
    if (starting === undefined) return;
    const s = await starting.catch(() => undefined);
    await s?.stop();
  }

  #server(): Promise<EmbeddedServer> {
    this.#starting ??= startEmbeddedServer({
      seed: this.#config.seed,
      ...(this.#config.data_dir === undefined ? {} : { dataDir: this.#config.data_dir }),
    }).catch((err: unknown) => {
      // A failed start may be retried by the next call.
      this.#starting = undefined;
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.name}": the embedded database failed to start: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
    return this.#starting;
  }

  readonly #catalog = new CatalogCache(async (loadedAt) => loadEmbeddedCatalog(await this.#server(), loadedAt));

  /** Read from PGlite between client transactions (catalog-query.ts); see CatalogCache for when it reloads. */
  catalog(): Promise<CatalogSnapshot> {
    return this.#catalog.get();
  }

  invalidateCatalog(): void {
    this.#catalog.invalidate();
  }
}
