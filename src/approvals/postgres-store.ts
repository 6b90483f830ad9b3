import pg from 'pg';
import { openStorePool, redactUrl } from '../util/postgres-pool.js';
import type { Secret } from '../config/secret.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import type { ApprovalRequest, RequestStatus, ReviewSummary, Vote } from './request.js';
import type { ApprovalStore, NewRequest, NewVote } from './store.js';
import { toRequest, toVote, type RequestRow, type VoteRow } from './store-rows.js';

export interface PostgresApprovalStoreOptions {
  readonly url: string;
  readonly password?: Secret | undefined;
  /** Holds `approval_requests` and `approval_votes`; created if missing. */
  readonly schema: string;
}

/** Any constant works: it only has to be the same in every gateway that creates the tables. */
const DDL_LOCK = 7_366_001;

/**
 * Approval requests and votes in a schema of a PostgreSQL database, shared by every gateway
 * that points at it, over the gateway's own `pg` pool (never a connection a client uses).
 *
 * Every state change is one statement whose WHERE names the state it leaves, so under READ
 * COMMITTED two gateways racing for the same request are serialized by the row lock and the
 * loser's re-check fails. Spending a grant picks its row with FOR UPDATE SKIP LOCKED, so a
 * second spender never waits for, nor gets, the row the first one is taking.
 */
export class PostgresApprovalStore implements ApprovalStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  #ready: Promise<void> | undefined;

  constructor(o: PostgresApprovalStoreOptions) {
    this.location = redactUrl(o.url);
    this.#schema = `"${o.schema}"`;
    this.#pool = openStorePool({ url: o.url, password: o.password, max: 4, applicationName: 'portcullis-approvals' });
  }

  get #requests(): string {
    return `${this.#schema}.approval_requests`;
  }

  get #votes(): string {
    return `${this.#schema}.approval_votes`;
  }

  /**
   * Creates the tables on first use rather than in the constructor, so a gateway starts while
   * the database is down and refuses review statements until it is back. The advisory lock
   * keeps two gateways starting together from racing on CREATE … IF NOT EXISTS, which is not
   * safe against a concurrent creator.
   */
  #ensureReady(): Promise<void> {
    this.#ready ??= this.#pool
      .query(
        `SELECT pg_advisory_xact_lock(${DDL_LOCK});
         CREATE SCHEMA IF NOT EXISTS ${this.#schema};
         CREATE TABLE IF NOT EXISTS ${this.#requests} (
           id text PRIMARY KEY, status text NOT NULL, mode text NOT NULL, scope text NOT NULL, rule text NOT NULL,
           approvers text NOT NULL, approvals_needed integer NOT NULL, subject text NOT NULL, connection text NOT NULL,
           fingerprint text NOT NULL, created_ms bigint NOT NULL, expires_ms bigint NOT NULL, decided_ms bigint,
           grant_until_ms bigint, used_ms bigint, gateway text NOT NULL, summary text NOT NULL);
         CREATE INDEX IF NOT EXISTS approval_requests_status ON ${this.#requests} (status, created_ms);
         CREATE INDEX IF NOT EXISTS approval_requests_grant ON ${this.#requests} (fingerprint, status);
         CREATE TABLE IF NOT EXISTS ${this.#votes} (
           request_id text NOT NULL REFERENCES ${this.#requests} (id), voter text NOT NULL, vote text NOT NULL,
           comment text, time_ms bigint NOT NULL, PRIMARY KEY (request_id, voter));`,
      )
      .then(
        () => undefined,
        (e: unknown) => {
          this.#ready = undefined;
          throw this.#unavailable('prepare the approvals tables in', e);
        },
      );
    return this.#ready;
  }

  async #query(what: string, sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    await this.#ensureReady();
    try {
      return await this.#pool.query(sql, params as unknown[]);
    } catch (e) {
      throw this.#unavailable(what, e);
    }
  }

  async insert(r: NewRequest): Promise<void> {
    await this.#query(
      'write to',
      `INSERT INTO ${this.#requests} (id, status, mode, scope, rule, approvers, approvals_needed, subject, connection, fingerprint, created_ms, expires_ms, gateway, summary)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [r.id, r.mode, r.scope, r.rule, JSON.stringify(r.approvers), r.approvalsNeeded, r.subject, r.connection, r.fingerprint, r.createdMs, r.expiresMs, r.gateway, JSON.stringify(r.summary)],
    );
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    return (await this.#select(`SELECT * FROM ${this.#requests} WHERE id = $1`, [id]))[0];
  }

  list(status: RequestStatus | undefined, limit: number): Promise<ApprovalRequest[]> {
    return status === undefined
      ? this.#select(`SELECT * FROM ${this.#requests} ORDER BY created_ms DESC LIMIT $1`, [limit])
      : this.#select(`SELECT * FROM ${this.#requests} WHERE status = $1 ORDER BY created_ms DESC LIMIT $2`, [status, limit]);
  }

  async vote(id: string, v: NewVote): Promise<void> {
    await this.#query(
      'write to',
      `INSERT INTO ${this.#votes} (request_id, voter, vote, comment, time_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (request_id, voter) DO UPDATE SET vote = EXCLUDED.vote, comment = EXCLUDED.comment, time_ms = EXCLUDED.time_ms`,
      [id, v.voter, v.vote, v.comment, v.timeMs],
    );
  }

  async transition(id: string, from: RequestStatus, to: RequestStatus, atMs: number, grantUntilMs: number | null = null): Promise<boolean> {
    const col = to === 'used' ? 'used_ms' : 'decided_ms';
    const r = await this.#query(
      'write to',
      `UPDATE ${this.#requests} SET status = $1, ${col} = $2, grant_until_ms = COALESCE($3, grant_until_ms) WHERE id = $4 AND status = $5`,
      [to, atMs, grantUntilMs, id, from],
    );
    return r.rowCount === 1;
  }

  async spendGrant(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    // The outer `status = 'approved'` is re-checked on the locked row: a spender whose snapshot
    // predates another's commit still cannot take a grant that is already used.
    const r = await this.#query(
      'write to',
      `UPDATE ${this.#requests} SET status = 'used', used_ms = $2
       WHERE status = 'approved' AND id = (
         SELECT id FROM ${this.#requests}
         WHERE fingerprint = $1 AND status = 'approved' AND mode = 'return' AND scope = 'statement' AND grant_until_ms > $2
         ORDER BY created_ms LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [fingerprint, nowMs],
    );
    return (await this.#withVotes(r.rows as RequestRow[]))[0];
  }

  async pendingFor(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    return (await this.#select(`SELECT * FROM ${this.#requests} WHERE fingerprint = $1 AND status = 'pending' AND expires_ms > $2 ORDER BY created_ms DESC LIMIT 1`, [fingerprint, nowMs]))[0];
  }

  async openWindow(subject: string, connection: string, rule: string, nowMs: number): Promise<ApprovalRequest | undefined> {
    return (
      await this.#select(
        `SELECT * FROM ${this.#requests} WHERE subject = $1 AND connection = $2 AND rule = $3 AND status = 'approved' AND scope = 'window' AND grant_until_ms > $4 ORDER BY grant_until_ms DESC LIMIT 1`,
        [subject, connection, rule, nowMs],
      )
    )[0];
  }

  expiredPending(nowMs: number): Promise<ApprovalRequest[]> {
    return this.#select(`SELECT * FROM ${this.#requests} WHERE status = 'pending' AND expires_ms <= $1`, [nowMs]);
  }

  async abandonHeld(gateway: string, nowMs: number): Promise<string[]> {
    const r = await this.#query('write to', `UPDATE ${this.#requests} SET status = 'abandoned', decided_ms = $2 WHERE status = 'pending' AND mode = 'hold' AND gateway = $1 RETURNING id`, [gateway, nowMs]);
    return (r.rows as { id: string }[]).map((x) => x.id);
  }

  async setSummary(id: string, summary: ReviewSummary): Promise<void> {
    await this.#query('write to', `UPDATE ${this.#requests} SET summary = $1 WHERE id = $2`, [JSON.stringify(summary), id]);
  }

  async close(): Promise<void> {
    await this.#pool.end().catch(() => {});
  }

  async #select(sql: string, params: readonly unknown[]): Promise<ApprovalRequest[]> {
    return this.#withVotes((await this.#query('read', sql, params)).rows as RequestRow[]);
  }

  /** One round trip for the votes of every row, not one per request. */
  async #withVotes(rows: readonly RequestRow[]): Promise<ApprovalRequest[]> {
    if (rows.length === 0) return [];
    const votes = await this.#query('read', `SELECT * FROM ${this.#votes} WHERE request_id = ANY($1::text[]) ORDER BY time_ms, voter`, [rows.map((r) => r.id)]);
    const byRequest = new Map<string, Vote[]>();
    for (const v of votes.rows as VoteRow[]) {
      const list = byRequest.get(v.request_id) ?? [];
      list.push(toVote(v));
      byRequest.set(v.request_id, list);
    }
    return rows.map((r) => toRequest(r, byRequest.get(r.id) ?? []));
  }

  /** pg error messages name SQLSTATEs, roles and objects, never the password. */
  #unavailable(what: string, e: unknown): PortcullisError {
    if (e instanceof PortcullisError) return e;
    const code = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    return new PortcullisError('ERR_APPROVALS_UNAVAILABLE', `cannot ${what} the approvals store ${this.location}: ${msg}${code ? ` (${code})` : ''}`, { cause: e });
  }
}

