/**
 * The bookkeeping lineage needs while it walks a query: the lineage of a value (`Lin`), the
 * relations in a FROM list (`RangeEntry`) and the name scopes they form.
 */

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
