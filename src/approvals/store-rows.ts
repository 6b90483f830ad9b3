import type { ApprovalRequest, RequestStatus, ReviewSummary, Vote } from './request.js';

/**
 * The row shape both approval stores share. PostgreSQL returns `bigint` columns as strings
 * (they may exceed 2^53); times in milliseconds never do, so they are read with Number().
 */
export interface RequestRow {
  id: string;
  status: RequestStatus;
  mode: 'hold' | 'return';
  scope: 'statement' | 'window';
  rule: string;
  approvers: string;
  approvals_needed: number | string;
  subject: string;
  connection: string;
  fingerprint: string;
  created_ms: number | string;
  expires_ms: number | string;
  decided_ms: number | string | null;
  grant_until_ms: number | string | null;
  used_ms: number | string | null;
  gateway: string;
  summary: string;
}

export interface VoteRow {
  request_id: string;
  voter: string;
  vote: 'approve' | 'deny';
  comment: string | null;
  time_ms: number | string;
}

const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function toVote(v: VoteRow): Vote {
  return { voter: v.voter, vote: v.vote, comment: v.comment, time: iso(v.time_ms)! };
}

export function toRequest(r: RequestRow, votes: readonly Vote[]): ApprovalRequest {
  return {
    id: r.id,
    status: r.status,
    mode: r.mode,
    scope: r.scope,
    rule: r.rule,
    approvers: JSON.parse(r.approvers) as string[],
    approvalsNeeded: Number(r.approvals_needed),
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
