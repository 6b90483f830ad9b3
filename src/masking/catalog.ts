/**
 * What lineage needs to know about the database: the columns of a relation (to expand `*`,
 * `t.*` and whole-row references), the query behind a view (to trace through it), and which
 * functions compute their result from their arguments alone. The relay's implementation reads
 * pg_catalog and caches it; tests use `staticCatalog`.
 */
export interface CatalogRelation {
  readonly schema: string;
  readonly name: string;
  /** Column names in attribute order, dropped columns left out. */
  readonly columns: readonly string[];
  /** For a view or materialized view: its defining SELECT (`pg_get_viewdef`). */
  readonly viewQuery?: string | undefined;
}

export interface Catalog {
  /**
   * Resolves a relation as PostgreSQL would: a qualified name as given, an unqualified one
   * through the session's search_path. Undefined when there is no such relation.
   */
  relation(schema: string | undefined, name: string): CatalogRelation | undefined;
  /**
   * Whether a function's result derives only from its arguments (true for built-ins such as
   * `upper` or `string_agg`; false for a user function that may read any table). Undefined
   * defers to the gateway's list of PostgreSQL built-ins.
   */
  functionIsPure?(schema: string | undefined, name: string): boolean | undefined;
  /** The schema an unqualified, unresolvable table name is reported under; `public` when absent. */
  readonly defaultSchema?: string | undefined;
}

export interface StaticCatalogInput {
  /** Schemas tried in order for unqualified names; `pg_catalog` is always tried first. */
  searchPath?: readonly string[];
  /** `"schema.name"` → column list, or columns plus the view's query. */
  relations: Readonly<Record<string, readonly string[] | { readonly columns: readonly string[]; readonly view?: string }>>;
  /** `"schema.name"` or bare names of user functions known to be pure. */
  pureFunctions?: readonly string[];
  /** Names of user functions that must be treated as reading arbitrary data. */
  impureFunctions?: readonly string[];
}

/** A fixed catalog, for tests and for frontends that have no live catalog to ask. */
export function staticCatalog(input: StaticCatalogInput): Catalog {
  const path = ['pg_catalog', ...(input.searchPath ?? ['public']).filter((s) => s !== 'pg_catalog')];
  const rels = new Map<string, CatalogRelation>();
  for (const [key, v] of Object.entries(input.relations)) {
    const dot = key.indexOf('.');
    if (dot < 0) throw new TypeError(`staticCatalog: "${key}" must be schema.name`);
    const schema = key.slice(0, dot);
    const name = key.slice(dot + 1);
    const columns = Array.isArray(v) ? (v as readonly string[]) : (v as { columns: readonly string[] }).columns;
    const view = Array.isArray(v) ? undefined : (v as { view?: string }).view;
    rels.set(key, { schema, name, columns, viewQuery: view });
  }
  const pure = new Set(input.pureFunctions ?? []);
  const impure = new Set(input.impureFunctions ?? []);
  return {
    defaultSchema: input.searchPath?.[0] ?? 'public',
    relation(schema, name) {
      if (schema !== undefined) return rels.get(`${schema}.${name}`);
      for (const s of path) {
        const r = rels.get(`${s}.${name}`);
        if (r) return r;
      }
      return undefined;
    },
    functionIsPure(schema, name) {
      const q = schema === undefined ? name : `${schema}.${name}`;
      if (impure.has(q) || impure.has(name)) return false;
      if (pure.has(q) || pure.has(name)) return true;
      return undefined;
    },
  };
}
