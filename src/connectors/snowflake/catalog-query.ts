import { CATALOG_LIMITS, CatalogSnapshot, type CatalogRow } from '../catalog-snapshot.js';
import { viewQueryOf } from './view-query.js';

/**
 * The constant statements behind a Snowflake catalog: the configured database's
 * INFORMATION_SCHEMA (the session's current database), without INFORMATION_SCHEMA itself.
 * Nothing is interpolated.
 */
export const SNOWFLAKE_CATALOG_QUERIES = {
  tables: `SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema <> 'INFORMATION_SCHEMA' ORDER BY table_schema, table_name LIMIT ${CATALOG_LIMITS.relations + 1}`,
  columns: `SELECT table_schema, table_name, column_name, ordinal_position FROM information_schema.columns WHERE table_schema <> 'INFORMATION_SCHEMA' ORDER BY table_schema, table_name, ordinal_position LIMIT ${CATALOG_LIMITS.columns + 1}`,
  views: `SELECT table_schema, table_name, view_definition FROM information_schema.views WHERE table_schema <> 'INFORMATION_SCHEMA' LIMIT ${CATALOG_LIMITS.relations + 1}`,
} as const;

export type CatalogReader = (sql: string) => Promise<readonly CatalogRow[]>;

/**
 * `table_type` → the relation kind CatalogSnapshot understands: `r` holds its values exactly,
 * `v`/`m` are traced through their query, `f` is computed elsewhere. A type this list does not
 * know is treated like `f`: its columns are known but not trusted to be plain table values.
 */
const KINDS: Readonly<Record<string, string>> = {
  'BASE TABLE': 'r',
  'TEMPORARY TABLE': 'r',
  'TRANSIENT TABLE': 'r',
  'EVENT TABLE': 'r',
  VIEW: 'v',
  'MATERIALIZED VIEW': 'm',
  'EXTERNAL TABLE': 'f',
};

/**
 * Reads the catalog and builds a snapshot with synthetic OIDs (Snowflake result columns carry
 * no table OIDs; the OIDs only link the rows of the three queries together).
 *
 * Names are lower-cased: Snowflake folds unquoted identifiers to upper case, and masking
 * rules are written `public.customers.ssn`. Two names that differ only by case (possible with
 * quoted identifiers) become one; the later one wins. The search path is the configured
 * schema, or `public` (Snowflake's default schema).
 */
export async function loadSnowflakeCatalog(read: CatalogReader, o: { schema: string | undefined; loadedAt: number }): Promise<CatalogSnapshot> {
  const tables = await read(SNOWFLAKE_CATALOG_QUERIES.tables);
  const columns = await read(SNOWFLAKE_CATALOG_QUERIES.columns);
  const views = await read(SNOWFLAKE_CATALOG_QUERIES.views);
  const schema = (o.schema ?? 'public').toLowerCase();
  if (tables.length > CATALOG_LIMITS.relations) return CatalogSnapshot.unknown(o.loadedAt, `the catalog has more than ${CATALOG_LIMITS.relations} relations`, [schema]);
  if (columns.length > CATALOG_LIMITS.columns) return CatalogSnapshot.unknown(o.loadedAt, `the catalog has more than ${CATALOG_LIMITS.columns} columns`, [schema]);
  const definitions = new Map<string, string>();
  for (const v of views) {
    if (v[2] !== null && v[2] !== undefined) definitions.set(key(v[0], v[1]), v[2]);
  }
  const oids = new Map<string, string>();
  const relations: CatalogRow[] = [];
  for (const t of tables) {
    const k = key(t[0], t[1]);
    if (oids.has(k)) continue;
    const oid = String(oids.size + 1);
    oids.set(k, oid);
    const kind = KINDS[String(t[2] ?? '').toUpperCase()] ?? 'f';
    const definition = definitions.get(k);
    const viewQuery = (kind === 'v' || kind === 'm') && definition !== undefined ? (viewQueryOf(definition) ?? null) : null;
    relations.push([oid, lower(t[0]), lower(t[1]), kind, viewQuery]);
  }
  const columnRows: CatalogRow[] = [];
  for (const c of columns) {
    const oid = oids.get(key(c[0], c[1]));
    if (oid !== undefined && c[2] != null && c[3] != null) columnRows.push([oid, String(Number(c[3])), lower(c[2])]);
  }
  return CatalogSnapshot.fromRows({ searchPath: [[schema]], relations, columns: columnRows, functions: [] }, o.loadedAt);
}

function lower(v: string | null | undefined): string {
  return String(v ?? '').toLowerCase();
}

function key(schema: string | null | undefined, name: string | null | undefined): string {
  return `${lower(schema)}\0${lower(name)}`;
}
