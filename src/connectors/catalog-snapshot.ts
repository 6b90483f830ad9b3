/**
 * What the upstream database holds, read once and kept: the masking engine's `Catalog`
 * (relations, their columns and view queries, function purity, the search path) plus a map
 * from RowDescription's table OID and attribute number to `schema.table.column`.
 *
 * Both connectors run the same constant statements (`CATALOG_STATEMENTS`, nothing interpolated)
 * and hand the rows to `CatalogSnapshot.fromRows`; `catalog-cache.ts` decides when to reload.
 */
import type { Catalog, CatalogRelation } from '../masking/index.js';

/** A result column's source, from RowDescription's table OID and attribute number. */
export interface CatalogColumn {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  /**
   * True for an ordinary or partitioned table, whose values the column holds exactly; false
   * for a view, materialized view or foreign table, whose values some query or remote
   * server computes.
   */
  readonly isTable: boolean;
}

/**
 * Beyond these the snapshot is refused (`complete: false`): a catalog that large costs too
 * much memory per gateway, and an unknown catalog only makes masking more conservative.
 */
export const CATALOG_LIMITS = { relations: 100_000, columns: 200_000, functions: 200_000 } as const;

/**
 * Other sessions' temporary schemas and TOAST tables are neither reachable by name nor
 * reported in RowDescription, so they are left out. LIKE's default escape is the backslash.
 */
const REACHABLE_SCHEMA = String.raw`n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'`;
const USER_SCHEMA = `${REACHABLE_SCHEMA} AND n.nspname NOT IN ('pg_catalog', 'information_schema')`;

/**
 * System catalog tables whose columns are loaded, so catalog queries (the MCP tools', an
 * agent's `\d`) have known lineage instead of being masked whole: metadata only. Tables that
 * hold data or secrets (pg_statistic's sampled values, pg_authid's password verifiers,
 * pg_user_mapping's options, pg_largeobject, pg_proc's source text) stay unknown.
 */
const METADATA_TABLES = ['pg_class', 'pg_namespace', 'pg_attribute', 'pg_type', 'pg_index', 'pg_constraint', 'pg_description', 'pg_attrdef', 'pg_am', 'pg_inherits', 'pg_collation', 'pg_enum', 'pg_sequence', 'pg_database', 'pg_tablespace', 'pg_extension', 'pg_trigger'] as const;
const METADATA_TABLE_SET: ReadonlySet<string> = new Set(METADATA_TABLES.map((t) => `pg_catalog.${t}`));

/**
 * A deparsed view larger than this is treated as unknown rather than shipped: one row must
 * stay under the upstream reader's message limit, and lineage gains nothing from such a view.
 */
const MAX_VIEW_BYTES = 512 * 1024;

/** The constant statements behind a snapshot; every column is text so both readers see the same strings. */
const QUERIES = {
  /** `current_schemas(false)`: the effective path, `$user` expanded, unusable schemas dropped. */
  searchPath: 'SELECT s::text FROM unnest(current_schemas(false)) WITH ORDINALITY AS p(s, n) ORDER BY n',
  /**
   * Every relation name that can shadow another in search-path order (indexes and sequences
   * included), with the view text only for user views. System schemas are listed by name
   * only: their views expose data no column rule names (pg_stats.most_common_vals,
   * pg_stat_activity.query), so lineage through them stays unknown.
   */
  relations: `SELECT c.oid::text, n.nspname::text, c.relname::text, c.relkind::text,
  CASE WHEN c.relkind IN ('v', 'm') AND ${USER_SCHEMA} THEN
    (SELECT CASE WHEN octet_length(d) <= ${MAX_VIEW_BYTES} THEN d END FROM pg_get_viewdef(c.oid) AS d)
  END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${REACHABLE_SCHEMA}
LIMIT ${CATALOG_LIMITS.relations + 1}`,
  columns: `SELECT a.attrelid::text, a.attnum::text, a.attname::text
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (${USER_SCHEMA} OR (n.nspname = 'pg_catalog' AND c.relkind = 'r' AND c.relname IN (${METADATA_TABLES.map((t) => `'${t}'`).join(', ')})))
LIMIT ${CATALOG_LIMITS.columns + 1}`,
  /**
   * One row per function (overloads grouped in JS: cheaper than a sort upstream). A user
   * function counts as pure only when it is IMMUTABLE, not SECURITY DEFINER, and written in C
   * or installed by an extension: PostgreSQL does not check the IMMUTABLE label, and a SQL or
   * PL/pgSQL function so labelled may still read any table (a role that can create functions
   * could launder a masked column through one). System functions are listed by name only, so
   * an unqualified call that may reach a built-in defers to the gateway's list of built-ins.
   */
  functions: `SELECT n.nspname::text, p.proname::text,
  CASE WHEN n.nspname IN ('pg_catalog', 'information_schema') THEN 'false' ELSE
    (p.provolatile = 'i' AND NOT p.prosecdef AND (l.lanname IN ('c', 'internal') OR EXISTS (
      SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')))::text
  END
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE ${REACHABLE_SCHEMA}
LIMIT ${CATALOG_LIMITS.functions + 1}`,
} as const;

/** One step of a catalog load; `rows` names where its result goes. */
export interface CatalogStatement {
  readonly sql: string;
  readonly rows?: keyof CatalogRows;
}

/**
 * What a loader runs, in order, inside one read-only transaction (so that every step sees
 * the same catalog). `SET LOCAL` leaves no trace once the transaction ends, which matters on
 * PGlite's shared backend.
 */
export const CATALOG_STATEMENTS: readonly CatalogStatement[] = [
  // The path a new session of the gateway's role gets, whatever an earlier SET changed.
  { sql: 'SET LOCAL search_path TO DEFAULT' },
  { sql: QUERIES.searchPath, rows: 'searchPath' },
  // pg_get_viewdef qualifies every name not visible on the current path: with pg_catalog
  // alone, view texts name their schemas and read the same under any client's path.
  { sql: 'SET LOCAL search_path TO pg_catalog' },
  { sql: QUERIES.relations, rows: 'relations' },
  { sql: QUERIES.columns, rows: 'columns' },
  { sql: QUERIES.functions, rows: 'functions' },
];

export type CatalogRow = readonly (string | null)[];

/** The rows of each query in `CATALOG_STATEMENTS`, in its column order. */
export interface CatalogRows {
  readonly searchPath: readonly CatalogRow[];
  readonly relations: readonly CatalogRow[];
  readonly columns: readonly CatalogRow[];
  readonly functions: readonly CatalogRow[];
}

const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema']);
const TABLE_KINDS = 'rp';
const COLUMN_KINDS = 'rpvmf';

interface Entry {
  readonly schema: string;
  readonly name: string;
  readonly kind: string;
  /** Set when lineage can use the relation; absent for names that only shadow. */
  relation: CatalogRelation | undefined;
  /** Column names by attribute number; holes where columns were dropped. */
  readonly attnames: (string | undefined)[];
  viewQuery: string | undefined;
}

/**
 * An immutable picture of the upstream catalog at `loadedAt`.
 *
 * Unqualified names resolve as PostgreSQL resolves them: through the search path, with
 * `pg_catalog` searched first unless the path names it elsewhere. What this cannot see: a
 * client session's own temporary tables (searched before everything else in that session
 * only) and a session-level `SET search_path` (see `withSearchPath`).
 *
 * @example
 *   const cat = await connector.catalog();
 *   cat.relation(undefined, 'customers')?.columns;   // ['id', 'name', 'email', …]
 *   cat.columnByOid(field.tableID, field.columnID);  // { schema: 'public', table: 'customers', column: 'email', isTable: true }
 */
export class CatalogSnapshot implements Catalog {
  /** Milliseconds since the epoch at which the load began. */
  readonly loadedAt: number;
  /** False when the catalog was too large (or otherwise unusable): every lookup says unknown. */
  readonly complete: boolean;
  /** Why the snapshot is incomplete, for logs. */
  readonly reason: string | undefined;
  /** The effective search path of a new session, without implicitly searched schemas. */
  readonly searchPath: readonly string[];
  readonly defaultSchema: string;
  readonly size: { readonly relations: number; readonly columns: number; readonly functions: number };
  readonly #byName: ReadonlyMap<string, Entry>;
  readonly #byOid: ReadonlyMap<number, Entry>;
  /** `schema\0name` → whether every overload is pure (system names: false, unused). */
  readonly #functions: ReadonlyMap<string, boolean>;
  readonly #path: readonly string[];

  private constructor(
    loadedAt: number,
    searchPath: readonly string[],
    byName: ReadonlyMap<string, Entry>,
    byOid: ReadonlyMap<number, Entry>,
    functions: ReadonlyMap<string, boolean>,
    columns: number,
    reason?: string,
  ) {
    this.loadedAt = loadedAt;
    this.complete = reason === undefined;
    this.reason = reason;
    this.searchPath = searchPath;
    this.defaultSchema = searchPath[0] ?? 'public';
    this.#byName = byName;
    this.#byOid = byOid;
    this.#functions = functions;
    this.#path = effectivePath(searchPath);
    this.size = { relations: byOid.size, columns, functions: functions.size };
  }

  /** A snapshot that knows nothing, so that lineage treats every relation as unknown. */
  static unknown(loadedAt: number, reason: string, searchPath: readonly string[] = []): CatalogSnapshot {
    return new CatalogSnapshot(loadedAt, searchPath, new Map(), new Map(), new Map(), 0, reason);
  }

  /**
   * Builds a snapshot from the rows of `CATALOG_STATEMENTS`; over `CATALOG_LIMITS` it is
   * `unknown`. `systemSchemas` are PostgreSQL's by default (their columns are not loaded); a
   * Snowflake catalog describes its INFORMATION_SCHEMA itself and passes none.
   */
  static fromRows(rows: CatalogRows, loadedAt: number, opts: { systemSchemas?: ReadonlySet<string> } = {}): CatalogSnapshot {
    const system = opts.systemSchemas ?? SYSTEM_SCHEMAS;
    const searchPath = rows.searchPath.map((r) => text(r, 0));
    for (const part of ['relations', 'columns', 'functions'] as const) {
      if (rows[part].length > CATALOG_LIMITS[part]) {
        return CatalogSnapshot.unknown(loadedAt, `the catalog has more than ${CATALOG_LIMITS[part]} ${part}`, searchPath);
      }
    }
    const byName = new Map<string, Entry>();
    const byOid = new Map<number, Entry>();
    for (const r of rows.relations) {
      const schema = text(r, 1);
      const name = text(r, 2);
      const kind = text(r, 3);
      const entry: Entry = { schema, name, kind, relation: undefined, attnames: [], viewQuery: r[4] ?? undefined };
      byName.set(key(schema, name), entry);
      const metadata = kind === 'r' && METADATA_TABLE_SET.has(`${schema}.${name}`);
      if ((!system.has(schema) || metadata) && COLUMN_KINDS.includes(kind)) byOid.set(oid(text(r, 0)), entry);
    }
    for (const r of rows.columns) {
      const entry = byOid.get(oid(text(r, 0)));
      if (entry !== undefined) entry.attnames[Number(text(r, 1))] = text(r, 2);
    }
    for (const e of byOid.values()) {
      const isView = e.kind === 'v' || e.kind === 'm';
      // A view whose text was withheld (too large) stays a shadowing name: unknown lineage.
      if (isView && e.viewQuery === undefined) continue;
      const columns = e.attnames.filter((c): c is string => c !== undefined);
      e.relation = isView ? { schema: e.schema, name: e.name, columns, viewQuery: e.viewQuery } : { schema: e.schema, name: e.name, columns };
      e.viewQuery = undefined;
    }
    const functions = new Map<string, boolean>();
    for (const r of rows.functions) {
      // A name is pure only when every overload is: any of them may be the one called.
      const k = key(text(r, 0), text(r, 1));
      functions.set(k, text(r, 2) === 'true' && functions.get(k) !== false);
    }
    return new CatalogSnapshot(loadedAt, searchPath, byName, byOid, functions, rows.columns.length);
  }

  relation(schema: string | undefined, name: string): CatalogRelation | undefined {
    return this.#relation(this.#path, schema, name);
  }

  functionIsPure(schema: string | undefined, name: string): boolean | undefined {
    return this.#functionIsPure(this.#path, schema, name);
  }

  /**
   * The column behind RowDescription's table OID and attribute number (`pg`'s
   * `field.tableID`/`field.columnID`); undefined for 0, system catalogs and unknown OIDs.
   */
  columnByOid(tableOid: number, attnum: number): CatalogColumn | undefined {
    const e = this.#byOid.get(tableOid);
    const column = e?.attnames[attnum];
    if (e === undefined || column === undefined) return undefined;
    return { schema: e.schema, table: e.name, column, isTable: TABLE_KINDS.includes(e.kind) };
  }

  /**
   * The same catalog seen by a session whose search path differs from the default (after the
   * relay saw `SET search_path`). `schemas` is the effective list, as `current_schemas(false)`
   * would report it; names of schemas that do not exist are harmless.
   */
  withSearchPath(schemas: readonly string[]): Catalog {
    const path = effectivePath(schemas);
    return {
      defaultSchema: schemas[0] ?? 'public',
      relation: (schema, name) => this.#relation(path, schema, name),
      functionIsPure: (schema, name) => this.#functionIsPure(path, schema, name),
    };
  }

  #relation(path: readonly string[], schema: string | undefined, name: string): CatalogRelation | undefined {
    if (schema !== undefined) return this.#byName.get(key(schema, name))?.relation;
    for (const s of path) {
      // The first schema holding the name wins, even when it holds an index or a system view
      // that lineage cannot use: falling through would name the wrong relation.
      const e = this.#byName.get(key(s, name));
      if (e !== undefined) return e.relation;
    }
    return undefined;
  }

  #functionIsPure(path: readonly string[], schema: string | undefined, name: string): boolean | undefined {
    // Built-ins are judged by the gateway's own list, which knows which ones read data.
    if (schema === 'pg_catalog') return undefined;
    if (schema !== undefined) return this.#functions.get(key(schema, name));
    // PostgreSQL picks among the overloads in every schema on the path by argument types, so
    // any impure candidate may be the one called.
    let candidates = 0;
    for (const s of path) {
      if (s === 'pg_catalog') continue;
      const pure = this.#functions.get(key(s, name));
      if (pure === false) return false;
      if (pure === true) candidates++;
    }
    if (candidates === 0 || this.#functions.has(key('pg_catalog', name))) return undefined;
    return true;
  }
}

/** PostgreSQL searches pg_catalog first unless the path places it explicitly. */
function effectivePath(schemas: readonly string[]): readonly string[] {
  return schemas.includes('pg_catalog') ? schemas : ['pg_catalog', ...schemas];
}

function key(schema: string, name: string): string {
  return `${schema}\0${name}`;
}

function text(row: CatalogRow, i: number): string {
  const v = row[i];
  if (typeof v !== 'string') throw new TypeError(`catalog row: column ${i} is ${v === null ? 'NULL' : 'missing'}`);
  return v;
}

function oid(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`catalog row: "${s}" is not an OID`);
  return n;
}
