/**
 * The bookkeeping lineage needs while it walks a query: the lineage of a value (`Lin`), the
 * relations in a FROM list (`RangeEntry`) and the name scopes they form.
 */
import type { ColumnLineage, StatementLineage } from './lineage.js';

/** `*` in `unknown`: the value may hold anything; otherwise the relations it may come from. */
export const ANYWHERE = '*';

/** The source columns a value derives from, and what could not be traced. */
export class Lin {
  readonly sources = new Set<string>();
  readonly unknown = new Set<string>();

  static of(source: string): Lin {
    const l = new Lin();
    l.sources.add(source);
    return l;
  }

  static unknown(where: string): Lin {
    const l = new Lin();
    l.unknown.add(where);
    return l;
  }

  add(other: Lin | undefined): this {
    if (other === undefined || other === this) return this;
    for (const s of other.sources) this.sources.add(s);
    for (const u of other.unknown) this.unknown.add(u);
    return this;
  }

  get size(): number {
    return this.sources.size + this.unknown.size;
  }
}

export function union(items: Iterable<Lin>): Lin {
  const l = new Lin();
  for (const i of items) l.add(i);
  return l;
}

export interface OutColumn {
  name: string;
  lin: Lin;
}

/** A query's output: its columns, and whether their number is certain. */
export interface QueryResult {
  cols: OutColumn[];
  /** False when a `*` could not be expanded: the output has columns we cannot line up. */
  exact: boolean;
}

export function allOf(r: QueryResult): Lin {
  return union(r.cols.map((c) => c.lin));
}

/** One item of a FROM list as names see it. */
export interface RangeEntry {
  /** What `alias.col` is written with: the alias, or the relation's own name. */
  alias: string | undefined;
  /** `schema.name` of a table or view, for `schema.table.col` references. */
  relation?: string | undefined;
  cols: OutColumn[];
  /**
   * Set when the entry's columns are not all known (an unresolved table, a function returning
   * a record): the lineage of any column not in `cols`, given its name.
   */
  rest?: ((name: string) => Lin) | undefined;
}

export function entryColumn(e: RangeEntry, name: string): Lin | undefined {
  let found: Lin | undefined;
  for (const c of e.cols) if (c.name === name) found = found === undefined ? c.lin : union([found, c.lin]);
  if (found !== undefined) return found;
  return e.rest?.(name);
}

/** A whole-row reference (`c`, `c.*`, `row_to_json(c)`) carries every column. */
export function entryWhole(e: RangeEntry): Lin {
  const l = union(e.cols.map((c) => c.lin));
  if (e.rest) l.add(e.rest(''));
  return l;
}

/** A common table expression as later FROM lists see it; `cols` is undefined while it is being computed. */
export interface CteDef {
  name: string;
  aliasCols: string[];
  result: QueryResult | undefined;
}

/** Names visible at one query level; `parent` is the enclosing level for correlated references. */
export class Scope {
  readonly entries: RangeEntry[] = [];
  readonly ctes = new Map<string, CteDef>();
  readonly parent: Scope | undefined;

  constructor(parent: Scope | undefined) {
    this.parent = parent;
  }

  cte(name: string): CteDef | undefined {
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) {
      const c = s.ctes.get(name);
      if (c !== undefined) return c;
    }
    return undefined;
  }
}

/** Column aliases (`AS t(a, b)`, `WITH c(a, b)`) rename the first columns in order. */
export function renameCols(r: QueryResult, aliases: string[]): QueryResult {
  if (aliases.length === 0) return r;
  return { cols: r.cols.map((c, i) => ({ name: aliases[i] ?? c.name, lin: c.lin })), exact: r.exact };
}

/** UNION/INTERSECT/EXCEPT: column i of the result derives from column i of either branch. */
export function setOp(l: QueryResult, r: QueryResult): QueryResult {
  if (!l.exact || !r.exact || l.cols.length !== r.cols.length) {
    const all = union([allOf(l), allOf(r)]);
    return { cols: l.cols.map((c) => ({ name: c.name, lin: all })), exact: false };
  }
  return { cols: l.cols.map((c, i) => ({ name: c.name, lin: union([c.lin, r.cols[i]!.lin]) })), exact: true };
}

/** A column whose lineage cannot be established: it may derive from anything. */
export const unknownAnywhere = (): Lin => Lin.unknown(ANYWHERE);

/** The FROM entries a qualified reference (`t.col`, `s.t.col`) names: by alias, or by relation. */
export function entriesNamed(qual: readonly string[], scope: Scope): RangeEntry[] {
  const rel = qual.slice(-2).join('.');
  const alias = qual[qual.length - 1];
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    const hit = s.entries.filter((e) => (qual.length === 1 ? e.alias === alias : e.relation === rel));
    if (hit.length > 0) return hit;
  }
  return [];
}

/**
 * An unqualified column name as the innermost scope that can see it resolves it; undefined
 * when no scope can (the database will reject it, or it names something the walk missed).
 */
export function visibleColumn(name: string, scope: Scope): Lin | undefined {
  for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
    const known = s.entries.filter((e) => e.cols.some((c) => c.name === name));
    if (known.length > 0) return union(known.map((e) => entryColumn(e, name)!));
    // An entry with unlisted columns may hold `name`; a whole-row reference may mean an alias.
    const open = s.entries.filter((e) => e.rest !== undefined);
    const row = s.entries.filter((e) => e.alias === name);
    if (open.length > 0 || row.length > 0) return union([...open.map((e) => e.rest!(name)), ...row.map(entryWhole)]);
  }
  return undefined;
}

/** A subquery or view result under an alias, with column aliases applied. */
export function aliasedEntry(alias: string | undefined, r: QueryResult, columnAliases: string[]): RangeEntry {
  const renamed = renameCols(r, columnAliases);
  return { alias, cols: renamed.cols, rest: r.exact ? undefined : () => allOf(r) };
}

/** The walker's result as the lineage API reports it: sources and unknowns sorted. */
export function toColumns(r: QueryResult): ColumnLineage[] {
  return r.cols.map((c) => ({
    name: c.name,
    sources: [...c.lin.sources].sort(),
    ...(c.lin.unknown.size > 0 ? { unknown: [...c.lin.unknown].sort() } : {}),
  }));
}

/** A statement whose output columns cannot be described: one column that may hold anything. */
export const unknownStatement = (relations: readonly string[]): StatementLineage => ({
  columns: [{ name: '?column?', sources: [], unknown: [ANYWHERE] }],
  exact: false,
  relations,
});
