import type { ResultColumn as DriverColumn } from '../connectors/connector.js';
import type { MaskContext, RowMasking } from '../pipeline/pipeline.js';
import type { Catalog } from './catalog.js';
import type { MaskingEngine } from './engine.js';
import type { ResultColumn } from './plan.js';
import { sqlLineage, unionLineage, type StatementLineage } from './lineage.js';
import { snowflakeLineage } from './snowflake-lineage.js';

/** What the driver path needs of a catalog: the masking `Catalog` plus OID resolution. */
interface OidCatalog extends Catalog {
  columnByOid?(tableOid: number, attnum: number): { schema: string; table: string; column: string; isTable: boolean } | undefined;
}

/**
 * Plans masking for a driver-path result (HTTP, MCP, Snowflake), applied row by row, with the same engine, rules
 * and lineage as the wire path: column sources from the table OIDs the driver reported,
 * lineage from the SQL in the connector's dialect, content detectors over every text value.
 */
export async function planRowMasking(engine: MaskingEngine, columns: readonly DriverColumn[], ctx: MaskContext): Promise<RowMasking> {
  const catalog = await catalogOf(ctx);
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
  const notices = errorMasker(engine, catalog, ctx);
  return {
    masked: cols.map((_, i) => plan?.columns[i]?.masked !== undefined),
    maskText: (t) => notices({ message: t }).message,
    maskRow:
      plan === null
        ? () => {}
        : (row) => {
            for (let i = 0; i < row.length; i++) row[i] = plan.maskValue(i, row[i] ?? null);
          },
  };
}

/**
 * Masks a driver-path statement error (message and hint) as the wire path masks an
 * ErrorResponse: detectors everywhere, and for a statement that read masked columns — or whose
 * lineage is unknown — every quoted value and digit run it did not write itself. A cast error
 * (`invalid input syntax for type integer: "123-45-6789"`), a regclass lookup, a RAISE.
 */
export async function maskDriverError(engine: MaskingEngine, fields: { message: string; hint?: string | undefined }, ctx: MaskContext): Promise<{ message: string; hint?: string | undefined }> {
  return errorMasker(engine, await catalogOf(ctx), ctx)(fields);
}

/** The connector's catalog; none (or one that failed to load) means unknown lineage, masked conservatively. */
async function catalogOf(ctx: MaskContext): Promise<OidCatalog | undefined> {
  try {
    return ctx.connector.catalog ? ((await ctx.connector.catalog()) as unknown as OidCatalog) : undefined;
  } catch {
    return undefined;
  }
}

function errorMasker(engine: MaskingEngine, catalog: OidCatalog | undefined, ctx: MaskContext): (f: { message: string; hint?: string | undefined }) => { message: string; hint?: string | undefined } {
  let context: ReturnType<MaskingEngine['errorContext']> | undefined;
  return (f) => {
    // Judged by everything the statement reads, as one; no catalog means unknown: sensitive.
    context ??= { ...engine.errorContext({ lineage: wholeLineage(catalog, ctx), profiles: ctx.profiles, groups: ctx.groups }), statementText: ctx.sql };
    const masked = engine.maskErrorMessage({ severity: 'ERROR', code: 'XX000', message: f.message, hint: f.hint }, context);
    return masked === null ? f : { message: masked.message, hint: masked.hint };
  };
}

function wholeLineage(catalog: OidCatalog | undefined, ctx: MaskContext): StatementLineage | undefined {
  if (!catalog) return undefined;
  const all = ctx.connector.dialect === 'snowflake' ? snowflakeLineage(ctx.sql, catalog) : sqlLineage(ctx.sql, catalog);
  return all.length > 0 ? unionLineage(all) : undefined;
}
