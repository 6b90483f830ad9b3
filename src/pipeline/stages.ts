import type { Analysis } from '../analysis/facts.js';
import type { Decision } from './decision.js';
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
  /** One per client session: remembers SQL-level PREPAREd statements so EXECUTE gets their facts. */
  openSession(): AnalysisSession;
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
}
