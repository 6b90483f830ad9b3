import type { AuditEvent } from './events.js';
import type { EventRow } from './chain.js';
import type { AnchorRow, CheckpointRow } from './checkpoint.js';

/** The filters `sessions list` and the HTTP API offer. */
export interface SessionQuery {
  readonly subject?: string | undefined;
  readonly connection?: string | undefined;
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  /** Sessions with at least one statement decided this way. */
  readonly action?: 'allow' | 'deny' | 'review' | undefined;
  /** Keyset pagination: only session starts with a smaller seq (newest first). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/**
 * An append-only audit store. Both implementations (SQLite, PostgreSQL) run the same
 * conformance suite (test/audit/store-conformance.ts).
 *
 * Writes come in two strengths: `appendDurable` returns (or resolves) only once the event and
 * everything queued before it is committed, and throws PortcullisError(ERR_AUDIT_UNAVAILABLE)
 * otherwise; `append` queues the event for the next batch and never throws.
 */
export interface AuditStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the store lives, safe to print (no password). */
  readonly location: string;
  appendDurable(event: AuditEvent): void | Promise<void>;
  append(event: AuditEvent): void;
  /** Resolves once everything queued so far is committed (or rejects if it cannot be). */
  flush(): Promise<void>;

  /** Events with seq > afterSeq in seq order, at most `limit`. */
  scan(afterSeq: number, limit: number): Promise<EventRow[]>;
  checkpoints(): Promise<CheckpointRow[]>;
  /** The newest retention anchor, if retention ever deleted anything. */
  anchor(): Promise<AnchorRow | null>;
  findSessionStarts(q: SessionQuery): Promise<EventRow[]>;
  /** Every event of these sessions (optionally of these types / statement range), in seq order. */
  sessionEvents(sessions: readonly string[], opts?: { types?: readonly string[]; fromStatement?: number; toStatement?: number }): Promise<EventRow[]>;
  /** Statement counts per session, for listings. */
  sessionStats(sessions: readonly string[]): Promise<import('./sql-queries.js').SessionStats[]>;
  /** Sessions this gateway instance started and never ended. */
  openSessions(gateway: string): Promise<string[]>;
  /**
   * Deletes whole segments (events up to a checkpoint) whose last event is older than
   * `cutoffMs`, recording that checkpoint as the anchor. Returns the anchor, or null if nothing
   * was old enough.
   */
  prune(cutoffMs: number): Promise<AnchorRow | null>;
  close(): Promise<void>;
}

export interface StoreWriterOptions {
  /** Open read-only, for the CLI: never creates, migrates or writes. */
  readonly readOnly?: boolean | undefined;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number;
  readonly signer?: import('./checkpoint.js').CheckpointSigner | undefined;
  readonly now: () => number;
  /** Told about failures of asynchronous (non-durable) writes, which have no caller to throw to. */
  readonly onAsyncError: (err: Error) => void;
}
