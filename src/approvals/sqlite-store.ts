import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { ApprovalRequest, RequestStatus, ReviewSummary } from './request.js';
import type { ApprovalStore, NewRequest, NewVote } from './store.js';
import { toRequest, toVote, type RequestRow, type VoteRow } from './store-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approval_requests (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  mode TEXT NOT NULL,
  scope TEXT NOT NULL,
  rule TEXT NOT NULL,
  approvers TEXT NOT NULL,
  approvals_needed INTEGER NOT NULL,
  subject TEXT NOT NULL,
  connection TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  grant_until_ms INTEGER,
  used_ms INTEGER,
  gateway TEXT NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_requests_status ON approval_requests (status, created_ms);
CREATE INDEX IF NOT EXISTS approval_requests_grant ON approval_requests (fingerprint, status);
CREATE TABLE IF NOT EXISTS approval_votes (
  request_id TEXT NOT NULL REFERENCES approval_requests (id),
  voter TEXT NOT NULL,
  vote TEXT NOT NULL,
  comment TEXT,
  time_ms INTEGER NOT NULL,
  PRIMARY KEY (request_id, voter)
);
`;

/**
 * Approval requests and votes in one SQLite file of their own (WAL), for a single host. The
 * work is synchronous underneath (better-sqlite3); the promises are the interface's, so the
 * engine treats both stores alike. "Spend once" is a conditional UPDATE inside a transaction,
 * which SQLite serializes across every process sharing the file.
 */
export class SqliteApprovalStore implements ApprovalStore {
  readonly kind = 'sqlite' as const;
  readonly location: string;
  readonly #db: Database.Database;

  /** `path` is a file; its directory is created. */
  constructor(path: string) {
    this.location = resolve(path);
    mkdirSync(dirname(this.location), { recursive: true });
    this.#db = new Database(this.location);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(SCHEMA);
  }

  insert(r: NewRequest): Promise<void> {
    return this.#do('write to', () => {
      this.#db
        .prepare(
          `INSERT INTO approval_requests (id, status, mode, scope, rule, approvers, approvals_needed, subject, connection, fingerprint, created_ms, expires_ms, gateway, summary)
           VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(r.id, r.mode, r.scope, r.rule, JSON.stringify(r.approvers), r.approvalsNeeded, r.subject, r.connection, r.fingerprint, r.createdMs, r.expiresMs, r.gateway, JSON.stringify(r.summary));
    });
  }

  get(id: string): Promise<ApprovalRequest | undefined> {
    return this.#do('read', () => this.#one(this.#db.prepare('SELECT * FROM approval_requests WHERE id = ?').get(id)));
  }

  list(status: RequestStatus | undefined, limit: number): Promise<ApprovalRequest[]> {
    return this.#do('read', () =>
      this.#many(
        status === undefined
          ? this.#db.prepare('SELECT * FROM approval_requests ORDER BY created_ms DESC LIMIT ?').all(limit)
          : this.#db.prepare('SELECT * FROM approval_requests WHERE status = ? ORDER BY created_ms DESC LIMIT ?').all(status, limit),
      ),
    );
  }

  vote(id: string, v: NewVote): Promise<void> {
    return this.#do('write to', () => {
      this.#db.prepare('INSERT OR REPLACE INTO approval_votes (request_id, voter, vote, comment, time_ms) VALUES (?, ?, ?, ?, ?)').run(id, v.voter, v.vote, v.comment, v.timeMs);
    });
  }

  transition(id: string, from: RequestStatus, to: RequestStatus, atMs: number, grantUntilMs: number | null = null): Promise<boolean> {
    return this.#do('write to', () => this.#transition(id, from, to, atMs, grantUntilMs));
  }

  spendGrant(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    return this.#do('write to', () =>
      this.#db.transaction(() => {
        const row = this.#db
          .prepare(`SELECT * FROM approval_requests WHERE fingerprint = ? AND status = 'approved' AND mode = 'return' AND scope = 'statement' AND grant_until_ms > ? ORDER BY created_ms LIMIT 1`)
          .get(fingerprint, nowMs) as RequestRow | undefined;
        if (!row || !this.#transition(row.id, 'approved', 'used', nowMs, null)) return undefined;
        return this.#one({ ...row, status: 'used', used_ms: nowMs });
      })(),
    );
  }

  pendingFor(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    return this.#do('read', () => this.#one(this.#db.prepare(`SELECT * FROM approval_requests WHERE fingerprint = ? AND status = 'pending' AND expires_ms > ? ORDER BY created_ms DESC LIMIT 1`).get(fingerprint, nowMs)));
  }

  openWindow(subject: string, connection: string, rule: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    return this.#do('read', () =>
      this.#one(
        this.#db
          .prepare(`SELECT * FROM approval_requests WHERE subject = ? AND connection = ? AND rule = ? AND status = 'approved' AND scope = 'window' AND grant_until_ms > ? ORDER BY grant_until_ms DESC LIMIT 1`)
          .get(subject, connection, rule, nowMs),
      ),
    );
  }

  expiredPending(nowMs: number): Promise<ApprovalRequest[]> {
    return this.#do('read', () => this.#many(this.#db.prepare(`SELECT * FROM approval_requests WHERE status = 'pending' AND expires_ms <= ?`).all(nowMs)));
  }

  abandonHeld(gateway: string, nowMs: number): Promise<string[]> {
    return this.#do('write to', () =>
      this.#db.transaction(() => {
        const ids = (this.#db.prepare(`SELECT id FROM approval_requests WHERE status = 'pending' AND mode = 'hold' AND gateway = ?`).all(gateway) as { id: string }[]).map((r) => r.id);
        return ids.filter((id) => this.#transition(id, 'pending', 'abandoned', nowMs, null));
      })(),
    );
  }

  setSummary(id: string, summary: ReviewSummary): Promise<void> {
    return this.#do('write to', () => {
      this.#db.prepare('UPDATE approval_requests SET summary = ? WHERE id = ?').run(JSON.stringify(summary), id);
    });
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }

  #transition(id: string, from: RequestStatus, to: RequestStatus, atMs: number, grantUntilMs: number | null): boolean {
    const col = to === 'used' ? 'used_ms' : 'decided_ms';
    const r = this.#db.prepare(`UPDATE approval_requests SET status = ?, ${col} = ?, grant_until_ms = COALESCE(?, grant_until_ms) WHERE id = ? AND status = ?`).run(to, atMs, grantUntilMs, id, from);
    return r.changes === 1;
  }

  #one(row: unknown): ApprovalRequest | undefined {
    return row === undefined ? undefined : this.#many([row])[0];
  }

  #many(rows: unknown[]): ApprovalRequest[] {
    const votes = this.#db.prepare('SELECT * FROM approval_votes WHERE request_id = ? ORDER BY time_ms, voter');
    return (rows as RequestRow[]).map((r) => toRequest(r, (votes.all(r.id) as VoteRow[]).map(toVote)));
  }

  /** A failed read or write (disk full, locked past busy_timeout, closed) refuses, never allows. */
  #do<T>(what: string, f: () => T): Promise<T> {
    try {
      return Promise.resolve(f());
    } catch (e) {
      return Promise.reject(new PortcullisError('ERR_APPROVALS_UNAVAILABLE', `cannot ${what} the approvals store ${this.location}: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
    }
  }
}
