import type { WaitMode } from './schema.js';

/**
 * An approval request as stored and as reviewers see it. `pending` is the only state that
 * accepts votes; every other state is final except `approved`, which becomes `used` when a
 * statement-scope grant is spent (return mode) or the held statement runs (hold mode).
 */
export type RequestStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'withdrawn' | 'abandoned' | 'used';

export const FINAL_STATUSES: readonly RequestStatus[] = ['denied', 'expired', 'withdrawn', 'abandoned', 'used'];

export interface Vote {
  readonly voter: string;
  readonly vote: 'approve' | 'deny';
  readonly comment: string | null;
  readonly time: string;
}

/** What the reviewer reads before deciding: who, where, what, why, and how much it touches. */
export interface ReviewSummary {
  readonly who: { readonly subject: string; readonly groups: readonly string[]; readonly client: string; readonly frontend: string; readonly applicationName: string | null };
  readonly connection: string;
  readonly session: string;
  readonly sql: string;
  readonly params: readonly (string | null)[] | null;
  readonly facts: { readonly kind: string; readonly tags: readonly string[]; readonly tables: readonly string[]; readonly risks: readonly string[] };
  readonly rule: string;
  readonly reason: string;
  /** Rows the planner expects the write to touch; null when not a write or EXPLAIN failed. */
  readonly estimatedRows: number | null;
}

export interface ApprovalRequest {
  readonly id: string;
  readonly status: RequestStatus;
  readonly mode: WaitMode;
  readonly scope: 'statement' | 'window';
  readonly rule: string;
  readonly approvers: readonly string[];
  readonly approvalsNeeded: number;
  readonly subject: string;
  readonly connection: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedAt: string | null;
  /** Window scope: statements of the same rule run without asking until then. */
  readonly grantUntil: string | null;
  readonly usedAt: string | null;
  readonly summary: ReviewSummary;
  readonly votes: readonly Vote[];
  /** Hex digest binding a statement-scope grant to principal + connection + SQL + parameters. */
  readonly fingerprint: string;
  readonly gateway: string;
}
