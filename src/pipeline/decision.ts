import type { Analysis } from '../analysis/facts.js';

/**
 * A decision is data: a tagged union that is easy to log, record, explain and test.
 * `rule` names the rule that decided (`default` when none matched).
 */
export type Decision = AllowDecision | DenyDecision | ReviewDecision;

export interface AllowDecision {
  readonly action: 'allow';
  readonly rule: string;
  /** Stop the result after this many rows and tell the client it was truncated. */
  readonly maxRows?: number | undefined;
  /** Applied upstream as statement_timeout, in milliseconds. */
  readonly timeoutMs?: number | undefined;
  /** Masking profile names to apply to results. */
  readonly mask?: readonly string[] | undefined;
  /** audit-only mode: what the policy *would* have done; the statement still runs. */
  readonly wouldHave?: { readonly action: 'deny' | 'review'; readonly rule: string; readonly reason: string } | undefined;
}

export interface DenyDecision {
  readonly action: 'deny';
  readonly rule: string;
  /** Shown to the caller: written for the agent and the person behind it. */
  readonly reason: string;
  /** Return-mode review: the approval request a reviewer must approve before a retry runs. */
  readonly requestId?: string | undefined;
  readonly code: 'ERR_POLICY_DENIED' | 'ERR_ANALYSIS_FAILED' | 'ERR_APPROVAL_REQUIRED' | 'ERR_RATE_LIMITED' | 'ERR_TOKEN_EXPIRED' | 'ERR_AUDIT_UNAVAILABLE';
}

export interface ReviewDecision {
  readonly action: 'review';
  readonly rule: string;
  readonly reason: string;
  readonly review?: Readonly<Record<string, unknown>> | undefined;
}

/** Who decided a held statement, as the audit log's statement event records it. */
export interface ApprovalNote {
  readonly approver: string;
  readonly decision: 'approved' | 'rejected' | 'expired';
  readonly time: string;
  readonly comment: string | null;
}

export interface Verdict {
  readonly decision: Decision;
  readonly analysis: Analysis;
  /** Present when the approve stage decided a `review`: recorded with the statement. */
  readonly approval?: ApprovalNote | undefined;
  /** How long the statement waited for a person (hold mode), in milliseconds. */
  readonly approvalWaitMs?: number | undefined;
}
