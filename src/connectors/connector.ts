import type { Duplex } from 'node:stream';

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
  /** Open an authenticated upstream protocol session for the pgwire frontend. */
  openWire?(opts: WireOpenOptions): Promise<WireUpstream>;
  /** Probe the upstream: resolves with round-trip milliseconds or rejects with PortcullisError. */
  health(): Promise<number>;
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
