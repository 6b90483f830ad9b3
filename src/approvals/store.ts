import type { ApprovalRequest, RequestStatus, ReviewSummary } from './request.js';

/**
 * Where approval requests and votes live, so that they survive a restart and are shared by
 * every gateway pointing at the same store: `SqliteApprovalStore` (one file, one host) or
 * `PostgresApprovalStore` (production, several gateways).
 *
 * Kept apart from the audit log on purpose: the audit log is append-only and hash-chained,
 * while a request changes state; what a request led to is recorded on the statement event.
 *
 * Every state change is conditional on the state it leaves (`transition`, `spendGrant`), so two
 * gateways deciding, expiring or spending the same request cannot both succeed. Methods reject
 * with ERR_APPROVALS_UNAVAILABLE when the store cannot be read or written.
 */
export interface ApprovalStore {
  readonly kind: 'sqlite' | 'postgres';
  /** A file path or a URL without its password, for messages. */
  readonly location: string;
  insert(r: NewRequest): Promise<void>;
  get(id: string): Promise<ApprovalRequest | undefined>;
  /** Newest first; all statuses when `status` is undefined. */
  list(status: RequestStatus | undefined, limit: number): Promise<ApprovalRequest[]>;
  /** Adds or replaces a voter's vote; one vote per person per request. */
  vote(id: string, v: NewVote): Promise<void>;
  /**
   * Moves a request out of `from` into `to` (stamping `used_ms` for `used`, else `decided_ms`);
   * false when another writer got there first.
   */
  transition(id: string, from: RequestStatus, to: RequestStatus, atMs: number, grantUntilMs?: number | null): Promise<boolean>;
  /**
   * Spends an approved return-mode statement-scope grant for exactly this fingerprint, once:
   * whatever the number of gateways asking at the same moment, one of them gets it.
   */
  spendGrant(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined>;
  /** A request for exactly this statement still waiting for a decision. */
  pendingFor(fingerprint: string, nowMs: number): Promise<ApprovalRequest | undefined>;
  /** An approved window grant for this subject, connection and rule that is still open. */
  openWindow(subject: string, connection: string, rule: string, nowMs: number): Promise<ApprovalRequest | undefined>;
  /** Pending requests whose decision time has passed. */
  expiredPending(nowMs: number): Promise<ApprovalRequest[]>;
  /** Held requests of this gateway left pending by a previous run (their sessions are gone) become `abandoned`; their ids. */
  abandonHeld(gateway: string, nowMs: number): Promise<string[]>;
  /** The estimate arrives after the request is stored. */
  setSummary(id: string, summary: ReviewSummary): Promise<void>;
  close(): Promise<void>;
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

export interface NewVote {
  readonly voter: string;
  readonly vote: 'approve' | 'deny';
  readonly comment: string | null;
  readonly timeMs: number;
}
