import type { Analysis } from '../analysis/facts.js';
import type { Decision } from '../pipeline/decision.js';
import type { ClientInfo, Principal } from '../pipeline/principal.js';

/**
 * The audit events, each with a fixed shape (Teleport's `common/audit.go` is the model):
 * every field is always present, `null` when it does not apply, so a failure changes values,
 * never the shape, and a SIEM can index the same columns for every row.
 *
 * Times are ISO-8601 UTC strings; durations are milliseconds. Builders write object literals
 * in sorted key order, which makes hashing them cheap (see fastCanonicalJson).
 */
export type AuditEvent = SessionStartEvent | StatementEvent | StatementResultEvent | SessionEndEvent | ActionEvent;
export type AuditEventType = AuditEvent['type'];

export interface SessionStartEvent {
  readonly type: 'session.start';
  readonly session: string;
  readonly time: string;
  /** The gateway instance that owns the session; crash recovery closes only its own sessions. */
  readonly gateway: string;
  readonly principal: {
    readonly subject: string;
    readonly groups: readonly string[];
    readonly issuer: string;
    readonly authMethod: Principal['authMethod'];
    readonly tokenId: string | null;
  };
  readonly client: {
    readonly address: string;
    readonly frontend: ClientInfo['frontend'];
    readonly userName: string | null;
    readonly applicationName: string | null;
    readonly tls: boolean;
  };
  readonly connection: string;
}

export interface StatementFactsRecord {
  readonly kind: string;
  readonly tag: string;
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly functions: readonly string[];
  readonly risks: readonly string[];
  readonly error: string | null;
}

export interface DecisionRecord {
  readonly action: Decision['action'];
  readonly rule: string;
  readonly reason: string | null;
  readonly code: string | null;
  readonly wouldHave: { readonly action: string; readonly rule: string; readonly reason: string } | null;
  readonly maxRows: number | null;
  readonly timeoutMs: number | null;
  readonly mask: readonly string[] | null;
}

/** Who approved a held statement; `null` until the approvals engine records one. */
export interface ApprovalRecord {
  readonly approver: string;
  readonly decision: 'approved' | 'rejected' | 'expired';
  readonly time: string;
  readonly comment: string | null;
}

export interface StatementEvent {
  readonly type: 'statement';
  readonly session: string;
  /** 1, 2, 3… within the session. */
  readonly statement: number;
  readonly time: string;
  /** Repeated from session.start so that this one durable row answers "who ran what". */
  readonly subject: string;
  readonly sql: string;
  /** Bind parameters exactly as the caller passed them: already masked. */
  readonly params: readonly (string | null)[] | null;
  readonly analysis: {
    readonly kind: string;
    readonly reads: readonly string[];
    readonly writes: readonly string[];
    readonly functions: readonly string[];
    readonly risks: readonly string[];
    readonly statements: readonly StatementFactsRecord[];
  };
  readonly decision: DecisionRecord;
  readonly approval: ApprovalRecord | null;
}

export interface ResultColumn {
  readonly name: string;
  /** `binary` columns hold base64 text. */
  readonly format: 'text' | 'binary';
}

export interface StatementResultEvent {
  readonly type: 'statement.result';
  readonly session: string;
  readonly statement: number;
  readonly time: string;
  readonly columns: readonly ResultColumn[];
  /** As the client received them (after masking), up to the configured caps. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** True when rows were left out because of `audit.results.max_rows`/`max_bytes`. */
  readonly truncated: boolean;
  /** Rows returned or affected, as the command tag reported; null when unknown. */
  readonly rowCount: number | null;
  readonly tag: string | null;
  /** Bytes of row data the client received (all rows, not just the recorded ones). */
  readonly bytes: number;
  readonly error: { readonly sqlstate: string; readonly message: string } | null;
  readonly timings: { readonly approvalWaitMs: number; readonly executionMs: number };
}

export interface SessionEndEvent {
  readonly type: 'session.end';
  readonly session: string;
  readonly time: string;
  /** `client-closed`, `upstream-lost`, `gateway-restart`, … */
  readonly reason: string;
}

/** An event as stored: its place in the chain and the hashes that tie it there. */
export interface StoredEvent {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly event: AuditEvent;
}

/**
 * Policy hands out one Decision per allow rule, so its record — and the JSON chain.ts keeps for
 * it — is built once per rule rather than once per statement.
 */
const decisionRecords = new WeakMap<Decision, DecisionRecord>();

export function decisionRecord(d: Decision): DecisionRecord {
  let r = decisionRecords.get(d);
  if (r === undefined) {
    r = buildDecisionRecord(d);
    decisionRecords.set(d, r);
  }
  return r;
}

function buildDecisionRecord(d: Decision): DecisionRecord {
  if (d.action === 'allow') {
    return {
      action: 'allow',
      code: null,
      mask: d.mask ? [...d.mask] : null,
      maxRows: d.maxRows ?? null,
      reason: null,
      rule: d.rule,
      timeoutMs: d.timeoutMs ?? null,
      wouldHave: d.wouldHave ? { action: d.wouldHave.action, reason: d.wouldHave.reason, rule: d.wouldHave.rule } : null,
    };
  }
  return {
    action: d.action,
    code: d.action === 'deny' ? d.code : null,
    mask: null,
    maxRows: null,
    reason: d.reason,
    rule: d.rule,
    timeoutMs: null,
    wouldHave: null,
  };
}

/**
 * The analyzer hands out one Analysis per statement text (it caches them), so the record — and
 * the JSON chain.ts keeps for it — is built once per text rather than once per execution.
 */
const analysisRecords = new WeakMap<Analysis, StatementEvent['analysis']>();

export function analysisRecord(a: Analysis): StatementEvent['analysis'] {
  let r = analysisRecords.get(a);
  if (r === undefined) {
    r = {
      functions: a.functions,
      kind: a.kind,
      reads: a.reads,
      risks: a.risks,
      statements: a.statements.map((s) => ({ error: s.error ?? null, functions: s.functions, kind: s.kind, reads: s.reads, risks: s.risks, tag: s.tag, writes: s.writes })),
      writes: a.writes,
    };
    analysisRecords.set(a, r);
  }
  return r;
}

/**
 * A person or the gateway acting on something other than a statement: an approval requested,
 * voted on or used; a reviewer signing in to the console, replaying or ending a session.
 * `session` is the session the action concerns, or `console:<subject>` / `approvals` when none.
 */
export interface ActionEvent {
  readonly type: 'action';
  readonly session: string;
  readonly time: string;
  readonly actor: { readonly subject: string; readonly groups: readonly string[] };
  /** e.g. `approval.requested`, `approval.vote`, `approval.used`, `console.sign-in`. */
  readonly action: string;
  /** What was acted on: a request id, a session id; null when nothing in particular. */
  readonly target: string | null;
  /** Small, credential-free details (a vote and its comment, the rule). */
  readonly detail: Readonly<Record<string, string | number | boolean | null>> | null;
}
