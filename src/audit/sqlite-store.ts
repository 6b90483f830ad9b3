import Database from 'better-sqlite3';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PortcullisError } from '../errors/portcullis-error.js';
import { GENESIS_HASH, seal, type ChainHead, type EventRow } from './chain.js';
import type { AnchorRow, CheckpointRow } from './checkpoint.js';
import { CheckpointPolicy } from './checkpoint-policy.js';
import type { AuditEvent } from './events.js';
import { decodeRecords, encodeRecords, journalPath, lockPath } from './journal.js';
import { EVENT_COLUMNS, openSessionsQuery, sessionStatsQuery, toSessionStats, type SessionStats, pruneTargetQuery, sessionEventsQuery, sessionStartsQuery, toCheckpointRow, toEventRow, type Dialect } from './sql-queries.js';
import { openWritable, replayJournal } from './sqlite-ingest.js';
import type { IngestReply, IngestRequest } from './sqlite-ingest-worker.js';
import { StoreLock } from './store-lock.js';
import type { AuditStore, SessionQuery, StoreWriterOptions } from './store.js';

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=NORMAL`, written through an
 * append-only journal (`<db>-journal.pcj`, src/audit/journal.ts).
 *
 * Group commit: every event that arrives within one event-loop turn — statements waiting to go
 * upstream, results, session starts and ends — is sealed into the chain and appended to the
 * journal with one `write(2)` on the next `setImmediate`; the promises `appendDurable` handed out
 * in that turn resolve after it. A SQLite commit per turn cost the main thread 75–155 µs per
 * statement (WAL pages for every B-tree, auto-checkpoints) when turns hold one or two
 * statements, as they do behind a real gateway; a write costs a few µs.
 *
 * Ingest: a worker thread with its own connection inserts the journal into SQLite in large
 * transactions (measured against ingesting on the main thread in big batches: 15–22 vs 29–40 µs
 * of main-thread CPU per statement, about the same process CPU; docs/benchmarks.md), every INGEST_MS or when a read needs it. Reads wait until ingest has caught up
 * with everything acknowledged when they were called, so they see what the writer wrote. Once
 * everything is ingested the writer truncates the journal (and a new generation begins).
 *
 * A resolved `appendDurable` means the event is in the journal file: it survives the gateway
 * process being killed (the OS holds the written pages), and the next open replays what ingest
 * had not reached. As with WAL under NORMAL, nothing is fsynced per batch, so a power loss or
 * kernel crash may lose the last batches. docs/audit.md states this trade.
 *
 * One writer per file (StoreLock): the chain head lives in this process. Read-only stores (the
 * CLI) take no lock; they read the journal's tail beside the tables, so they see acknowledged
 * events that a running — or crashed — gateway has not ingested yet.
 */

const DIALECT: Dialect = { p: () => '?', t: (n) => n };
/** Read-only stores read through views that add the journal's un-ingested tail. */
const OVERLAY_DIALECT: Dialect = { p: () => '?', t: (n) => (n === 'anchors' ? n : `v_${n}`) };

/** Pending asynchronous events beyond this are dropped (and reported) rather than growing without bound. */
const MAX_PENDING = 10_000;
const RETRY_MS = 1000;
/**
 * How long a result or session event may wait for a statement to share its write. Under load
 * one always comes within the turn; when none does, this bounds what a killed process loses of
 * results (never of statements, which are journaled before they go upstream).
 */
const ASYNC_DELAY_MS = 10;
/** Queued events beyond this are written without waiting for a statement. */
const ASYNC_BATCH = 1000;
/** How long journaled events wait for ingest: long enough that one SQLite commit carries thousands of rows. */
const INGEST_MS = 50;
/** A journal this far ahead of ingest means ingest is stuck: refuse rather than fill the disk. */
const MAX_JOURNAL_BYTES = 1 << 30;

interface Position {
  readonly gen: number;
  readonly off: number;
}

interface CatchUp extends Position {
  resolve(): void;
  reject(err: Error): void;
}

export class SqliteStore implements AuditStore {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #path: string;
  readonly #journal: string;
  readonly #opts: StoreWriterOptions;
  readonly #policy: CheckpointPolicy;
  readonly #dialect: Dialect;
  #db: Database.Database | undefined;
  #lock: StoreLock | undefined;
  #ino: number | undefined;
  #head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  #failure: string | undefined;
  #lastOpenAttempt = 0;
  #pending: AuditEvent[] = [];
  /** The durable events among #pending: a failed write refuses them instead of retrying them. */
  #durable: AuditEvent[] = [];
  /** Settled by the write of #pending; created by the first durable event of a batch. */
  #waiters: Waiters | undefined;
  #immediate = false;
  #delayed = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  // The journal and its ingest (writers only).
  #jfd: number | undefined;
  #jino: number | undefined;
  #gen = 0;
  #off = 0;
  #ingested: Position = { gen: 0, off: 0 };
  #inFlight = 0;
  #ingestTimer: NodeJS.Timeout | undefined;
  #ingestFailure: string | undefined;
  #catchUps: CatchUp[] = [];
  #worker: Worker | undefined;

  // The journal overlay (read-only stores).
  #overlay: { readonly clear: () => void; readonly load: (rows: readonly EventRow[], cps: readonly CheckpointRow[]) => void } | undefined;

  constructor(path: string, opts: StoreWriterOptions) {
    this.#path = resolve(path);
    this.#journal = journalPath(this.#path);
    this.location = `sqlite:${this.#path}`;
    this.#opts = opts;
    this.#dialect = opts.readOnly ? OVERLAY_DIALECT : DIALECT;
    this.#policy = new CheckpointPolicy(opts.checkpointEvery, opts.checkpointIntervalMs, opts.signer);
    this.#tryOpen();
    if (!opts.readOnly) {
      // One timer for four jobs: idle checkpoints, retrying queued writes and a failed ingest, noticing files vanish.
      this.#timer = setInterval(() => this.#tick(), Math.min(RETRY_MS, opts.checkpointIntervalMs));
      this.#timer.unref();
    }
  }

  #tryOpen(): void {
    this.#lastOpenAttempt = Date.now();
    if (this.#opts.readOnly) {
      try {
        this.#db = new Database(this.#path, { readonly: true, fileMustExist: true });
        this.#overlay = overlay(this.#db);
      } catch (e) {
        this.#db?.close();
        this.#db = undefined;
        this.#failure = `cannot open ${this.location}: ${describe(e)}`;
      }
      return;
    }
    let what = this.location;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      this.#lock ??= StoreLock.acquire(lockPath(this.#path), this.location);
      const db = openWritable(this.#path);
      this.#db = db;
      what = `${this.location} (its journal ${this.#journal})`;
      // A previous process may have died before its ingest caught up: its acknowledged events come first.
      replayJournal(db, this.#journal);
      const jfd = openSync(this.#journal, 'a');
      this.#jfd = jfd;
      ftruncateSync(jfd, 0);
      this.#jino = statSync(this.#journal).ino;
      this.#ino = statSync(this.#path).ino;
      this.#loadHead();
      this.#startIngest();
      this.#failure = undefined;
    } catch (e) {
      if (this.#jfd !== undefined) closeSync(this.#jfd);
      this.#jfd = undefined;
      this.#db?.close();
      this.#db = undefined;
      // A second writer is a deployment mistake, not an outage: the gateway must not start.
      if (e instanceof PortcullisError) throw e;
      this.#lock?.release();
      this.#lock = undefined;
      this.#failure = `cannot open ${what}: ${describe(e)}`;
    }
  }

  #loadHead(): void {
    const db = this.#db!;
    const last = db.prepare('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const anchor = this.#anchorSync();
    this.#head = last ?? (anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH });
    const cp = db.prepare('SELECT seq, time_ms FROM checkpoints ORDER BY seq DESC LIMIT 1').get() as { seq: number; time_ms: number } | undefined;
    this.#policy.reset(cp ? { seq: cp.seq, timeMs: cp.time_ms } : anchor, this.#opts.now());
  }

  #startIngest(): void {
    this.#gen = 0;
    this.#off = 0;
    this.#ingested = { gen: 0, off: 0 };
    this.#inFlight = 0;
    const workerData = { dbPath: this.#path, journal: this.#journal };
    let worker: Worker;
    if (import.meta.url.endsWith('.ts')) {
      // Run from source (tests, bench without --dist): tsx's hooks are per thread, so the worker registers them itself.
      const tsx = (import.meta as { resolve(s: string): string }).resolve('tsx/esm/api');
      const entry = new URL('./sqlite-ingest-worker.ts', import.meta.url).href;
      worker = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData });
    } else {
      worker = new Worker(new URL('./sqlite-ingest-worker.js', import.meta.url), { workerData });
    }
    worker.unref();
    worker.on('message', (m: IngestReply) => this.#onIngestReply(m));
    worker.on('error', (e) => {
      this.#worker = undefined;
      this.#onIngestReply({ type: 'failed', message: `the ingest thread failed: ${describe(e)}` });
    });
    this.#worker = worker;
  }

  #writable(): Database.Database {
    if (this.#closed) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} is closed`);
    if (this.#opts.readOnly) throw new TypeError('SqliteStore: opened read-only');
    if (!this.#db && Date.now() - this.#lastOpenAttempt >= RETRY_MS && this.#failure?.startsWith('cannot open')) this.#tryOpen();
    if (this.#failure !== undefined || !this.#db) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store is unavailable: ${this.#failure ?? 'not open'}`);
    if (this.#ingestFailure !== undefined) throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} cannot take in its journal: ${this.#ingestFailure}`);
    return this.#db;
  }

  /** Seals `events` (after anything pending), journals them with one write, then checkpoints if due. */
  #commit(events: readonly AuditEvent[], forceCheckpoint = false): void {
    this.#writable();
    const rows = seal(this.#head, events);
    const head = rows.length ? { seq: rows[rows.length - 1]!.seq, hash: rows[rows.length - 1]!.hash } : this.#head;
    const cp = this.#policy.due(head, this.#opts.now(), forceCheckpoint);
    if (rows.length === 0 && !cp) return;
    this.#journalWrite(Buffer.from(encodeRecords(rows, cp), 'utf8'));
    this.#head = head;
    if (cp) this.#policy.committed(cp);
    this.#scheduleIngest();
  }

  #journalWrite(buf: Buffer): void {
    const fd = this.#jfd!;
    if (this.#off + buf.length > MAX_JOURNAL_BYTES) {
      throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit journal ${this.#journal} is ${this.#off} bytes behind ingest into ${this.location}`);
    }
    let written = 0;
    let err: unknown;
    try {
      written = writeSync(fd, buf);
    } catch (e) {
      err = e;
    }
    if (err === undefined && written === buf.length) {
      this.#off += written;
      return;
    }
    // A partial record must not stay in front of the next batch: cut it off, or stop writing.
    try {
      if (written > 0) ftruncateSync(fd, this.#off);
    } catch {
      this.#failure = `the audit journal ${this.#journal} holds a partial write that could not be removed`;
    }
    const why = err === undefined ? `short write (${written} of ${buf.length} bytes)` : describe(err);
    throw new PortcullisError('ERR_AUDIT_UNAVAILABLE', `cannot write to the audit journal ${this.#journal}: ${why}`, { cause: err });
  }

  #scheduleIngest(): void {
    if (this.#ingestTimer) return;
    this.#ingestTimer = setTimeout(this.#kickIngest, INGEST_MS);
    this.#ingestTimer.unref();
  }

  /** Asks ingest for everything written so far. */
  readonly #kickIngest = (): void => {
    if (this.#ingestTimer) clearTimeout(this.#ingestTimer);
    this.#ingestTimer = undefined;
    const gen = this.#gen;
    const upTo = this.#off;
    if (this.#ingested.gen === gen && this.#ingested.off >= upTo) return;
    if (!this.#worker) return;
    this.#inFlight++;
    // Held only while a reply is due: someone may be awaiting it, and an idle store must not keep the process alive.
    this.#worker.ref();
    this.#worker.postMessage({ type: 'ingest', gen, upTo } satisfies IngestRequest);
  };

  #onIngestReply(m: IngestReply): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    if (this.#inFlight === 0) this.#worker?.unref();
    if (m.type === 'failed') {
      const first = this.#ingestFailure === undefined;
      this.#ingestFailure = m.message;
      const err = new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} cannot take in its journal: ${m.message}`);
      for (const c of this.#catchUps.splice(0)) c.reject(err);
      if (first) this.#opts.onAsyncError(err);
      return;
    }
    this.#ingestFailure = undefined;
    this.#ingested = { gen: m.gen, off: m.upTo };
    this.#catchUps = this.#catchUps.filter((c) => {
      if (!reached(this.#ingested, c)) return true;
      c.resolve();
      return false;
    });
    // Only while nothing is in flight does ingest have no read pending on this file.
    if (this.#inFlight === 0 && m.gen === this.#gen && m.upTo === this.#off && this.#off > 0 && this.#jfd !== undefined) {
      try {
        ftruncateSync(this.#jfd, 0);
        this.#gen++;
        this.#off = 0;
        this.#ingested = { gen: this.#gen, off: 0 };
      } catch {
        // Not fatal: the journal keeps growing and ingest keeps reading it where it left off.
      }
    }
  }

  /** Resolves once ingest has caught up with everything journaled so far. */
  #caughtUp(): Promise<void> {
    if (this.#opts.readOnly) {
      this.#refreshOverlay();
      return Promise.resolve();
    }
    const target = { gen: this.#gen, off: this.#off };
    if (this.#jfd === undefined || reached(this.#ingested, target)) return Promise.resolve();
    if (this.#ingestFailure !== undefined) {
      return Promise.reject(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} cannot take in its journal: ${this.#ingestFailure}`));
    }
    return new Promise<void>((resolve, reject) => {
      this.#catchUps.push({ ...target, resolve, reject });
      this.#kickIngest();
    });
  }

  /** Loads the journal's valid records into the read-only overlay; rows already in the tables are hidden by its views. */
  #refreshOverlay(): void {
    if (!this.#overlay) return;
    let buf: Buffer;
    try {
      buf = readFileSync(this.#journal);
    } catch {
      this.#overlay.clear();
      return;
    }
    const { records } = decodeRecords(buf);
    const rows: EventRow[] = [];
    const cps: CheckpointRow[] = [];
    for (const r of records) {
      if (r.kind === 'event') rows.push(r.row);
      else cps.push(r.cp);
    }
    this.#overlay.load(rows, cps);
  }

  /**
   * Queues the event for this turn's batch; resolves once that batch is journaled. Throws at
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
   * Journals the queue with one write and settles its waiters. On failure the durable events
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

  /** Journals anything queued, then waits until ingest has put it into the tables. */
  async flush(): Promise<void> {
    if (this.#pending.length) this.#commitPending();
    await this.#caughtUp();
  }

  #tick(): void {
    if (this.#db && this.#failure === undefined) {
      // A deleted or replaced file would silently swallow writes into an unlinked inode.
      const vanished = inode(this.#path) !== this.#ino ? 'database' : inode(this.#journal) !== this.#jino ? 'journal' : undefined;
      if (vanished) {
        this.#failure = `the ${vanished} file was removed or replaced while the gateway was running`;
        this.#opts.onAsyncError(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit store ${this.location}: ${this.#failure}`));
        return;
      }
    }
    // A failed ingest is retried here; statements stay refused until it succeeds.
    if (this.#ingestFailure !== undefined && this.#inFlight === 0) this.#kickIngest();
    if (this.#pending.length) {
      try {
        this.#commitPending();
      } catch (e) {
        this.#opts.onAsyncError(e as Error);
      }
    } else if (this.#db && this.#failure === undefined && this.#ingestFailure === undefined) {
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

  /** Runs a read once every event acknowledged before the call is in the tables (or the overlay). */
  #read<T>(fn: () => T): Promise<T> {
    return this.#caughtUp().then(
      () => attempt(fn),
      (e: unknown) => Promise.reject(e as Error),
    );
  }

  scan(afterSeq: number, limit: number): Promise<EventRow[]> {
    return this.#read(() => this.#all(`SELECT ${EVENT_COLUMNS} FROM ${this.#dialect.t('events')} WHERE seq > ? ORDER BY seq LIMIT ?`, [afterSeq, limit]).map(toEventRow));
  }

  checkpoints(): Promise<CheckpointRow[]> {
    return this.#read(() => this.#all(`SELECT seq, hash, time_ms, key_id, signature FROM ${this.#dialect.t('checkpoints')} ORDER BY seq`, []).map(toCheckpointRow));
  }

  #anchorSync(): AnchorRow | null {
    const r = this.#reader().prepare('SELECT seq, hash, time_ms, key_id, signature FROM anchors ORDER BY seq DESC LIMIT 1').get() as Record<string, unknown> | undefined;
    return r ? toCheckpointRow(r) : null;
  }

  anchor(): Promise<AnchorRow | null> {
    return attempt(() => this.#anchorSync());
  }

  findSessionStarts(q: SessionQuery): Promise<EventRow[]> {
    return this.#read(() => {
      const { sql, params } = sessionStartsQuery(this.#dialect, q);
      return this.#all(sql, params).map(toEventRow);
    });
  }

  sessionEvents(sessions: readonly string[], opts?: { types?: readonly string[]; fromStatement?: number; toStatement?: number }): Promise<EventRow[]> {
    if (sessions.length === 0) return Promise.resolve([]);
    return this.#read(() => {
      const { sql, params } = sessionEventsQuery(this.#dialect, sessions, opts);
      return this.#all(sql, params).map(toEventRow);
    });
  }

  sessionStats(sessions: readonly string[]): Promise<SessionStats[]> {
    if (sessions.length === 0) return Promise.resolve([]);
    return this.#read(() => this.#all(sessionStatsQuery(this.#dialect, sessions), sessions).map(toSessionStats));
  }

  openSessions(gateway: string): Promise<string[]> {
    return this.#read(() =>
      this.#all(openSessionsQuery(this.#dialect), [])
        .map(toEventRow)
        .filter((r) => (JSON.parse(r.body) as { gateway?: string }).gateway === gateway)
        .map((r) => r.session),
    );
  }

  async prune(cutoffMs: number): Promise<AnchorRow | null> {
    // Segments are cut at checkpoints, which must be in the tables first.
    await this.flush().catch((e: unknown) => Promise.reject(e instanceof PortcullisError ? e : new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit store: ${describe(e)}`, { cause: e })));
    return attempt(() => {
      const db = this.#writable();
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

  /** Journals anything queued, synchronously; throws ERR_AUDIT_UNAVAILABLE when it cannot. Ingest follows on its own. */
  flushSync(): void {
    if (this.#pending.length) this.#commitPending();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    let err: unknown;
    try {
      if (!this.#opts.readOnly && this.#db && this.#failure === undefined) {
        this.#commitPending(true);
        await this.#caughtUp();
      }
    } catch (e) {
      err = e;
    }
    this.#closed = true;
    if (this.#ingestTimer) clearTimeout(this.#ingestTimer);
    // A store that was already down leaves its last batch unwritten: its statements must not wait forever.
    const closed = new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} is closed`);
    this.#waiters?.reject(closed);
    this.#waiters = undefined;
    for (const c of this.#catchUps.splice(0)) c.reject(closed);
    await this.#stopIngest();
    if (this.#jfd !== undefined) {
      closeSync(this.#jfd);
      this.#jfd = undefined;
      // Fully ingested, the journal says nothing the tables do not; otherwise the next open replays it.
      if (err === undefined && this.#ingestFailure === undefined && reached(this.#ingested, { gen: this.#gen, off: this.#off })) {
        try {
          unlinkSync(this.#journal);
        } catch {
          // Left behind, it is replayed (as a no-op) at the next open.
        }
      }
    }
    this.#db?.close();
    this.#db = undefined;
    this.#lock?.release();
    this.#lock = undefined;
    if (err !== undefined) throw err;
  }

  async #stopIngest(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (!worker) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies IngestRequest);
    await exited;
  }
}

function reached(at: Position, target: Position): boolean {
  return at.gen > target.gen || (at.gen === target.gen && at.off >= target.off);
}

function inode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Temp tables holding the journal's records and views that add them to the real tables, for a
 * read-only connection (temp objects are the connection's own; the file is never written).
 */
function overlay(db: Database.Database): { clear(): void; load(rows: readonly EventRow[], cps: readonly CheckpointRow[]): void } {
  db.exec(`
    CREATE TEMP TABLE j_events AS SELECT ${EVENT_COLUMNS} FROM main.events WHERE 0;
    CREATE TEMP TABLE j_checkpoints AS SELECT seq, hash, time_ms, key_id, signature FROM main.checkpoints WHERE 0;
    CREATE TEMP VIEW v_events AS SELECT ${EVENT_COLUMNS} FROM main.events
      UNION ALL SELECT ${EVENT_COLUMNS} FROM j_events WHERE seq > (SELECT coalesce(max(seq), 0) FROM main.events) AND seq > (SELECT coalesce(max(seq), 0) FROM main.anchors);
    CREATE TEMP VIEW v_checkpoints AS SELECT seq, hash, time_ms, key_id, signature FROM main.checkpoints
      UNION ALL SELECT seq, hash, time_ms, key_id, signature FROM j_checkpoints WHERE seq NOT IN (SELECT seq FROM main.checkpoints) AND seq > (SELECT coalesce(max(seq), 0) FROM main.anchors);
  `);
  const clearAll = db.prepare('DELETE FROM j_events');
  const clearCps = db.prepare('DELETE FROM j_checkpoints');
  const ins = db.prepare(`INSERT OR IGNORE INTO j_events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insCp = db.prepare('INSERT OR IGNORE INTO j_checkpoints (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?)');
  const clear = (): void => {
    clearAll.run();
    clearCps.run();
  };
  const load = db.transaction((rows: readonly EventRow[], cps: readonly CheckpointRow[]) => {
    clear();
    for (const r of rows) ins.run(r.seq, r.timeMs, r.type, r.session, r.statement, r.subject, r.connection, r.action, r.prevHash, r.hash, r.body);
    for (const c of cps) insCp.run(c.seq, c.hash, c.timeMs, c.keyId, c.signature);
  });
  return { clear, load };
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
