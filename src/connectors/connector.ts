import type { Duplex } from 'node:stream';
import type { CatalogSnapshot } from './catalog-snapshot.js';

/**
 * A database the gateway runs statements on. Every connector serves the driver path
 * (`query`, for the HTTP/MCP frontends); connectors whose database speaks the PostgreSQL
 * protocol also serve the wire path (`openWire`), where the pgwire frontend relays bytes.
 */
export interface Connector {
  readonly name: string;
  readonly type: string;
  /** Start background resources (an embedded database, a pool). Idempotent. */
  start(): Promise<void>;
  /** Run one statement for a driver-path frontend (HTTP, MCP). Streams at most `maxRows` rows. */
  query?(req: QueryRequest): Promise<QueryResult>;
  /** Open an authenticated upstream protocol session for the pgwire frontend. */
  openWire?(opts: WireOpenOptions): Promise<WireUpstream>;
  /** Probe the upstream: resolves with round-trip milliseconds or rejects with PortcullisError. */
  health(): Promise<number>;
  /**
   * The upstream's catalog for masking (lineage, RowDescription OIDs): cached, loaded on the
   * first call over a session of its own, reloaded in the background once a minute old.
   * Rejects with PortcullisError when the upstream cannot be read; a catalog too large to
   * hold comes back with `complete: false`, which masking treats as all-unknown.
   */
  catalog?(): Promise<CatalogSnapshot>;
  /** After DDL the gateway let through has committed: the next `catalog()` waits for a fresh load. */
  invalidateCatalog?(): void;
  close(): Promise<void>;
}

export interface WireOpenOptions {
  /** Shown in pg_stat_activity and server logs: `portcullis:<subject>` plus the client's own name. */
  readonly applicationName: string;
  /** Startup parameters the client asked for that are safe to forward (DateStyle, client_encoding, …). */
  readonly parameters: ReadonlyMap<string, string>;
}

/** An upstream PostgreSQL-protocol session, authenticated and ready for query. */
export interface WireUpstream {
  /** The raw byte stream, positioned right after the first ReadyForQuery. */
  readonly socket: Duplex & { setNoDelay?(noDelay?: boolean): unknown; destroy(error?: Error): unknown };
  /** ParameterStatus values the server reported during startup, in order. */
  readonly parameters: ReadonlyMap<string, string>;
  readonly backendPid: number;
  readonly backendSecret: number;
  /** Bytes already received after ReadyForQuery (rare; a server may pipeline a notice). */
  readonly leftover: Buffer | null;
  /** Ask the upstream server to cancel whatever this session is running (a new connection, per protocol). */
  cancel(): Promise<void>;
}

export interface QueryRequest {
  readonly sql: string;
  /** Positional parameters ($1, $2, …) in text form or null. */
  readonly params?: readonly (string | null)[] | undefined;
  /** Rows to return at most; the connector stops reading (and sets `truncated`) past it. */
  readonly maxRows: number;
  readonly timeoutMs?: number | undefined;
  /** As for the wire path: `portcullis:<subject>` so the database's own logs can attribute. */
  readonly applicationName: string;
  /** Abort the statement upstream (the caller went away). */
  readonly signal?: AbortSignal | undefined;
}

export interface ResultColumn {
  readonly name: string;
  readonly typeOid: number;
  /** Source table OID and attribute number when the column is a plain table column, else 0. */
  readonly tableOid: number;
  readonly attnum: number;
}

export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  /** Values in PostgreSQL text form (null for NULL), as the wire path would show them. */
  readonly rows: (string | null)[][];
  /** Rows returned, or affected for writes; null when the command reports none. */
  readonly rowCount: number | null;
  /** The command tag, e.g. `SELECT 3`, `INSERT 0 1`. */
  readonly command: string;
  readonly truncated: boolean;
  readonly notices: readonly string[];
}
