import type { Connector, QueryResult } from '../../connectors/connector.js';
import { isStatementError, type StatementError } from '../../connectors/postgres/statement-error.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import type { AllowDecision, Decision, DenyDecision, Verdict } from '../../pipeline/decision.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import type { ClientInfo, Principal } from '../../pipeline/principal.js';

/** What the driver-path frontends (HTTP, MCP) need of the gateway. */
export interface DriverDeps {
  readonly pipeline: Pipeline;
  readonly connectors: ReadonlyMap<string, Connector>;
  /** Present when approvals are configured. */
  readonly approvals?: import('./approvals-api.js').ApprovalsBackend | undefined;
}

export interface StatementRequest {
  readonly connection: string;
  readonly sql: string;
  readonly params?: readonly (string | null)[] | undefined;
  readonly maxRows: number;
  readonly signal?: AbortSignal | undefined;
}

/** How a statement ended; a failure of the gateway itself is thrown as PortcullisError instead. */
export type StatementOutcome =
  | { readonly kind: 'result'; readonly verdict: Verdict; readonly decision: AllowDecision; readonly result: QueryResult }
  | { readonly kind: 'refused'; readonly verdict: Verdict; readonly decision: DenyDecision }
  /** Admitted, and the database reported an error (execute() only returns verdicts it completed). */
  | { readonly kind: 'failed'; readonly error: StatementError };

/**
 * One statement through the one pipeline: a session is opened for the request (so session caps
 * and the session events apply to HTTP and MCP callers too), `PipelineSession.execute` admits
 * it and runs it on the connector — masking and recording plug in there — and the session is
 * closed whatever happens.
 */
export async function runStatement(deps: DriverDeps, principal: Principal, client: ClientInfo, req: StatementRequest): Promise<StatementOutcome> {
  const connector = connectorFor(deps, req.connection);
  const session = deps.pipeline.openSession(principal, client, req.connection);
  try {
    const { verdict: v, result } = await session.execute(connector, { sql: req.sql, params: req.params, maxRows: req.maxRows, signal: req.signal });
    const d = v.decision;
    if (d.action === 'deny') return { kind: 'refused', verdict: v, decision: d };
    if (d.action === 'review') {
      // The pipeline turns review into a deny until approvals land; should one slip through,
      // it must not look like a result.
      return { kind: 'refused', verdict: v, decision: { action: 'deny', rule: d.rule, code: 'ERR_APPROVAL_REQUIRED', reason: `requires approval: ${d.reason}` } };
    }
    if (!result) throw new PortcullisError('ERR_INTERNAL');
    return { kind: 'result', verdict: v, decision: d, result };
  } catch (e) {
    if (isStatementError(e)) return { kind: 'failed', error: e };
    throw e;
  } finally {
    session.close(req.signal?.aborted ? 'client-gone' : 'request-complete');
  }
}

/** analyze → decide only: the facts and the decision, nothing runs. */
export async function explainStatement(deps: DriverDeps, principal: Principal, client: ClientInfo, req: Omit<StatementRequest, 'maxRows' | 'signal'>): Promise<Verdict> {
  connectorFor(deps, req.connection);
  const session = deps.pipeline.openSession(principal, client, req.connection);
  try {
    return session.explain(req.sql, req.params);
  } finally {
    session.close('request-complete');
  }
}

export function connectorFor(deps: DriverDeps, name: string): Connector {
  const c = deps.connectors.get(name);
  if (c === undefined) {
    throw new PortcullisError('ERR_UNKNOWN_CONNECTION', `no connection named "${name}"; configured: ${[...deps.connectors.keys()].join(', ')}`);
  }
  return c;
}

/** The decision as callers see it: the rule that decided and, for refusals, why. */
export function decisionJson(d: Decision): Record<string, unknown> {
  const out: Record<string, unknown> = { action: d.action, rule: d.rule };
  if (d.action === 'deny') {
    out.code = d.code;
    out.reason = d.reason;
  } else if (d.action === 'review') {
    out.reason = d.reason;
  } else if (d.wouldHave) {
    out.would_have = { action: d.wouldHave.action, rule: d.wouldHave.rule, reason: d.wouldHave.reason };
  }
  return out;
}
