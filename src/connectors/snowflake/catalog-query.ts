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
  // The queries above leave INFORMATION_SCHEMA out; its views are described from the list.
  for (const [name, cols] of Object.entries(INFORMATION_SCHEMA)) {
    const oid = String(oids.size + 1);
    oids.set(key('information_schema', name), oid);
    relations.push([oid, 'information_schema', name, 'r', null]);
    cols.forEach((c, i) => columnRows.push([oid, String(i + 1), c]));
  }
  for (const c of columns) {
    const oid = oids.get(key(c[0], c[1]));
    if (oid !== undefined && c[2] != null && c[3] != null) columnRows.push([oid, String(Number(c[3])), lower(c[2])]);
  }
  return CatalogSnapshot.fromRows({ searchPath: [[schema]], relations, columns: columnRows, functions: [] }, o.loadedAt, { systemSchemas: NO_SYSTEM_SCHEMAS });
}

/**
 * INFORMATION_SCHEMA's own views, so lineage knows what catalog queries (the MCP tools' among
 * them) read: metadata, whose columns no masking rule names, instead of an unknown relation
 * that conservative masking would hide whole. Column lists follow Snowflake's documentation.
 */
const INFORMATION_SCHEMA: Readonly<Record<string, readonly string[]>> = {
  tables: ['table_catalog', 'table_schema', 'table_name', 'table_owner', 'table_type', 'is_transient', 'clustering_key', 'row_count', 'bytes', 'retention_time', 'self_referencing_column_name', 'reference_generation', 'user_defined_type_catalog', 'user_defined_type_schema', 'user_defined_type_name', 'is_insertable_into', 'is_typed', 'commit_action', 'created', 'last_altered', 'last_ddl', 'last_ddl_by', 'auto_clustering_on', 'comment', 'is_temporary', 'is_iceberg', 'is_dynamic', 'is_immutable'],
  columns: ['table_catalog', 'table_schema', 'table_name', 'column_name', 'ordinal_position', 'column_default', 'is_nullable', 'data_type', 'character_maximum_length', 'character_octet_length', 'numeric_precision', 'numeric_precision_radix', 'numeric_scale', 'datetime_precision', 'interval_type', 'interval_precision', 'character_set_catalog', 'character_set_schema', 'character_set_name', 'collation_catalog', 'collation_schema', 'collation_name', 'domain_catalog', 'domain_schema', 'domain_name', 'udt_catalog', 'udt_schema', 'udt_name', 'scope_catalog', 'scope_schema', 'scope_name', 'maximum_cardinality', 'dtd_identifier', 'is_self_referencing', 'is_identity', 'identity_generation', 'identity_start', 'identity_increment', 'identity_maximum', 'identity_minimum', 'identity_cycle', 'identity_ordered', 'schema_evolution_record', 'comment'],
  views: ['table_catalog', 'table_schema', 'table_name', 'table_owner', 'view_definition', 'check_option', 'is_updatable', 'insertable_into', 'is_secure', 'created', 'last_altered', 'last_ddl', 'last_ddl_by', 'comment'],
  schemata: ['catalog_name', 'schema_name', 'schema_owner', 'is_transient', 'is_managed_access', 'retention_time', 'default_character_set_catalog', 'default_character_set_schema', 'default_character_set_name', 'sql_path', 'created', 'last_altered', 'comment'],
};

const NO_SYSTEM_SCHEMAS: ReadonlySet<string> = new Set();

function lower(v: string | null | undefined): string {
  return String(v ?? '').toLowerCase();
}

function key(schema: string | null | undefined, name: string | null | undefined): string {
  return `${lower(schema)}\0${lower(name)}`;
}
