import type { Analysis } from '../analysis/facts.js';
import type { AllowDecision, ApprovalNote, Decision, DenyDecision, ReviewDecision, Verdict } from './decision.js';
import type { ClientInfo, Principal } from './principal.js';

/**
 * The contracts of the pipeline's stages. `pipeline/` depends only on these; `main.ts` wires
 * concrete engines in. Synchronous stages stay synchronous so the hot path creates no promise.
 */

/** identify: a credential (token or service key) becomes a principal, or throws PortcullisError. */
export interface IdentifyStage {
  authenticate(credential: string, client: ClientInfo): Promise<Principal>;
}

/** Per-session analyzer state: SQL-level PREPARE names and what they were analyzed as. */
export interface AnalysisSession {
  analyze(sql: string): Analysis;
  /**
   * A protocol-level Parse created a named statement. SQL `EXECUTE name` shares its namespace
   * with SQL `PREPARE`, so it must get these facts.
   */
  remember(name: string, analysis: Analysis): void;
  /** A named statement was closed; null forgets them all. */
  forget(name: string | null): void;
}

/** analyze: SQL text to facts; cached, never throws (failures are kind `unknown`). */
export interface AnalyzeStage {
  /**
   * One per client session: remembers SQL-level PREPAREd statements so EXECUTE gets their
   * facts. `connection` picks the SQL dialect where the gateway serves more than one.
   */
  openSession(connection?: string): AnalysisSession;
}

export interface DecisionInput {
  readonly principal: Principal;
  readonly client: ClientInfo;
  readonly connection: string;
  readonly analysis: Analysis;
  /** Bind parameters in text form, when known (extended protocol, HTTP/MCP params). */
  readonly params?: readonly (string | null)[] | undefined;
}

/** decide: facts plus who to allow/deny/review. Synchronous and pure. */
export interface DecideStage {
  decide(input: DecisionInput): Decision;
  /**
   * Whether the database should run this allowed statement read-only: it was let through as a
   * plain read, and the same statement would not have been let through as a write. PostgreSQL
   * then refuses a function or view that writes, which the analyzer cannot see into.
   */
  runsReadOnly?(input: DecisionInput): boolean;
  /**
   * Whether nothing but plain reads can ever be allowed for this principal, client and
   * connection (not even with an approval): a wire session can then be read-only throughout.
   */
  readsOnly?(principal: Principal, client: ClientInfo, connection: string): boolean;
}

/** Receives one statement's result as the client receives it (already masked). */
export interface ResultSink {
  /** False once the sink keeps no more row values (its caps are reached): rows are then only counted. */
  readonly accepting?: boolean;
  columns(names: readonly string[], formats?: readonly ('text' | 'binary')[]): void;
  row(values: readonly (string | Uint8Array | null)[], wireBytes?: number): void;
  complete(tag: string, rowCount?: number | null): void;
  error(sqlstate: string, message: string): void;
}

/** The session facts the record stage needs. */
export interface RecordedSession {
  readonly id: string;
  readonly principal: import('./principal.js').Principal;
  readonly client: import('./principal.js').ClientInfo;
  readonly connection: string;
  readonly startedAt?: number;
}

/**
 * record: the statement event is durable before the statement goes upstream. Returns a sink
 * for its result (a promise when the store commits asynchronously); throws or rejects
 * PortcullisError('ERR_AUDIT_UNAVAILABLE') when the store cannot write and policy says refuse.
 */
export interface RecordStage {
  statement(session: RecordedSession, sql: string, verdict: Verdict, opts: { params?: readonly (string | null)[] | null; approval?: ApprovalNote | null; approvalWaitMs?: number | undefined }): ResultSink | Promise<ResultSink>;
}

/** A statement policy held for review, as the approve stage receives it. */
export interface ReviewInput {
  readonly session: RecordedSession;
  readonly sql: string;
  readonly params: readonly (string | null)[] | undefined;
  readonly analysis: Analysis;
  readonly decision: ReviewDecision;
  /** Hold mode: called at once with the request id, so the frontend can tell the waiting client. */
  readonly onHold?: ((requestId: string, message: string) => void) | undefined;
}

export interface ApprovalOutcome {
  readonly decision: AllowDecision | DenyDecision;
  readonly approval?: ApprovalNote | undefined;
}

/**
 * approve: turns a `review` into allow or deny — a promise, since it asks the approvals store
 * (SQLite or PostgreSQL) and, in hold mode, waits while a person decides.
 */
export interface ApproveStage {
  review(input: ReviewInput): ApprovalOutcome | Promise<ApprovalOutcome>;
  /** The client cancelled: withdraw what this session is waiting on. */
  withdraw(sessionId: string): void;
}
