import type { Duplex } from 'node:stream';
import type { CatalogSnapshot } from './catalog-snapshot.js';
import type { SnowflakeColumnType } from '../codecs/snowflake/rowtype.js';

/** The SQL language a connector's database speaks: which analyzer and lineage read its statements. */
export type SqlDialect = 'postgres' | 'snowflake';

/**
 * A database the gateway runs statements on. Every connector serves the driver path
 * (`query`, for the HTTP/MCP frontends); connectors whose database speaks the PostgreSQL
 * protocol also serve the wire path (`openWire`), where the pgwire frontend relays bytes.
 */
export interface Connector {
  readonly name: string;
  readonly type: string;
  readonly dialect: SqlDialect;
  /** Start background resources (an embedded database, a pool). Idempotent. */
  start(): Promise<void>;
  /** Run one statement for a driver-path frontend (HTTP, MCP). Streams at most `maxRows` rows. */
  query?(req: QueryRequest): Promise<QueryResult>;
  /**
   * Run one statement and hand its rows over in batches as the caller pulls them, so a large
   * result never sits whole in the gateway. Rejects with PortcullisError (or an error carrying
   * `sqlstate`) when the statement fails before its first row.
   */
  stream?(req: QueryRequest): Promise<RowStream>;
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
  /**
   * Run it in a read-only transaction: it was allowed as a plain read, and a function or view
   * that writes must fail in the database rather than write. Connectors that have no such mode
   * (Snowflake) ignore it; docs/security-model.md says so.
   */
  readonly readOnly?: boolean | undefined;
  /** As for the wire path: `portcullis:<subject>` so the database's own logs can attribute. */
  readonly applicationName: string;
  /** Abort the statement upstream (the caller went away). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Who runs it and where it is recorded, for upstreams that can label a statement (Snowflake's
   * QUERY_TAG), so the database's own history joins the gateway's record.
   */
  readonly context?: StatementContext | undefined;
}

export interface StatementContext {
  readonly subject: string;
  /** The gateway session (the audit log's session id). */
  readonly sessionId: string;
  /** This statement's id, unique per execution. */
  readonly requestId: string;
  /** The client-facing frontend: pgwire, http, mcp, snowflake. */
  readonly frontend?: string | undefined;
}

export interface ResultColumn {
  readonly name: string;
  readonly typeOid: number;
  /** Source table OID and attribute number when the column is a plain table column, else 0. */
  readonly tableOid: number;
  readonly attnum: number;
  /** Snowflake's own description of the column (its rowtype entry), when the upstream is Snowflake. */
  readonly snowflake?: SnowflakeColumnType | undefined;
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
  /** The upstream's own id for the statement (Snowflake's query id), when it has one. */
  readonly queryId?: string | undefined;
}

/** How a streamed statement ended; complete once the batches are exhausted. */
export interface StreamOutcome {
  readonly rowCount: number | null;
  readonly command: string;
  readonly truncated: boolean;
  readonly notices: readonly string[];
  readonly queryId?: string | undefined;
}

/**
 * A statement's result, pulled batch by batch (pulling is the back-pressure). Values are in
 * the same text form as `QueryResult.rows`.
 */
export interface RowStream extends AsyncIterable<(string | null)[][]> {
  readonly columns: readonly ResultColumn[];
  /** Throws when read before the batches are exhausted. */
  outcome(): StreamOutcome;
  /** Stop early: the upstream statement is cancelled and its resources released. Idempotent. */
  close(): Promise<void>;
}
