import type { Analysis } from '../analysis/facts.js';
import type { Connector } from '../connectors/connector.js';

/**
 * The planner's estimate of the rows a write touches, for the reviewer: `EXPLAIN (FORMAT JSON)`
 * run upstream on the driver path. EXPLAIN without ANALYZE only plans, and the driver path
 * sends one statement through the extended protocol, so a second statement smuggled into the
 * text cannot run; single plain writes are the only statements explained at all.
 * Any failure (a parameter the planner needs, a connector without a driver path) is simply no
 * estimate.
 */
export async function estimateAffectedRows(connector: Connector | undefined, analysis: Analysis, sql: string, params: readonly (string | null)[] | undefined, applicationName: string): Promise<number | null> {
  if (!connector?.query || analysis.kind !== 'write' || analysis.statements.length !== 1) return null;
  const tag = analysis.statements[0]!.tag;
  if (!['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(tag)) return null;
  try {
    const r = await connector.query({ sql: `EXPLAIN (FORMAT JSON) ${sql}`, params, maxRows: 1, timeoutMs: 5000, applicationName });
    const text = r.rows[0]?.[0];
    if (typeof text !== 'string') return null;
    return rowsOf(JSON.parse(text) as unknown);
  } catch {
    return null;
  }
}

interface PlanNode {
  'Node Type'?: string;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

/** A ModifyTable node reports the rows it returns (0 without RETURNING); its input is what it changes. */
function rowsOf(doc: unknown): number | null {
  const plan = (Array.isArray(doc) ? (doc[0] as { Plan?: PlanNode } | undefined)?.Plan : undefined) ?? undefined;
  if (!plan) return null;
  const node = plan['Node Type'] === 'ModifyTable' && plan.Plans?.[0] ? plan.Plans[0] : plan;
  return typeof node['Plan Rows'] === 'number' ? node['Plan Rows'] : null;
}
