import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import type { EventRow } from './chain.js';
import type { CheckpointRow } from './checkpoint.js';
import { decodeRecords, type JournalRecord } from './journal.js';
import { EVENT_COLUMNS } from './sql-queries.js';

/**
 * Every index costs each of a statement's two rows an insert (~1.5 µs each here). Listings walk
 * only session starts, newest first, so a partial index holds just those, in seq order; the
 * planner uses it without statistics (SQLite's ANALYZE never runs on this file).
 */
export const SQLITE_SCHEMA = `
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
DROP INDEX IF EXISTS events_type_time;
CREATE INDEX IF NOT EXISTS events_session_starts ON events (seq) WHERE type = 'session.start';
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time_ms INTEGER NOT NULL, key_id TEXT, signature TEXT);
CREATE TABLE IF NOT EXISTS anchors (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, time_ms INTEGER NOT NULL, key_id TEXT, signature TEXT);
`;

/** How long the ingest thread waits for a competing writer's lock before ingest counts as failed. */
const INGEST_BUSY_TIMEOUT_MS = 10_000;

/** A read-write connection with the store's settings; creates the tables on first use. */
export function openWritable(path: string, busyTimeoutMs = 2000): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
    db.exec(SQLITE_SCHEMA);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/** Inserts journal records in one transaction, skipping what the table already holds (a replay after a crash mid-ingest). */
export function recordInserter(db: Database.Database): (records: readonly JournalRecord[]) => number {
  const insert = db.prepare(`INSERT INTO events (${EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertCp = db.prepare('INSERT OR IGNORE INTO checkpoints (seq, hash, time_ms, key_id, signature) VALUES (?, ?, ?, ?, ?)');
  const headSeq = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM events').pluck();
  const row = (r: EventRow) => insert.run(r.seq, r.timeMs, r.type, r.session, r.statement, r.subject, r.connection, r.action, r.prevHash, r.hash, r.body);
  const cp = (c: CheckpointRow) => insertCp.run(c.seq, c.hash, c.timeMs, c.keyId, c.signature);
  return db.transaction((records: readonly JournalRecord[]): number => {
    let head = headSeq.get() as number;
    for (const r of records) {
      if (r.kind === 'checkpoint') cp(r.cp);
      else if (r.row.seq > head) {
        row(r.row);
        head = r.row.seq;
      }
    }
    return head;
  });
}

/**
 * Replays a journal left by a process that died before its ingest caught up: every whole,
 * valid record whose seq is past the table's head. A torn last record was never acknowledged
 * and is dropped. Returns how many events were added.
 */
export function replayJournal(db: Database.Database, journal: string): number {
  if (!existsSync(journal)) return 0;
  const { records } = decodeRecords(readFileSync(journal));
  if (records.length === 0) return 0;
  const before = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM events').pluck().get() as number;
  const after = recordInserter(db)(records);
  return after - before;
}

/**
 * The ingest side of the journal: reads what the writer appended and inserts it into SQLite in
 * large transactions. Runs in the ingest worker (sqlite-ingest-worker.ts).
 */
export class JournalIngest {
  readonly #db: Database.Database;
  readonly #fd: number;
  readonly #insert: (records: readonly JournalRecord[]) => number;
  #gen = 0;
  #pos = 0;
  #lastHash: string | undefined;

  constructor(dbPath: string, journal: string) {
    // The ingest thread may wait longer for a lock than the event loop could: nothing waits on it.
    this.#db = openWritable(dbPath, INGEST_BUSY_TIMEOUT_MS);
    this.#insert = recordInserter(this.#db);
    this.#fd = openSync(journal, 'r');
  }

  /**
   * Ingests journal bytes up to `upTo` of generation `gen` (the writer truncates the file and
   * starts a new generation once everything is ingested). Returns the last seq ingested.
   */
  ingest(gen: number, upTo: number): number {
    if (gen !== this.#gen) {
      this.#gen = gen;
      this.#pos = 0;
    }
    const len = upTo - this.#pos;
    if (len <= 0) return -1;
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.#fd, buf, got, len - got, this.#pos + got);
      if (n === 0) break;
      got += n;
    }
    const { records, end, lastHash } = decodeRecords(buf.subarray(0, got), this.#lastHash, { verifyHashes: false });
    // The writer said these bytes were written whole; anything less is damage, not a torn tail.
    if (end !== len) throw new Error(`the audit journal is damaged at byte ${this.#pos + end} of generation ${gen}`);
    const head = this.#insert(records);
    this.#pos = upTo;
    this.#lastHash = lastHash;
    return head;
  }

  close(): void {
    closeSync(this.#fd);
    this.#db.close();
  }
}
