import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { ApprovalRequest, RequestStatus, ReviewSummary, Vote } from './request.js';

/**
 * Approval requests and votes in one SQLite file of their own (WAL), so they survive a
 * restart. Kept apart from the audit store on purpose: the audit log is append-only and
 * hash-chained, while a request changes state; what a request led to is recorded on the
 * statement event in the audit log.
 *
 * better-sqlite3 is synchronous, which is what lets a return-mode retry spend its grant inside
 * `admit` without a promise, and makes "spend once" a single conditional UPDATE.
 */
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

interface Row {
  id: string;
  status: RequestStatus;
  mode: 'hold' | 'return';
  scope: 'statement' | 'window';
  rule: string;
  approvers: string;
  approvals_needed: number;
  subject: string;
  connection: string;
  fingerprint: string;
  created_ms: number;
  expires_ms: number;
  decided_ms: number | null;
  grant_until_ms: number | null;
  used_ms: number | null;
  gateway: string;
  summary: string;
}

interface VoteRow {
  request_id: string;
  voter: string;
  vote: 'approve' | 'deny';
  comment: string | null;
  time_ms: number;
}

export interface NewRequest {
  readonly id: string;
  readonly mode: 'hold' | 'return';
  readonly scope: 'statement' | 'window';
  readonly rule: string;
  readonly approvers: readonly string[];
  readonly approvalsNeeded: number;
  readonly subject: string;
  readonly connection: string;
  readonly fingerprint: string;
  readonly createdMs: number;
  readonly expiresMs: number;
  readonly gateway: string;
  readonly summary: ReviewSummary;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class ApprovalStore {
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

  insert(r: NewRequest): void {
    this.#db
      .prepare(
        `INSERT INTO approval_requests (id, status, mode, scope, rule, approvers, approvals_needed, subject, connection, fingerprint, created_ms, expires_ms, gateway, summary)
         VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.id, r.mode, r.scope, r.rule, JSON.stringify(r.approvers), r.approvalsNeeded, r.subject, r.connection, r.fingerprint, r.createdMs, r.expiresMs, r.gateway, JSON.stringify(r.summary));
  }

  get(id: string): ApprovalRequest | undefined {
    const row = this.#db.prepare('SELECT * FROM approval_requests WHERE id = ?').get(id) as Row | undefined;
    return row ? this.#toRequest(row) : undefined;
  }

  list(status: RequestStatus | undefined, limit: number): ApprovalRequest[] {
    const rows = (
      status === undefined
        ? this.#db.prepare('SELECT * FROM approval_requests ORDER BY created_ms DESC LIMIT ?').all(limit)
        : this.#db.prepare('SELECT * FROM approval_requests WHERE status = ? ORDER BY created_ms DESC LIMIT ?').all(status, limit)
    ) as Row[];
    return rows.map((r) => this.#toRequest(r));
  }

  /** Adds or replaces a voter's vote; one vote per person per request. */
  vote(id: string, v: { voter: string; vote: 'approve' | 'deny'; comment: string | null; timeMs: number }): void {
    this.#db.prepare('INSERT OR REPLACE INTO approval_votes (request_id, voter, vote, comment, time_ms) VALUES (?, ?, ?, ?, ?)').run(id, v.voter, v.vote, v.comment, v.timeMs);
  }

  /** Moves a request out of `from`; false when another writer got there first. */
  transition(id: string, from: RequestStatus, to: RequestStatus, atMs: number, grantUntilMs: number | null = null): boolean {
    const col = to === 'used' ? 'used_ms' : 'decided_ms';
    const r = this.#db.prepare(`UPDATE approval_requests SET status = ?, ${col} = ?, grant_until_ms = COALESCE(?, grant_until_ms) WHERE id = ? AND status = ?`).run(to, atMs, grantUntilMs, id, from);
    return r.changes === 1;
  }

  /**
   * Spends an approved statement-scope grant for exactly this fingerprint, once: the UPDATE
   * only succeeds for the first caller, whatever the number of gateways sharing the file.
   */
  spendGrant(fingerprint: string, nowMs: number): ApprovalRequest | undefined {
    return this.#db.transaction(() => {
      const row = this.#db
        .prepare(`SELECT * FROM approval_requests WHERE fingerprint = ? AND status = 'approved' AND mode = 'return' AND scope = 'statement' AND grant_until_ms > ? ORDER BY created_ms LIMIT 1`)
        .get(fingerprint, nowMs) as Row | undefined;
      if (!row) return undefined;
      if (!this.transition(row.id, 'approved', 'used', nowMs)) return undefined;
      return this.#toRequest({ ...row, status: 'used', used_ms: nowMs });
    })();
  }

  /** A request for exactly this statement still waiting for a decision. */
  pendingFor(fingerprint: string, nowMs: number): ApprovalRequest | undefined {
    const row = this.#db.prepare(`SELECT * FROM approval_requests WHERE fingerprint = ? AND status = 'pending' AND expires_ms > ? ORDER BY created_ms DESC LIMIT 1`).get(fingerprint, nowMs) as Row | undefined;
    return row ? this.#toRequest(row) : undefined;
  }

  /** An approved window grant for this subject, connection and rule that is still open. */
  openWindow(subject: string, connection: string, rule: string, nowMs: number): ApprovalRequest | undefined {
    const row = this.#db
      .prepare(`SELECT * FROM approval_requests WHERE subject = ? AND connection = ? AND rule = ? AND status = 'approved' AND scope = 'window' AND grant_until_ms > ? ORDER BY grant_until_ms DESC LIMIT 1`)
      .get(subject, connection, rule, nowMs) as Row | undefined;
    return row ? this.#toRequest(row) : undefined;
  }

  /** Pending requests whose decision time has passed. */
  expiredPending(nowMs: number): ApprovalRequest[] {
    return (this.#db.prepare(`SELECT * FROM approval_requests WHERE status = 'pending' AND expires_ms <= ?`).all(nowMs) as Row[]).map((r) => this.#toRequest(r));
  }

  /** Held requests of this gateway left pending by a previous run: their sessions are gone. */
  abandonHeld(gateway: string, nowMs: number): string[] {
    return this.#db.transaction(() => {
      const ids = (this.#db.prepare(`SELECT id FROM approval_requests WHERE status = 'pending' AND mode = 'hold' AND gateway = ?`).all(gateway) as { id: string }[]).map((r) => r.id);
      for (const id of ids) this.transition(id, 'pending', 'abandoned', nowMs);
      return ids;
    })();
  }

  /** The estimate arrives after the request is stored. */
  setSummary(id: string, summary: ReviewSummary): void {
    this.#db.prepare('UPDATE approval_requests SET summary = ? WHERE id = ?').run(JSON.stringify(summary), id);
  }

  close(): void {
    this.#db.close();
  }

  #toRequest(r: Row): ApprovalRequest {
    const votes = (this.#db.prepare('SELECT * FROM approval_votes WHERE request_id = ? ORDER BY time_ms, voter').all(r.id) as VoteRow[]).map(
      (v): Vote => ({ voter: v.voter, vote: v.vote, comment: v.comment, time: new Date(v.time_ms).toISOString() }),
    );
    return {
      id: r.id,
      status: r.status,
      mode: r.mode,
      scope: r.scope,
      rule: r.rule,
      approvers: JSON.parse(r.approvers) as string[],
      approvalsNeeded: r.approvals_needed,
      subject: r.subject,
      connection: r.connection,
      createdAt: iso(r.created_ms)!,
      expiresAt: iso(r.expires_ms)!,
      decidedAt: iso(r.decided_ms),
      grantUntil: iso(r.grant_until_ms),
      usedAt: iso(r.used_ms),
      summary: JSON.parse(r.summary) as ReviewSummary,
      votes,
      fingerprint: r.fingerprint,
      gateway: r.gateway,
    };
  }
}
