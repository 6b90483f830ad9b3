import Database from 'better-sqlite3';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PortcullisError } from '../errors/portcullis-error.js';
import { GENESIS_HASH, seal, type ChainHead, type EventRow } from './chain.js';
import type { AnchorRow, CheckpointRow } from './checkpoint.js';
import { CheckpointPolicy } from './checkpoint-policy.js';
import type { AuditEvent } from './events.js';
import { EVENT_COLUMNS, openSessionsQuery, sessionStatsQuery, toSessionStats, type SessionStats, pruneTargetQuery, sessionEventsQuery, sessionStartsQuery, toCheckpointRow, toEventRow, type Dialect } from './sql-queries.js';
import type { AuditStore, SessionQuery, StoreWriterOptions } from './store.js';

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=NORMAL`.
 *
 * Group commit: every event that arrives within one event-loop turn — statements waiting to go
 * upstream, results, session starts and ends — is sealed and committed in one transaction on
 * the next `setImmediate`, and the promises `appendDurable` handed out in that turn resolve
 * after its COMMIT. A commit costs whole WAL pages for every B-tree it touches, so one per turn
 * instead of one per statement is most of what recording costs; the statements of a turn wait
 * for nothing but the end of that turn.
 *
 * A resolved `appendDurable` means the transaction is committed to the WAL: it survives the
 * gateway process being killed (the OS holds the written pages). Under NORMAL, the WAL is
 * fsynced at checkpoints, not at each commit, so a power loss or kernel crash may lose the last
 * commits; `synchronous=FULL` would close that gap at the cost of one fsync per batch.
 * docs/audit.md states this trade.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  type TEXT NOT NULL,
  session TEXT NOT NULL,
  statement INTEGER,
  subject TEXT,
  connection TEXT,
  action TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_session ON events (session, seq);
CREATE INDEX IF NOT EXISTS events_type_time ON events (type, time_ms);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time_ms INTEGER NOT NULL, key_id TEXT, signature TEXT);
CREATE TABLE IF NOT EXISTS anchors (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time_ms INTEGER NOT NULL, key_id TEXT, signature TEXT);
`;

const DIALECT: Dialect = { p: () => '?', t: (n) => n };

/** Pending asynchronous events beyond this are dropped (and reported) rather than growing without bound. */
const MAX_PENDING = 10_000;
const RETRY_MS = 1000;
/**
 * How long a result or session event may wait for a statement to share its commit. Under load
 * one always comes within the turn; when none does, this bounds what a killed process loses of
 * results (never of statements, which are committed before they go upstream).
 */
const ASYNC_DELAY_MS = 10;
/** Queued events beyond this are committed without waiting for a statement. */
const ASYNC_BATCH = 1000;

export class SqliteStore implements AuditStore {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #path: string;
  readonly #opts: StoreWriterOptions;
  readonly #policy: CheckpointPolicy;
  #db: Database.Database | undefined;
  #ino: number | undefined;
  #insert: Database.Statement | undefined;
  #insertBatch: ((rows: readonly EventRow[], cp: CheckpointRow | null) => void) | undefined;
  #head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  #headStale = true;
  #failure: string | undefined;
  #lastOpenAttempt = 0;
  #pending: AuditEvent[] = [];
  /** The durable events among #pending: a failed commit refuses them instead of retrying them. */
  #durable: AuditEvent[] = [];
  /** Settled by the commit of #pending; created by the first durable event of a batch. */
  #waiters: Waiters | undefined;
  #immediate = false;
  #delayed = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string, opts: StoreWriterOptions) {
    this.#path = resolve(path);
    this.location = `sqlite:${this.#path}`;
    this.#opts = opts;
    this.#policy = new CheckpointPolicy(opts.checkpointEvery, opts.checkpointIntervalMs, opts.signer);
    this.#tryOpen();
    if (!opts.readOnly) {
      // One timer for three jobs: idle checkpoints, retrying queued writes, noticing the file vanish.
      this.#timer = setInterval(() => this.#tick(), Math.min(RETRY_MS, opts.checkpointIntervalMs));
      this.#timer.unref();
    }
  }

  #tryOpen(): void {
    this.#lastOpenAttempt = Date.now();
    try {
      if (this.#opts.readOnly) {
        this.#db = new Database(this.#path, { readonly: true, fileMustExist: true });
      } else {
        mkdirSync(dirname(this.#path), { recursive: true });
        const db = new Database(this.#path);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.pragma('busy_timeout = 2000');
        db.exec(SCHEMA);
        this.#insert = db.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
        const insertCheckpoint = db.prepare('INSERT INTO checkpoints (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?)');
        this.#insertBatch = db.transaction((rows: readonly EventRow[], cp: CheckpointRow | null) => {
          for (const r of rows) this.#insertRow(r);
          if (cp) insertCheckpoint.run(cp.seq, cp.hash, cp.timeMs, cp.keyId, cp.signature);
        });
        this.#db = db;
        this.#ino = statSync(this.#path).ino;
        this.#loadHead();
      }
      this.#failure = undefined;
    } catch (e) {
      this.#db?.close();
      this.#db = undefined;
      this.#failure = `cannot open ${this.location}: ${describe(e)}`;
    }
  }

  #loadHead(): void {
    const db = this.#db!;
    const last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const anchor = this.#anchorSync();
    this.#head = last ?? (anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH });
    const cp = db.prepare('SELECT seq, time_ms FROM checkpoints ORDER BY seq DESC LIMIT 1').get() as { seq: number; time_ms: number } | undefined;
    this.#policy.reset(cp ? { seq: cp.seq, timeMs: cp.time_ms } : anchor, this.#opts.now());
    this.#headStale = false;
  }

  #writable(): Database.Database {
    if (this.#closed) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} is closed`);
    if (this.#opts.readOnly) throw new TypeError('SqliteStore: opened read-only');
    if (!this.#db && Date.now() - this.#lastOpenAttempt >= RETRY_MS && this.#failure?.startsWith('cannot open')) this.#tryOpen();
    if (this.#failure !== undefined || !this.#db) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store is unavailable: ${this.#failure ?? 'not open'}`);
    return this.#db;
  }

  /** Seals and commits `events` (after anything pending) in one transaction, then checkpoints if due. */
  #commit(events: readonly AuditEvent[], forceCheckpoint = false): void {
    const db = this.#writable();
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.#headStale) this.#loadHead();
        const rows = seal(this.#head, events);
        const head = rows.length ? { seq: rows[rows.length - 1]!.seq, hash: rows[rows.length - 1]!.hash } : this.#head;
        const cp = this.#policy.due(head, this.#opts.now(), forceCheckpoint);
        if (rows.length === 0 && !cp) return;
        // One row alone is its own (autocommit) transaction: measurably cheaper than BEGIN/COMMIT.
        if (rows.length === 1 && !cp) this.#insertRow(rows[0]!);
        else this.#insertBatch!(rows, cp);
        this.#head = head;
        if (cp) this.#policy.committed(cp);
        return;
      } catch (e) {
        this.#headStale = true;
        // Another writer appended (a second gateway on the same file): re-read the head and re-chain.
        if (attempt < 3 && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') continue;
        throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `cannot write to the audit store ${this.location}: ${describe(e)}`, { cause: e });
      }
    }
  }

  #insertRow(r: EventRow): void {
    this.#insert!.run(r.seq, r.timeMs, r.type, r.session, r.statement, r.subject, r.connection, r.action, r.prevHash, r.hash, r.body);
  }

  /**
   * Queues the event for this turn's batch; resolves once that batch is committed. Throws at
   * once, without queueing, when the store is already known to be down or closed.
   */
  appendDurable(event: AuditEvent): Promise<void> {
    this.#writable();
    this.#pending.push(event);
    this.#durable.push(event);
    this.#scheduleNow();
    return (this.#waiters ??= waiters()).promise;
  }

  append(event: AuditEvent): void {
    if (this.#pending.length >= MAX_PENDING) {
      this.#opts.onAsyncError(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit queue full (${MAX_PENDING}); dropped a ${event.type} event`));
      return;
    }
    this.#pending.push(event);
    if (this.#pending.length >= ASYNC_BATCH) this.#scheduleNow();
    else if (!this.#delayed && !this.#immediate) {
      this.#delayed = true;
      setTimeout(this.#onDelayed, ASYNC_DELAY_MS);
    }
  }

  #scheduleNow(): void {
    if (this.#immediate) return;
    this.#immediate = true;
    // setImmediate, not a microtask: the batch then holds everything this turn's socket reads produced.
    setImmediate(this.#onImmediate);
  }

  readonly #onImmediate = (): void => {
    this.#immediate = false;
    this.#flushQueued();
  };

  readonly #onDelayed = (): void => {
    this.#delayed = false;
    this.#flushQueued();
  };

  #flushQueued(): void {
    if (this.#pending.length === 0 || this.#closed) return;
    try {
      this.#commitPending();
    } catch (e) {
      // Durable callers got the error through their promise; queued events have no one else to tell.
      if (this.#pending.length) this.#opts.onAsyncError(e as Error);
    }
  }

  /**
   * Commits the queue in one transaction and settles its waiters. On failure the durable events
   * are dropped — their callers are told and refuse the statement, so a later batch must not
   * record them as if they had run — and the queued ones stay for the next attempt.
   */
  #commitPending(forceCheckpoint = false): void {
    const events = this.#pending;
    const durable = this.#durable;
    const w = this.#waiters;
    this.#pending = [];
    this.#durable = [];
    this.#waiters = undefined;
    try {
      this.#commit(events, forceCheckpoint);
    } catch (e) {
      if (durable.length === 0) this.#pending = events;
      else {
        const refused = new Set(durable);
        this.#pending = events.filter((ev) => !refused.has(ev));
      }
      w?.reject(e as Error);
      throw e;
    }
    w?.resolve();
  }

  flush(): Promise<void> {
    try {
      this.flushSync();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  #tick(): void {
    if (this.#db && this.#failure === undefined) {
      // A deleted or replaced file would silently swallow writes into an unlinked inode.
      let ino: number | undefined;
      try {
        ino = statSync(this.#path).ino;
      } catch {
        ino = undefined;
      }
      if (ino !== this.#ino) {
        this.#failure = 'the database file was removed or replaced while the gateway was running';
        this.#opts.onAsyncError(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit store ${this.location}: ${this.#failure}`));
        return;
      }
    }
    if (this.#pending.length) {
      try {
        this.#commitPending();
      } catch (e) {
        this.#opts.onAsyncError(e as Error);
      }
    } else if (this.#db && this.#failure === undefined) {
      try {
        this.#commit([]);
      } catch (e) {
        this.#opts.onAsyncError(e as Error);
      }
    }
  }

  #reader(): Database.Database {
    if (!this.#db) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store is unavailable: ${this.#failure ?? 'not open'}`);
    return this.#db;
  }

  #all(sql: string, params: readonly unknown[]): Record<string, unknown>[] {
    return this.#reader()
      .prepare(sql)
      .all(...params) as Record<string, unknown>[];
  }

  scan(afterSeq: number, limit: number): Promise<EventRow[]> {
    return attempt(() => this.#all(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, [afterSeq, limit]).map(toEventRow));
  }

  checkpoints(): Promise<CheckpointRow[]> {
    return attempt(() => this.#all('SELECT seq, hash, time_ms, key_id, signature FROM checkpoints ORDER BY seq', []).map(toCheckpointRow));
  }

  #anchorSync(): AnchorRow | null {
    const r = this.#reader().prepare('SELECT seq, hash, time_ms, key_id, signature FROM anchors ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown> | undefined;
    return r ? toCheckpointRow(r) : null;
  }

  anchor(): Promise<AnchorRow | null> {
    return attempt(() => this.#anchorSync());
  }

  findSessionStarts(q: SessionQuery): Promise<EventRow[]> {
    return attempt(() => {
      const { sql, params } = sessionStartsQuery(DIALECT, q);
      return this.#all(sql, params).map(toEventRow);
    });
  }

  sessionEvents(sessions: readonly string[], opts?: { types?: readonly string[]; fromStatement?: number; toStatement?: number }): Promise<EventRow[]> {
    if (sessions.length === 0) return Promise.resolve([]);
    return attempt(() => {
      const { sql, params } = sessionEventsQuery(DIALECT, sessions, opts);
      return this.#all(sql, params).map(toEventRow);
    });
  }

  sessionStats(sessions: readonly string[]): Promise<SessionStats[]> {
    if (sessions.length === 0) return Promise.resolve([]);
    return attempt(() => this.#all(sessionStatsQuery(DIALECT, sessions), sessions).map(toSessionStats));
  }

  openSessions(gateway: string): Promise<string[]> {
    return attempt(() =>
      this.#all(openSessionsQuery(DIALECT), [])
        .map(toEventRow)
        .filter((r) => (JSON.parse(r.body) as { gateway?: string }).gateway === gateway)
        .map((r) => r.session),
    );
  }

  prune(cutoffMs: number): Promise<AnchorRow | null> {
    return attempt(() => {
      const db = this.#writable();
      this.flushSync();
      const run = db.transaction((): AnchorRow | null => {
        const r = db.prepare(pruneTargetQuery(DIALECT)).get(cutoffMs) as Record<string, unknown> | undefined;
        if (!r) return null;
        const a = toCheckpointRow(r);
        db.prepare('INSERT OR REPLACE INTO anchors (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?)').run(a.seq, a.hash, a.timeMs, a.keyId, a.signature);
        db.prepare('DELETE FROM events WHERE seq <= ?').run(a.seq);
        db.prepare('DELETE FROM checkpoints WHERE seq <= ?').run(a.seq);
        return a;
      });
      try {
        return run.immediate();
      } catch (e) {
        throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `cannot apply retention to ${this.location}: ${describe(e)}`, { cause: e });
      }
    });
  }

  /** Commits anything queued, synchronously; throws ERR_AUDIT_UNAVAILABLE when it cannot. */
  flushSync(): void {
    if (this.#pending.length) this.#commitPending();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#timer) clearInterval(this.#timer);
    let err: unknown;
    try {
      if (!this.#opts.readOnly && this.#db && this.#failure === undefined) this.#commitPending(true);
    } catch (e) {
      err = e;
    }
    this.#closed = true;
    // A store that was already down leaves its last batch unwritten: its statements must not wait forever.
    this.#waiters?.reject(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} is closed`));
    this.#waiters = undefined;
    this.#db?.close();
    this.#db = undefined;
    return err === undefined ? Promise.resolve() : Promise.reject(err as Error);
  }
}

interface Waiters {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/** One promise per batch, not per statement: every caller of the batch awaits the same commit. */
function waiters(): Waiters {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Each caller handles the rejection on its own chain; this one must not count as unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    if (e instanceof PortcullisError) return Promise.reject(e);
    return Promise.reject(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit store read failed: ${describe(e)}`, { cause: e }));
  }
}

/** SQLite error codes and messages name files and conditions, never credentials. */
function describe(e: unknown): string {
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}
