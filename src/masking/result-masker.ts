import type { QueryResult, ResultColumn as DriverColumn } from '../connectors/connector.js';
import type { MaskContext } from '../pipeline/pipeline.js';
import type { Catalog } from './catalog.js';
import type { MaskingEngine } from './engine.js';
import type { MaskPlan, ResultColumn } from './plan.js';
import { sqlLineage, type StatementLineage } from './lineage.js';
import { snowflakeLineage } from './snowflake-lineage.js';

/** What the driver path needs of a catalog: the masking `Catalog` plus OID resolution. */
interface OidCatalog extends Catalog {
  columnByOid?(tableOid: number, attnum: number): { schema: string; table: string; column: string; isTable: boolean } | undefined;
}

/** The masking stage's contract (pipeline/pipeline.ts) names what a driver-path result is masked with. */
export type DriverMaskContext = MaskContext;

/** How the rows of one driver-path result are masked; null plan when nothing needs masking. */
export interface DriverMasking {
  readonly plan: MaskPlan | null;
  /** Per column: a rule (or unknown lineage) replaced the whole value, so its type no longer holds. */
  readonly masked: readonly boolean[];
  maskText(text: string): string;
}

/**
 * Plans masking for a driver-path result (HTTP, MCP, Snowflake) with the same engine, rules
 * and lineage as the wire path: column sources from the table OIDs the driver reported,
 * lineage from the SQL in the connector's dialect, content detectors over every text value.
 */
export async function planDriverMasking(engine: MaskingEngine, columns: readonly DriverColumn[], ctx: DriverMaskContext): Promise<DriverMasking> {
  let catalog: OidCatalog | undefined;
  try {
    catalog = ctx.connector.catalog ? ((await ctx.connector.catalog()) as unknown as OidCatalog) : undefined;
  } catch {
    catalog = undefined; // unknown lineage: masked conservatively below
  }
  let allTableColumns = true;
  const cols: ResultColumn[] = columns.map((c) => {
    const src = catalog?.columnByOid && c.tableOid !== 0 ? catalog.columnByOid(c.tableOid, c.attnum) : undefined;
    if (src?.isTable !== true) allTableColumns = false;
    return { name: c.name, typeOid: c.typeOid, format: 0, source: src ? `${src.schema}.${src.table}.${src.column}` : undefined, sourceIsTable: src?.isTable };
  });
  // Plain table columns carry their own source; only computed columns need the parse.
  let lineage: StatementLineage | undefined;
  if (catalog && !allTableColumns) {
    const all = ctx.connector.dialect === 'snowflake' ? snowflakeLineage(ctx.sql, catalog) : sqlLineage(ctx.sql, catalog);
    lineage = all.filter((s) => s.columns.length > 0 || !s.exact).at(-1);
  }
  const plan = engine.planMasking({ columns: cols, lineage, profiles: ctx.profiles, groups: ctx.groups });
  return {
    plan,
    masked: cols.map((_, i) => plan?.columns[i]?.masked !== undefined),
    maskText: (t) => engine.maskText(t) ?? t,
  };
}

/** Masks a whole driver-path result; see `planDriverMasking`. Notices go through the detectors too. */
export async function maskQueryResult(engine: MaskingEngine, result: QueryResult, ctx: DriverMaskContext): Promise<QueryResult> {
  if (!engine.enabled) return result;
  const m = await planDriverMasking(engine, result.columns, ctx);
  const notices = result.notices.map(m.maskText);
  const plan = m.plan;
  if (plan === null) return { ...result, notices };
  const rows = result.rows.map((r) => r.map((v, i) => plan.maskValue(i, v)));
  return { ...result, rows, notices };
}
