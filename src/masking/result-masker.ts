import type { QueryResult, Connector } from '../connectors/connector.js';
import type { Catalog } from './catalog.js';
import type { MaskingEngine } from './engine.js';
import type { ResultColumn } from './plan.js';
import { sqlLineage } from './lineage.js';

/** What the driver path needs of a catalog: the masking `Catalog` plus OID resolution. */
interface OidCatalog extends Catalog {
  columnByOid(tableOid: number, attnum: number): { schema: string; table: string; column: string; isTable: boolean } | undefined;
}

/**
 * Masks a driver-path result (HTTP, MCP) with the same engine, rules and lineage as the wire
 * path: column sources from the table OIDs the driver reported, lineage from the SQL, content
 * detectors over every text value. Notices go through the detectors too.
 */
export async function maskQueryResult(
  engine: MaskingEngine,
  result: QueryResult,
  ctx: { sql: string; profiles?: readonly string[] | undefined; groups: readonly string[]; connector: Connector },
): Promise<QueryResult> {
  if (!engine.enabled) return result;
  let catalog: OidCatalog | undefined;
  try {
    catalog = ctx.connector.catalog ? ((await ctx.connector.catalog()) as unknown as OidCatalog) : undefined;
  } catch {
    catalog = undefined; // unknown lineage: masked conservatively below
  }
  let allTableColumns = true;
  const columns: ResultColumn[] = result.columns.map((c) => {
    const src = catalog && c.tableOid !== 0 ? catalog.columnByOid(c.tableOid, c.attnum) : undefined;
    if (src?.isTable !== true) allTableColumns = false;
    return { name: c.name, typeOid: c.typeOid, format: 0, source: src ? `${src.schema}.${src.table}.${src.column}` : undefined, sourceIsTable: src?.isTable };
  });
  // Plain table columns carry their own source; only computed columns need the parse.
  const lineage = catalog && !allTableColumns ? sqlLineage(ctx.sql, catalog).filter((s) => s.columns.length > 0 || !s.exact).at(-1) : undefined;
  const plan = engine.planMasking({ columns, lineage, profiles: ctx.profiles, groups: ctx.groups });
  const notices = result.notices.map((n) => engine.maskText(n) ?? n);
  if (plan === null) return { ...result, notices };
  const rows = result.rows.map((r) => r.map((v, i) => plan.maskValue(i, v)));
  return { ...result, rows, notices };
}
