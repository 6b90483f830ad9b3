import { parseSync } from 'libpg-query';
import type { Catalog, CatalogRelation } from './catalog.js';
import { PURE_BUILTINS, READING_BUILTINS } from './builtin-functions.js';
import { ANYWHERE, Lin, Scope, aliasedEntry, allOf, entriesNamed, entryColumn, entryWhole, renameCols, setOp, toColumns, union, unknownAnywhere, unknownStatement, visibleColumn, type OutColumn, type QueryResult, type RangeEntry } from './lineage-scope.js';
import { asArray, isObj, type Obj } from '../analysis/node.js';
import { figureName } from './target-name.js';

/**
 * Column lineage: for each output column of a statement, the source columns
 * (`schema.table.column`) it is computed from, whatever the aliases, casts, functions,
 * operators, aggregates, subqueries, CTEs, set operations, lateral joins and views in between.
 *
 * Expressions are walked generically — every field of every node — and every column reference
 * met on the way contributes, so an expression form nobody listed still carries its inputs.
 * Only the few nodes that bind names (FROM items, CTEs, subqueries, `*`) are handled one by
 * one. What cannot be traced (an unknown relation, a function that may read other data, a
 * statement kind with rows we cannot describe) is marked unknown instead of guessed, so the
 * conservative mode can mask it.
 */


export interface ColumnLineage {
  readonly name: string;
  /** `schema.table.column` of every source column, sorted. */
  readonly sources: readonly string[];
  /** Relations (`schema.name`) or `*` where lineage is partly unknown; absent when fully known. */
  readonly unknown?: readonly string[] | undefined;
}

export interface StatementLineage {
  readonly columns: readonly ColumnLineage[];
  /** False when the number of output columns is uncertain: apply the union of all to every column. */
  readonly exact: boolean;
  /** Every table and view the statement reads, `schema.name`. */
  readonly relations: readonly string[];
  /** DECLARE name CURSOR / PREPARE name: rows fetched or executed later carry these columns. */
  readonly defines?: { readonly kind: 'cursor' | 'prepared'; readonly name: string } | undefined;
  /** FETCH from a cursor or EXECUTE of a prepared statement: look up what it defined. */
  readonly uses?: { readonly kind: 'cursor' | 'prepared'; readonly name: string } | undefined;
  /**
   * CLOSE, DEALLOCATE, DISCARD and the end of a transaction: names of this kind (`all`: both)
   * may no longer stand for what they were defined as. The whole kind, not just one name: a
   * function may close or open cursors under any name, and forgetting too much only masks more.
   */
  readonly forgets?: 'cursor' | 'prepared' | 'all' | undefined;
}

/** Deeper nesting than this (views of views of subqueries…) is reported unknown, not followed. */
const MAX_DEPTH = 48;

class TooDeep extends Error {}

function sval(v: unknown): string | undefined {
  if (!isObj(v)) return undefined;
  const s = v['String'];
  return isObj(s) && typeof s['sval'] === 'string' ? s['sval'] : undefined;
}

function names(list: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(list)) for (const x of list) out.push(sval(x) ?? '');
  return out;
}

/** The single `{Type: body}` of a wrapped node. */
function unwrap(v: unknown): [string, Obj] | undefined {
  if (!isObj(v)) return undefined;
  for (const k in v) {
    const b = v[k];
    if (isObj(b)) return [k, b];
  }
  return undefined;
}


class LineageWalker {
  readonly #catalog: Catalog;
  readonly #relations = new Set<string>();
  #depth = 0;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  get relations(): string[] {
    return [...this.#relations].sort();
  }

  #enter(): void {
    if (++this.#depth > MAX_DEPTH) throw new TooDeep();
  }

  // ---- statements ------------------------------------------------------------------------

  /** A row-returning statement of any kind; undefined for kinds that return no rows we know of. */
  statement(type: string, body: Obj, outer: Scope | undefined): QueryResult | undefined {
    switch (type) {
      case 'SelectStmt':
        return this.select(body, outer);
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return this.#modify(type, body, outer);
      default:
        return undefined;
    }
  }

  select(body: Obj, outer: Scope | undefined): QueryResult {
    this.#enter();
    try {
      const scope = new Scope(outer);
      this.#with(body['withClause'], scope);
      const op = body['op'];
      if (typeof op === 'string' && op !== 'SETOP_NONE') {
        const l = this.select(body['larg'] as Obj, scope);
        const r = this.select(body['rarg'] as Obj, scope);
        return setOp(l, r);
      }
      if (Array.isArray(body['valuesLists'])) return this.#values(body['valuesLists'], scope);
      for (const item of asArray(body['fromClause'])) this.#fromItem(item, scope);
      return this.#targets(body['targetList'], scope);
    } finally {
      this.#depth--;
    }
  }

  #values(lists: unknown[], scope: Scope): QueryResult {
    const cols: OutColumn[] = [];
    for (const row of lists) {
      const items = isObj(row) && isObj(row['List']) ? asArray(row['List']['items']) : [];
      items.forEach((e, i) => {
        cols[i] ??= { name: `column${i + 1}`, lin: new Lin() };
        cols[i]!.lin.add(this.expr(e, scope));
      });
    }
    return { cols, exact: true };
  }

  #targets(list: unknown, scope: Scope): QueryResult {
    const cols: OutColumn[] = [];
    let exact = true;
    for (const item of asArray(list)) {
      const rt = isObj(item) && isObj(item['ResTarget']) ? item['ResTarget'] : undefined;
      if (rt === undefined) continue;
      const val = rt['val'];
      const ref = isObj(val) && isObj(val['ColumnRef']) ? val['ColumnRef'] : undefined;
      const fields = ref ? asArray(ref['fields']) : [];
      const last = fields[fields.length - 1];
      if (ref && isObj(last) && 'A_Star' in last) {
        exact = this.#expandStar(fields.slice(0, -1).map((f) => sval(f) ?? ''), scope, cols) && exact;
        continue;
      }
      const name = typeof rt['name'] === 'string' ? rt['name'] : figureName(val);
      cols.push({ name, lin: this.expr(val, scope) });
    }
    return { cols, exact };
  }

  /** `*` or `t.*` in a target list: one output column per column. Returns false if it could not be expanded. */
  #expandStar(qual: string[], scope: Scope, out: OutColumn[]): boolean {
    const entries = qual.length === 0 ? scope.entries : entriesNamed(qual, scope);
    if (entries.length === 0) {
      out.push({ name: '?column?', lin: unknownAnywhere() });
      return false;
    }
    let exact = true;
    for (const e of entries) {
      for (const c of e.cols) out.push({ name: c.name, lin: c.lin });
      if (e.rest) {
        out.push({ name: '?column?', lin: entryWhole(e) });
        exact = false;
      }
    }
    return exact;
  }

  #with(clause: unknown, scope: Scope): void {
    if (!isObj(clause)) return;
    const recursive = clause['recursive'] === true;
    for (const item of asArray(clause['ctes'])) {
      const cte = isObj(item) && isObj(item['CommonTableExpr']) ? item['CommonTableExpr'] : undefined;
      if (cte === undefined || typeof cte['ctename'] !== 'string') continue;
      const def = { name: cte['ctename'], aliasCols: names(cte['aliascolnames']), result: undefined as QueryResult | undefined };
      const q = unwrap(cte['ctequery']);
      if (recursive) scope.ctes.set(def.name, def);
      // A recursive CTE is computed to a fixpoint: each pass feeds the last result to its self-reference.
      const passes = recursive ? 6 : 1;
      let prev = -1;
      for (let p = 0; p < passes; p++) {
        const r = (q && this.statement(q[0], q[1], scope)) ?? { cols: [{ name: '?column?', lin: unknownAnywhere() }], exact: false };
        def.result = def.result === undefined ? r : setOp(def.result, r);
        const size = def.result.cols.reduce((n, c) => n + c.lin.size, 0);
        if (size === prev) break;
        prev = size;
      }
      scope.ctes.set(def.name, def);
    }
  }

  /** INSERT/UPDATE/DELETE/MERGE … RETURNING: target columns carry what was written into them. */
  #modify(type: string, body: Obj, outer: Scope | undefined): QueryResult {
    this.#enter();
    try {
      const scope = new Scope(outer);
      this.#with(body['withClause'], scope);
      const rel = body['relation'];
      const target = isObj(rel) ? this.#rangeVar(rel, scope) : { alias: undefined, cols: [], rest: unknownAnywhere };
      const cols = target.cols.map((c) => ({ name: c.name, lin: union([c.lin]) }));
      const written: RangeEntry = { ...target, cols };
      const into = (name: string, lin: Lin) => {
        const c = cols.find((x) => x.name === name);
        if (c) c.lin.add(lin);
        else if (written.rest) {
          const base = written.rest;
          written.rest = (n) => (n === name || n === '' ? union([base(n), lin]) : base(n));
        }
      };
      scope.entries.push(written);
      if (type === 'InsertStmt') {
        const q = unwrap(body['selectStmt']);
        const src = q ? this.statement(q[0], q[1], scope) : undefined;
        const targetNames = asArray(body['cols']).map((c) => (isObj(c) && isObj(c['ResTarget']) && typeof c['ResTarget']['name'] === 'string' ? c['ResTarget']['name'] : ''));
        const order = targetNames.length > 0 ? targetNames : cols.map((c) => c.name);
        if (src) {
          if (!src.exact || src.cols.length > order.length) for (const c of order) into(c, allOf(src));
          else src.cols.forEach((c, i) => into(order[i]!, c.lin));
        }
        const oc = body['onConflictClause'];
        if (isObj(oc)) {
          scope.entries.push({ alias: 'excluded', cols: cols.map((c) => ({ name: c.name, lin: c.lin })), rest: written.rest });
          this.#assignments(oc['targetList'], scope, into);
        }
      } else if (type === 'UpdateStmt') {
        for (const item of asArray(body['fromClause'])) this.#fromItem(item, scope);
        this.#assignments(body['targetList'], scope, into);
      } else if (type === 'DeleteStmt') {
        for (const item of asArray(body['usingClause'])) this.#fromItem(item, scope);
      } else {
        this.#fromItem(body['sourceRelation'], scope);
        const all = this.expr(body['mergeWhenClauses'], scope);
        for (const c of cols) c.lin.add(all);
      }
      const ret = isObj(body['returningClause']) ? body['returningClause']['exprs'] : body['returningList'];
      // RETURNING old.* / new.* (PostgreSQL 18) name the row before and after the change.
      scope.entries.push({ ...written, alias: 'old' }, { ...written, alias: 'new' });
      return this.#targets(ret, scope);
    } finally {
      this.#depth--;
    }
  }

  /** `SET a = expr`, `SET (a, b) = (SELECT …)`: each target column gains the value's lineage. */
  #assignments(list: unknown, scope: Scope, into: (name: string, lin: Lin) => void): void {
    for (const item of asArray(list)) {
      const rt = isObj(item) && isObj(item['ResTarget']) ? item['ResTarget'] : undefined;
      if (rt === undefined || typeof rt['name'] !== 'string') continue;
      into(rt['name'], this.expr(rt['val'], scope));
    }
  }

  // ---- FROM ------------------------------------------------------------------------------

  #fromItem(item: unknown, scope: Scope): void {
    const w = unwrap(item);
    if (w === undefined) return;
    const [type, body] = w;
    switch (type) {
      case 'RangeVar':
        scope.entries.push(this.#rangeVar(body, scope));
        return;
      case 'JoinExpr': {
        const before = scope.entries.length;
        this.#fromItem(body['larg'], scope);
        this.#fromItem(body['rarg'], scope);
        const alias = aliasName(body['alias']);
        if (alias !== undefined) {
          // `(a JOIN b) AS j` hides a and b behind j.
          const inner = scope.entries.splice(before);
          scope.entries.push({ alias, cols: inner.flatMap((e) => e.cols), rest: inner.some((e) => e.rest) ? () => union(inner.map(entryWhole)) : undefined });
        }
        const usingAlias = aliasName(body['join_using_alias']);
        if (usingAlias !== undefined) {
          const inner = scope.entries.slice(before);
          const cols = names(body['usingClause']).map((n) => ({ name: n, lin: union(inner.map((e) => entryColumn(e, n) ?? new Lin())) }));
          scope.entries.push({ alias: usingAlias, cols });
        }
        return;
      }
      case 'RangeSubselect': {
        const q = unwrap(body['subquery']);
        const r = (q && this.statement(q[0], q[1], scope)) ?? { cols: [], exact: false };
        scope.entries.push(this.#aliased(aliasName(body['alias']), r, body['alias']));
        return;
      }
      case 'RangeFunction':
        scope.entries.push(this.#rangeFunction(body, scope));
        return;
      case 'RangeTableSample':
        this.#fromItem(body['relation'], scope);
        return;
      default: {
        // XMLTABLE, JSON_TABLE and whatever else may come: every column derives from the
        // node's inputs, whose lineage the generic walk collects.
        const lin = this.expr(body, scope);
        scope.entries.push({ alias: aliasName(body['alias']), cols: [], rest: () => lin });
      }
    }
  }

  #rangeVar(rv: Obj, scope: Scope): RangeEntry {
    const relname = typeof rv['relname'] === 'string' ? rv['relname'] : '';
    const schema = typeof rv['schemaname'] === 'string' ? rv['schemaname'] : undefined;
    const alias = aliasName(rv['alias']) ?? relname;
    if (schema === undefined) {
      const cte = scope.cte(relname);
      if (cte !== undefined) {
        // A recursive CTE's first pass sees its own columns as carrying nothing yet.
        const r = cte.result ?? { cols: cte.aliasCols.map((n) => ({ name: n, lin: new Lin() })), exact: cte.aliasCols.length > 0 };
        if (cte.result === undefined && cte.aliasCols.length === 0) return { alias, cols: [], rest: () => new Lin() };
        const renamed = renameCols(r, cte.aliasCols);
        return this.#aliased(alias, renamed, rv['alias']);
      }
    }
    const rel = this.#catalog.relation(schema, relname);
    if (rel === undefined) {
      const qualified = `${schema ?? this.#catalog.defaultSchema ?? 'public'}.${relname}`;
      this.#relations.add(qualified);
      // Unknown relation: a column named through it is still that column, but what else the
      // relation holds (and whether it is a view over something sensitive) is unknown.
      return { alias, relation: qualified, cols: [], rest: (n) => (n === '' ? unknownAnywhere() : Lin.of(`${qualified}.${n}`).add(unknownAnywhere())) };
    }
    const qualified = `${rel.schema}.${rel.name}`;
    this.#relations.add(qualified);
    const base = rel.viewQuery !== undefined ? this.#view(rel) : rel.columns.map((c) => ({ name: c, lin: Lin.of(`${qualified}.${c}`) }));
    const r = renameCols({ cols: base, exact: true }, names(isObj(rv['alias']) ? rv['alias']['colnames'] : undefined));
    return { alias, relation: qualified, cols: r.cols };
  }

  /** A view's columns: the view's own name plus whatever its query computes them from. */
  #view(rel: CatalogRelation): OutColumn[] {
    const qualified = `${rel.schema}.${rel.name}`;
    let inner: QueryResult | undefined;
    try {
      const tree = parseSync(rel.viewQuery!) as { stmts?: { stmt?: unknown }[] };
      const w = unwrap(tree.stmts?.[0]?.stmt);
      inner = w ? this.statement(w[0], w[1], undefined) : undefined;
    } catch (e) {
      if (e instanceof TooDeep) throw e;
      inner = undefined;
    }
    return rel.columns.map((c, i) => {
      const lin = Lin.of(`${qualified}.${c}`);
      if (inner === undefined) lin.add(Lin.unknown(ANYWHERE));
      else if (!inner.exact) lin.add(allOf(inner));
      else lin.add(inner.cols[i]?.lin ?? allOf(inner));
      return { name: c, lin };
    });
  }

  #rangeFunction(body: Obj, scope: Scope): RangeEntry {
    // ROWS FROM (f(a), g(b)) AS t(x, y): a column of one function derives from its arguments;
    // we do not line columns up with functions, so each derives from all of them.
    const lin = this.expr(body['functions'], scope);
    const alias = aliasName(body['alias']);
    const colNames = [...names(isObj(body['alias']) ? body['alias']['colnames'] : undefined)];
    for (const d of asArray(body['coldeflist'])) {
      const cd = isObj(d) && isObj(d['ColumnDef']) ? d['ColumnDef'] : undefined;
      if (cd && typeof cd['colname'] === 'string') colNames.push(cd['colname']);
    }
    const fn = firstFunctionName(body['functions']);
    const cols = colNames.map((n) => ({ name: n, lin }));
    if (cols.length === 0 && fn !== undefined) cols.push({ name: fn, lin });
    return { alias: alias ?? fn, cols, rest: () => lin };
  }

  #aliased(alias: string | undefined, r: QueryResult, aliasNode: unknown): RangeEntry {
    return aliasedEntry(alias, r, names(isObj(aliasNode) ? aliasNode['colnames'] : undefined));
  }

  // ---- expressions -----------------------------------------------------------------------

  /** The lineage of any expression subtree: the union over every column reference in it. */
  expr(node: unknown, scope: Scope): Lin {
    const acc = new Lin();
    this.#collect(node, scope, acc);
    return acc;
  }

  #collect(node: unknown, scope: Scope, acc: Lin): void {
    if (Array.isArray(node)) {
      for (const x of node) this.#collect(x, scope, acc);
      return;
    }
    if (!isObj(node)) return;
    for (const key in node) {
      const child = node[key];
      if (child === null || typeof child !== 'object') continue;
      switch (key) {
        case 'ColumnRef':
          acc.add(this.#columnRef(asArray((child as Obj)['fields']), scope));
          continue;
        case 'FuncCall':
          this.#funcCall(child as Obj, scope, acc);
          continue;
        case 'SubLink': {
          const sl = child as Obj;
          this.#collect(sl['testexpr'], scope, acc);
          const q = unwrap(sl['subselect']);
          const r = q ? this.statement(q[0], q[1], scope) : undefined;
          acc.add(r ? allOf(r) : unknownAnywhere());
          continue;
        }
        case 'SelectStmt':
        case 'InsertStmt':
        case 'UpdateStmt':
        case 'DeleteStmt':
        case 'MergeStmt': {
          const r = this.statement(key, child as Obj, scope);
          acc.add(r ? allOf(r) : unknownAnywhere());
          continue;
        }
        case 'typeName':
        case 'TypeName':
          // Type names are identifiers, not data.
          continue;
        default:
          this.#collect(child, scope, acc);
      }
    }
  }

  #funcCall(fc: Obj, scope: Scope, acc: Lin): void {
    const parts = names(fc['funcname']);
    const name = parts[parts.length - 1] ?? '';
    const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
    if (!this.#pure(schema, name)) acc.add(Lin.unknown(ANYWHERE));
    // Arguments, ORDER BY inside the aggregate, FILTER and OVER: all of them shape the value.
    for (const k of ['args', 'agg_order', 'agg_filter', 'over']) this.#collect(fc[k], scope, acc);
  }

  #pure(schema: string | undefined, name: string): boolean {
    if (schema !== undefined && schema !== 'pg_catalog') {
      return this.#catalog.functionIsPure?.(schema, name) === true;
    }
    if (READING_BUILTINS.has(name)) return false;
    const told = this.#catalog.functionIsPure?.(schema, name);
    if (told !== undefined) return told;
    return PURE_BUILTINS.has(name);
  }

  #columnRef(fields: unknown[], scope: Scope): Lin {
    const last = fields[fields.length - 1];
    const parts = fields.map((f) => sval(f) ?? '');
    if (isObj(last) && 'A_Star' in last) {
      const entries = parts.length === 1 ? scope.entries : entriesNamed(parts.slice(0, -1), scope);
      return entries.length > 0 ? union(entries.map(entryWhole)) : unknownAnywhere();
    }
    if (parts.length === 1) return this.#bare(parts[0]!, scope);
    const col = parts[parts.length - 1]!;
    for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
      const qual = parts.slice(0, -1);
      const hit = s.entries.filter((e) => (qual.length === 1 ? e.alias === qual[0] : e.relation === qual.slice(-2).join('.')));
      if (hit.length > 0) return union(hit.map((e) => entryColumn(e, col) ?? entryWhole(e)));
    }
    // `col.field` on a composite column: the field of that column.
    return this.#bare(parts[0]!, scope);
  }

  /** An unqualified name: a column of some entry, else a whole-row reference to an entry. */
  #bare(name: string, scope: Scope): Lin {
    // Not a column we can see: PostgreSQL will reject it, or it names something we missed.
    return visibleColumn(name, scope) ?? unknownAnywhere();
  }
}

function aliasName(a: unknown): string | undefined {
  return isObj(a) && typeof a['aliasname'] === 'string' ? a['aliasname'] : undefined;
}

function firstFunctionName(functions: unknown): string | undefined {
  for (const f of asArray(functions)) {
    const items = isObj(f) && isObj(f['List']) ? asArray(f['List']['items']) : [];
    const fc = isObj(items[0]) && isObj(items[0]['FuncCall']) ? items[0]['FuncCall'] : undefined;
    if (fc) {
      const n = names(fc['funcname']);
      return n[n.length - 1];
    }
  }
  return undefined;
}


/** Statement kinds that return rows with no data from tables we can describe (SHOW, EXPLAIN): unknown columns. */
const NO_DATA = new Set(['VariableShowStmt', 'ExplainStmt']);
/**
 * Statement kinds that never return rows. Their lineage is exact and empty, so a caller that
 * matches a multi-statement Query's result sets to its row-returning statements (the wire
 * relay counts statements with columns, `uses`, or inexact lineage) does not count them: a
 * `BEGIN;` or `SET …;` in front must not shift every later result set onto the lineage of
 * the statement before it.
 */
const NO_ROWS = new Set([
  'TransactionStmt', 'VariableSetStmt', 'ListenStmt', 'UnlistenStmt', 'NotifyStmt', 'DiscardStmt', 'ClosePortalStmt', 'DeallocateStmt',
  'LockStmt', 'ConstraintsSetStmt', 'CheckPointStmt', 'LoadStmt', 'VacuumStmt', 'ClusterStmt', 'ReindexStmt', 'TruncateStmt', 'RefreshMatViewStmt',
]);

/**
 * Lineage of one parsed statement (`stmts[i].stmt` from libpg-query's `parseSync`).
 * Never throws: anything it cannot follow comes back as unknown.
 */
export function statementLineage(stmt: unknown, catalog: Catalog): StatementLineage {
  const w = unwrap(stmt);
  if (w === undefined) return unknownStatement([]);
  const [type, body] = w;
  const walker = new LineageWalker(catalog);
  try {
    switch (type) {
      case 'CopyStmt': {
        if (body['is_from'] === true) return { columns: [], exact: true, relations: [] };
        const q = unwrap(body['query']);
        if (q) return finish(walker.statement(q[0], q[1], undefined), walker);
        if (!isObj(body['relation'])) return unknownStatement([]);
        const attlist = names(body['attlist']);
        const r = walker.select({ op: 'SETOP_NONE', fromClause: [{ RangeVar: body['relation'] }], targetList: starOrList(attlist) }, undefined);
        return finish(r, walker);
      }
      case 'DeclareCursorStmt': {
        const q = unwrap(body['query']);
        const r = finish(q ? walker.statement(q[0], q[1], undefined) : undefined, walker);
        return { ...r, defines: { kind: 'cursor', name: String(body['portalname'] ?? '') } };
      }
      case 'PrepareStmt': {
        const q = unwrap(body['query']);
        const r = finish(q ? walker.statement(q[0], q[1], undefined) : undefined, walker);
        return { ...r, defines: { kind: 'prepared', name: String(body['name'] ?? '') } };
      }
      case 'FetchStmt':
        // MOVE returns no rows: counting it as a result set would shift later ones onto its cursor.
        if (body['ismove'] === true) return { columns: [], exact: true, relations: [] };
        return { ...unknownStatement([]), uses: { kind: 'cursor', name: String(body['portalname'] ?? '') } };
      case 'ExecuteStmt':
        return { ...unknownStatement([]), uses: { kind: 'prepared', name: String(body['name'] ?? '') } };
      case 'ClosePortalStmt':
        return { columns: [], exact: true, relations: [], forgets: 'cursor' };
      case 'DeallocateStmt':
        return { columns: [], exact: true, relations: [], forgets: 'prepared' };
      case 'DiscardStmt':
        return { columns: [], exact: true, relations: [], forgets: 'all' };
      case 'TransactionStmt': {
        // Commit and rollback close cursors (WITH HOLD ones survive, and are then unknown: masked).
        const kind = String(body['kind'] ?? '');
        const ends = kind !== 'TRANS_STMT_BEGIN' && kind !== 'TRANS_STMT_START' && kind !== 'TRANS_STMT_SAVEPOINT' && kind !== 'TRANS_STMT_RELEASE';
        return ends ? { columns: [], exact: true, relations: [], forgets: 'cursor' } : { columns: [], exact: true, relations: [] };
      }
      default:
        if (NO_ROWS.has(type)) return { columns: [], exact: true, relations: [] };
        // CREATE TABLE AS / SELECT INTO write their rows into a table and return none: what they
        // read still counts for error texts (`relations`), but they have no result set.
        if (type === 'CreateTableAsStmt' || (type === 'SelectStmt' && isObj(body['intoClause']))) {
          const q = type === 'CreateTableAsStmt' ? unwrap(body['query']) : ([type, { ...body, intoClause: undefined }] as [string, Obj]);
          if (q) walker.statement(q[0], q[1], undefined);
          return { columns: [], exact: true, relations: walker.relations };
        }
        if (NO_DATA.has(type)) return { columns: [], exact: false, relations: [] };
        return finish(walker.statement(type, body, undefined), walker);
    }
  } catch {
    // Too deep, a stack overflow, a tree shape we did not expect: unknown, never an exception.
    return unknownStatement(walker.relations);
  }
}

function finish(r: QueryResult | undefined, walker: LineageWalker): StatementLineage {
  if (r === undefined) return unknownStatement(walker.relations);
  return { columns: toColumns(r), exact: r.exact, relations: walker.relations };
}

function starOrList(cols: string[]): unknown[] {
  if (cols.length === 0) return [{ ResTarget: { val: { ColumnRef: { fields: [{ A_Star: {} }] } } } }];
  return cols.map((c) => ({ ResTarget: { val: { ColumnRef: { fields: [{ String: { sval: c } }] } } } }));
}

/**
 * Lineage of every statement in `sql`, in order. libpg-query's `loadModule()` must have been
 * awaited once before. A statement that does not parse yields one unknown entry.
 */
/**
 * All statements of a text as one — every column, every relation read, exact only if each is:
 * what a text's errors and notices are judged by, whichever of its statements raised them.
 */
export function unionLineage(all: readonly StatementLineage[]): StatementLineage {
  if (all.length === 1) return all[0]!;
  return { columns: all.flatMap((l) => l.columns), exact: all.every((l) => l.exact), relations: [...new Set(all.flatMap((l) => l.relations))] };
}

export function sqlLineage(sql: string, catalog: Catalog): StatementLineage[] {
  let tree: { stmts?: { stmt?: unknown }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch {
    return [unknownStatement([])];
  }
  return (tree.stmts ?? []).map((s) => statementLineage(s.stmt, catalog));
}
