import type { ClientInfo, Principal } from '../../pipeline/principal.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { runStatement, type DriverDeps, type StatementOutcome } from '../http/run-statement.js';

/**
 * `list_tables` and `describe_table`. The catalog SQL goes through the same pipeline as any
 * agent statement, so policy decides whether the catalog may be read at all; each table is
 * then offered only when policy would let this principal read it.
 */

/** Policy is asked once per table; a catalog larger than this is cut. */
export const MAX_TABLES = 500;

export interface TableEntry {
  readonly schema: string;
  readonly name: string;
  readonly kind: string;
}

export interface ColumnEntry {
  readonly name: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly masked: boolean;
}

/**
 * Which columns of a table this principal sees masked. The masking stage supplies it; until
 * then no column is reported as masked.
 */
export type MaskedColumnsHook = (input: { principal: Principal; connection: string; schema: string; table: string; columns: readonly string[] }) => ReadonlySet<string>;

export interface CatalogCaller {
  readonly deps: DriverDeps;
  readonly principal: Principal;
  readonly client: ClientInfo;
  readonly maskedColumns?: MaskedColumnsHook | undefined;
  readonly signal?: AbortSignal | undefined;
}

const LIST_SQL = `SELECT n.nspname, c.relname,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' END
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND NOT c.relispartition
   AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
   AND ($1::text IS NULL OR n.nspname = $1::text)
 ORDER BY 1, 2`;

const DESCRIBE_SQL = `SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.oid = $1::regclass
 ORDER BY a.attnum`;

/**
 * Snowflake keeps its catalog in INFORMATION_SCHEMA of the current database, with upper-case
 * names for unquoted identifiers. Binds are positional `?`.
 */
const SNOWFLAKE_LIST_SQL = `SELECT table_schema, table_name,
       CASE table_type WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' WHEN 'MATERIALIZED VIEW' THEN 'materialized view' ELSE lower(table_type) END
  FROM information_schema.tables
 WHERE table_schema <> 'INFORMATION_SCHEMA'
   AND (? IS NULL OR table_schema = upper(?))
 ORDER BY 1, 2`;

const SNOWFLAKE_DESCRIBE_SQL = `SELECT table_schema, table_name, column_name, data_type, CASE is_nullable WHEN 'YES' THEN 't' ELSE 'f' END
  FROM information_schema.columns
 WHERE table_schema <> 'INFORMATION_SCHEMA'
   AND upper(table_name) = upper(?)
   AND (? IS NULL OR upper(table_schema) = upper(?))
 ORDER BY table_schema, ordinal_position`;

function dialectOf(c: CatalogCaller, connection: string): string {
  return c.deps.connectors.get(connection)?.dialect ?? 'postgres';
}

export async function listTables(c: CatalogCaller, connection: string, schema: string | undefined): Promise<{ tables: TableEntry[]; truncated: boolean }> {
  const rows =
    dialectOf(c, connection) === 'snowflake'
      ? await catalogRows(c, connection, SNOWFLAKE_LIST_SQL, [schema ?? null, schema ?? null], MAX_TABLES)
      : await catalogRows(c, connection, LIST_SQL, [schema ?? null], MAX_TABLES);
  const all = rows.rows.map((r) => ({ schema: r[0]!, name: r[1]!, kind: r[2]! }));
  const readable = await readableBy(c, connection, all);
  return { tables: all.filter((_, i) => readable[i]), truncated: rows.truncated };
}

export async function describeTable(c: CatalogCaller, connection: string, table: string): Promise<{ schema: string; name: string; columns: ColumnEntry[] }> {
  let rows: (string | null)[][];
  if (dialectOf(c, connection) === 'snowflake') {
    const dot = table.lastIndexOf('.');
    const schema = dot < 0 ? null : table.slice(0, dot).split('.').pop()!.replace(/"/g, '');
    const name = (dot < 0 ? table : table.slice(dot + 1)).replace(/"/g, '');
    rows = (await catalogRows(c, connection, SNOWFLAKE_DESCRIBE_SQL, [name, schema, schema], 1600)).rows;
    // Without a schema the first schema holding the name wins, as a search path would.
    const firstSchema = rows[0]?.[0];
    rows = rows.filter((r) => r[0] === firstSchema);
  } else {
    rows = (await catalogRows(c, connection, DESCRIBE_SQL, [table], 1600)).rows;
  }
  const first = rows[0];
  if (first === undefined) return { schema: '', name: table, columns: [] };
  const schema = first[0]!;
  const name = first[1]!;
  const [allowed] = await readableBy(c, connection, [{ schema, name }]);
  if (!allowed) {
    throw new PortcullisError('ERR_POLICY_DENIED', `policy does not let ${c.principal.subject} read ${schema}.${name} on connection "${connection}", so its columns are not shown`);
  }
  // Masking rules name Snowflake objects lower-case, as unquoted identifiers fold.
  const fold = dialectOf(c, connection) === 'snowflake' ? (x: string) => x.toLowerCase() : (x: string) => x;
  const names = rows.map((r) => fold(r[2]!));
  const masked = c.maskedColumns?.({ principal: c.principal, connection, schema: fold(schema), table: fold(name), columns: names }) ?? new Set<string>();
  return { schema, name, columns: rows.map((r) => ({ name: r[2]!, type: r[3]!, nullable: r[4] === 't', masked: masked.has(fold(r[2]!)) })) };
}

async function catalogRows(c: CatalogCaller, connection: string, sql: string, params: (string | null)[], maxRows: number): Promise<{ rows: (string | null)[][]; truncated: boolean }> {
  const outcome: StatementOutcome = await runStatement(c.deps, c.principal, c.client, { connection, sql, params, maxRows, signal: c.signal });
  if (outcome.kind === 'refused') {
    throw new PortcullisError(outcome.decision.code, `policy does not let ${c.principal.subject} read the catalog of connection "${connection}" (rule ${outcome.decision.rule}): ${outcome.decision.reason}`);
  }
  if (outcome.kind === 'failed') throw outcome.error;
  return { rows: outcome.result.rows, truncated: outcome.result.truncated };
}

/**
 * Asks policy, without running anything, whether `SELECT * FROM <table>` would be allowed.
 * `admit` is analyze → decide only: nothing is executed, recorded or charged to the rate.
 */
async function readableBy(c: CatalogCaller, connection: string, tables: readonly { schema: string; name: string }[]): Promise<boolean[]> {
  if (tables.length === 0) return [];
  const session = c.deps.pipeline.openSession(c.principal, c.client, connection);
  try {
    const out: boolean[] = [];
    const quote = dialectOf(c, connection) === 'snowflake' ? snowflakeIdent : quoteIdent;
    for (const t of tables) {
      const v = session.explain(`SELECT * FROM ${quote(t.schema)}.${quote(t.name)}`);
      out.push(v.decision.action === 'allow');
    }
    return out;
  } finally {
    session.close('request-complete');
  }
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** An upper-case name is what an unquoted identifier folds to, so it is written bare (and policy sees it lower-cased). */
function snowflakeIdent(s: string): string {
  return /^[A-Z_][A-Z0-9_$]*$/.test(s) ? s : quoteIdent(s);
}
