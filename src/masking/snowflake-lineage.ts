import { resolveName, tableLiteral } from '../analysis/snowflake/ast-walk.js';
import { MAX_EXPRESSION_DEPTH, expressionDepth } from '../analysis/snowflake/expression-depth.js';
import { lex } from '../analysis/snowflake/lexer.js';
import { parseSnowflake } from '../analysis/snowflake/parser.js';
import { splitStatements } from '../analysis/snowflake/split.js';
import type { Catalog, CatalogRelation } from './catalog.js';
import type { StatementLineage } from './lineage.js';
import { Lin, Scope, aliasedEntry, allOf, entriesNamed, entryColumn, entryWhole, renameCols, setOp, toColumns, union, unknownAnywhere, unknownStatement, visibleColumn, type OutColumn, type QueryResult, type RangeEntry } from './lineage-scope.js';
import { asArray, isObj, type Obj } from '../analysis/node.js';
import { SNOWFLAKE_PURE_BUILTINS, SNOWFLAKE_READING_BUILTINS } from './snowflake-builtins.js';

/**
 * Column lineage for Snowflake SQL, with the contract of `sqlLineage`: for each output column
 * the `schema.table.column` sources it is computed from, through aliases, casts, functions,
 * `||`, subqueries, CTEs, set operations, joins, LATERAL FLATTEN, window functions,
 * aggregates, `*` (with EXCLUDE / RENAME / REPLACE), OBJECT_CONSTRUCT(*) and views.
 *
 * The tree is sqlparser-rs's (Snowflake dialect). Expressions are walked generically — every
 * field of every node — so an expression form nobody listed still carries its inputs; only
 * what binds names (FROM items, CTEs, subqueries, `*`, positional `$n`) is handled one by one.
 * What cannot be traced is marked unknown. Names are compared lower-cased, quoted or not: the
 * catalog is lower-cased, and matching more names only masks more.
 * The parser must have been loaded (`createSnowflakeAnalyzer` does it); until then every
 * statement is unknown.
 */


const MAX_DEPTH = 48;
const MAX_NODES = 1_000_000;

class Bail extends Error {}

function unwrap(v: unknown): [string, Obj] | undefined {
  if (!isObj(v)) return undefined;
  for (const k in v) {
    const b = v[k];
    if (isObj(b)) return [k, b];
  }
  return undefined;
}

/** An Ident's name as lineage compares it. */
function ident(v: unknown): string {
  return isObj(v) && typeof v['value'] === 'string' ? v['value'].toLowerCase() : '';
}

function aliasOf(a: unknown): { name: string | undefined; columns: string[] } {
  if (!isObj(a)) return { name: undefined, columns: [] };
  return { name: isObj(a['name']) ? ident(a['name']) : undefined, columns: asArray(a['columns']).map((c) => (isObj(c) ? ident(c['name']) : '')) };
}

/** FLATTEN's output columns, each derived from its input. */
const FLATTEN_COLUMNS = ['seq', 'key', 'path', 'index', 'value', 'this'];
const SPLIT_COLUMNS = ['seq', 'index', 'value'];
/** Aggregates whose `*` means "rows", not "every column". */
const STAR_IS_ROWS: ReadonlySet<string> = new Set(['count', 'count_if', 'approx_count_distinct', 'approximate_count_distinct']);

class SnowflakeLineageWalker {
  readonly #catalog: Catalog;
  readonly #relations = new Set<string>();
  #depth = 0;
  #nodes = 0;
  /** SELECT-list aliases seen so far at each query level: Snowflake lets later items use them. */
  readonly #aliases: Map<string, Lin>[] = [];

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  get relations(): string[] {
    return [...this.#relations].sort();
  }

  query(q: Obj, outer: Scope | undefined): QueryResult {
    if (++this.#depth > MAX_DEPTH) throw new Bail();
    try {
      const scope = new Scope(outer);
      this.#with(q['with'], scope);
      return this.#setExpr(q['body'], scope);
    } finally {
      this.#depth--;
    }
  }

  #setExpr(body: unknown, scope: Scope): QueryResult {
    const w = unwrap(body);
    if (w === undefined) return unknownResult();
    const [type, b] = w;
    switch (type) {
      case 'Select':
        return this.#select(b, scope);
      case 'Query':
        return this.query(b, scope);
      case 'SetOperation':
        return setOp(this.#setExpr(b['left'], scope), this.#setExpr(b['right'], scope));
      case 'Values':
        return this.#values(b, scope);
      default:
        return unknownResult();
    }
  }

  #values(v: Obj, scope: Scope): QueryResult {
    const cols: OutColumn[] = [];
    for (const row of asArray(v['rows'])) {
      const items = isObj(row) ? asArray(row['content']) : asArray(row);
      items.forEach((e, i) => {
        cols[i] ??= { name: `column${i + 1}`, lin: new Lin() };
        cols[i]!.lin.add(this.expr(e, scope));
      });
    }
    return { cols, exact: true };
  }

  #select(s: Obj, scope: Scope): QueryResult {
    for (const twj of asArray(s['from'])) this.#tableWithJoins(twj, scope);
    const aliases = new Map<string, Lin>();
    this.#aliases.push(aliases);
    try {
      const cols: OutColumn[] = [];
      let exact = true;
      for (const item of asArray(s['projection'])) {
        if (!isObj(item)) continue;
        const w = unwrap(item);
        const [type, b] = w ?? [Object.keys(item)[0] ?? '', {}];
        if (type === 'UnnamedExpr') cols.push({ name: figureName(item['UnnamedExpr']), lin: this.expr(item['UnnamedExpr'], scope) });
        else if (type === 'ExprWithAlias') {
          const name = ident(b['alias']);
          const lin = this.expr(b['expr'], scope);
          cols.push({ name, lin });
          aliases.set(name, lin);
        } else if (type === 'Wildcard') exact = this.#star(undefined, b, scope, cols) && exact;
        else if (type === 'QualifiedWildcard' || Array.isArray(item['QualifiedWildcard'])) {
          const [kind, opts] = asArray(item['QualifiedWildcard']);
          const parts = isObj(kind) ? asArray(kind['ObjectName']) : [];
          exact = this.#star(parts.map((p) => (isObj(p) ? ident(p['Identifier']) : '')), isObj(opts) ? opts : {}, scope, cols) && exact;
        } else {
          cols.push({ name: '?column?', lin: unknownAnywhere() });
          exact = false;
        }
      }
      return { cols, exact };
    } finally {
      this.#aliases.pop();
    }
  }

  /** `*` / `t.*` with Snowflake's EXCLUDE, RENAME, REPLACE and ILIKE. False if it could not be expanded exactly. */
  #star(qual: string[] | undefined, opts: Obj, scope: Scope, out: OutColumn[]): boolean {
    const entries = qual === undefined ? scope.entries : entriesNamed(qual, scope);
    if (entries.length === 0) {
      out.push({ name: '?column?', lin: unknownAnywhere() });
      return false;
    }
    let cols: OutColumn[] = [];
    let exact = true;
    for (const e of entries) {
      cols.push(...e.cols.map((c) => ({ name: c.name, lin: c.lin })));
      if (e.rest) {
        cols.push({ name: '?column?', lin: entryWhole(e) });
        exact = false;
      }
    }
    const exclude = new Set(identList(opts['opt_exclude']).concat(identList(opts['opt_except'])));
    if (exclude.size > 0) cols = cols.filter((c) => !exclude.has(c.name));
    const ilike = isObj(opts['opt_ilike']) ? opts['opt_ilike']['pattern'] : undefined;
    if (typeof ilike === 'string') cols = cols.filter((c) => c.name === '?column?' || likeRegExp(ilike).test(c.name));
    const replace = isObj(opts['opt_replace']) ? asArray(opts['opt_replace']['items']) : [];
    for (const r of replace) {
      if (!isObj(r)) continue;
      const target = cols.find((c) => c.name === ident(r['column_name']));
      if (target !== undefined) target.lin = this.expr(r['expr'], scope);
    }
    const rename = opts['opt_rename'];
    const renames = isObj(rename) ? (isObj(rename['Single']) ? [rename['Single']] : asArray(rename['Multiple'])) : [];
    for (const r of renames) {
      if (!isObj(r)) continue;
      const target = cols.find((c) => c.name === ident(r['ident']));
      if (target !== undefined) target.name = ident(r['alias']);
    }
    out.push(...cols);
    return exact;
  }

  #with(w: unknown, scope: Scope): void {
    if (!isObj(w)) return;
    const recursive = w['recursive'] === true;
    for (const item of asArray(w['cte_tables'])) {
      if (!isObj(item)) continue;
      const a = aliasOf(item['alias']);
      if (a.name === undefined) continue;
      const def = { name: a.name, aliasCols: a.columns, result: undefined as QueryResult | undefined };
      const q = isObj(item['query']) ? item['query'] : undefined;
      // Without RECURSIVE a CTE's own name inside it means the table of that name.
      if (recursive) scope.ctes.set(def.name, def);
      const passes = recursive ? 6 : 1;
      let prev = -1;
      for (let p = 0; p < passes; p++) {
        const r = q ? this.query(q, scope) : unknownResult();
        def.result = def.result === undefined ? r : setOp(def.result, r);
        const size = def.result.cols.reduce((n, c) => n + c.lin.size, 0);
        if (size === prev) break;
        prev = size;
      }
      scope.ctes.set(def.name, def);
    }
  }

  // ---- FROM ------------------------------------------------------------------------------

  #tableWithJoins(twj: unknown, scope: Scope): void {
    if (!isObj(twj)) return;
    this.#factor(twj['relation'], scope);
    for (const j of asArray(twj['joins'])) {
      if (!isObj(j)) continue;
      const before = scope.entries.length;
      this.#factor(j['relation'], scope);
      if (mergesColumns(j['join_operator'])) {
        // USING / NATURAL output their join columns once: `*` no longer lines up with the entries.
        const joined = scope.entries.slice(before - 1);
        scope.entries.push({ alias: undefined, cols: [], rest: () => union(joined.map(entryWhole)) });
      }
    }
  }

  #factor(f: unknown, scope: Scope): void {
    const w = unwrap(f);
    if (w === undefined) return;
    const [type, b] = w;
    switch (type) {
      case 'Table':
        scope.entries.push(this.#table(b, scope));
        return;
      case 'Derived': {
        const r = isObj(b['subquery']) ? this.query(b['subquery'], scope) : unknownResult();
        scope.entries.push(aliased(aliasOf(b['alias']), r));
        return;
      }
      case 'TableFunction': {
        const literal = tableLiteral(b['expr']);
        // TABLE('name') reads that table; TABLE($var) one we cannot know.
        if (literal !== undefined && 'parts' in literal) scope.entries.push(this.#table({ name: literal.parts.map((p) => ({ Identifier: { value: p.value } })), alias: b['alias'] }, scope));
        else if (literal !== undefined) scope.entries.push({ alias: aliasOf(b['alias']).name, cols: [], rest: unknownAnywhere });
        else scope.entries.push(this.#tableFunction(isObj(b['expr']) && isObj(b['expr']['Function']) ? b['expr']['Function'] : b, b['alias'], scope));
        return;
      }
      case 'Function':
        scope.entries.push(this.#tableFunction(b, b['alias'], scope));
        return;
      case 'NestedJoin': {
        const before = scope.entries.length;
        this.#tableWithJoins(b['table_with_joins'], scope);
        const a = aliasOf(b['alias']);
        if (a.name !== undefined) {
          const inner = scope.entries.splice(before);
          scope.entries.push({ alias: a.name, cols: inner.flatMap((e) => e.cols), rest: inner.some((e) => e.rest) ? () => union(inner.map(entryWhole)) : undefined });
        }
        return;
      }
      default: {
        // PIVOT, UNPIVOT, MATCH_RECOGNIZE and whatever else may come: columns we do not line
        // up, each derived from everything the node reads.
        const inner = new Scope(scope);
        const source = b['table'];
        if (source !== undefined) this.#factor(source, inner);
        const lin = union([...inner.entries.map(entryWhole), this.expr(omit(b, ['table', 'alias']), inner)]);
        scope.entries.push({ alias: aliasOf(b['alias']).name, cols: [], rest: () => lin });
      }
    }
  }

  #table(t: Obj, scope: Scope): RangeEntry {
    const a = aliasOf(t['alias']);
    const r = resolveName(t['name']);
    if (r === undefined || 'dynamic' in r || ('parts' in r && r.parts.length === 0)) return { alias: a.name, cols: [], rest: unknownAnywhere };
    if ('stage' in r) {
      // Staged files hold whatever was put there.
      this.#relations.add(r.stage);
      return { alias: a.name ?? r.stage, cols: [], rest: () => Lin.unknown(r.stage) };
    }
    const parts = r.parts.map((p) => p.value.toLowerCase());
    const relname = parts[parts.length - 1]!;
    const schema = parts.length >= 2 ? parts[parts.length - 2] || 'public' : undefined;
    const alias = a.name ?? relname;
    if (schema === undefined) {
      const cte = scope.cte(relname);
      if (cte !== undefined) {
        if (cte.result === undefined && cte.aliasCols.length === 0) return { alias, cols: [], rest: () => new Lin() };
        const base = cte.result ?? { cols: cte.aliasCols.map((n) => ({ name: n, lin: new Lin() })), exact: true };
        return aliased({ name: alias, columns: a.columns }, renameCols(base, cte.aliasCols));
      }
    }
    const rel = this.#catalog.relation(schema, relname);
    // CHANGES(…) adds METADATA$ columns: `*` no longer lines up with the catalog's list.
    const changes = isObj(t['version']) && 'Changes' in t['version'];
    if (rel === undefined) {
      const qualified = `${schema ?? this.#catalog.defaultSchema ?? 'public'}.${relname}`;
      this.#relations.add(qualified);
      return { alias, relation: qualified, cols: [], rest: (n) => (n === '' ? unknownAnywhere() : Lin.of(`${qualified}.${n}`).add(unknownAnywhere())) };
    }
    const qualified = `${rel.schema}.${rel.name}`;
    this.#relations.add(qualified);
    const base = rel.viewQuery !== undefined ? this.#view(rel) : rel.columns.map((c) => ({ name: c, lin: Lin.of(`${qualified}.${c}`) }));
    const renamed = renameCols({ cols: base, exact: true }, a.columns);
    return { alias, relation: qualified, cols: renamed.cols, rest: changes ? () => new Lin() : undefined };
  }

  #view(rel: CatalogRelation): OutColumn[] {
    const qualified = `${rel.schema}.${rel.name}`;
    let inner: QueryResult | undefined;
    const q = parseQuery(rel.viewQuery!);
    try {
      inner = q === undefined ? undefined : this.query(q, undefined);
    } catch (e) {
      if (e instanceof Bail) throw e;
      inner = undefined;
    }
    return rel.columns.map((c, i) => {
      const lin = Lin.of(`${qualified}.${c}`);
      if (inner === undefined) lin.add(unknownAnywhere());
      else if (!inner.exact || inner.cols.length !== rel.columns.length) lin.add(allOf(inner));
      else lin.add(inner.cols[i]!.lin);
      return { name: c, lin };
    });
  }

  /** `TABLE(f(…))` and `LATERAL FLATTEN(…)`: every column derives from the arguments, if the function is pure. */
  #tableFunction(fn: Obj, aliasNode: unknown, scope: Scope): RangeEntry {
    const names = asArray(fn['name']).map((p) => (isObj(p) ? ident(p['Identifier']) : ''));
    const name = names[names.length - 1] ?? '';
    const lin = this.expr(omit(fn, ['name', 'alias', 'lateral']), scope);
    if (!this.#pure(names.length > 1 ? names[names.length - 2] : undefined, name)) lin.add(unknownAnywhere());
    const a = aliasOf(aliasNode);
    const known = name === 'flatten' ? FLATTEN_COLUMNS : name === 'split_to_table' || name === 'strtok_split_to_table' ? SPLIT_COLUMNS : [];
    const cols = renameCols({ cols: known.map((n) => ({ name: n, lin })), exact: true }, a.columns).cols;
    return { alias: a.name ?? name, cols, rest: known.length > 0 ? undefined : () => lin };
  }

  // ---- expressions -----------------------------------------------------------------------

  expr(node: unknown, scope: Scope): Lin {
    const acc = new Lin();
    this.#collect(node, scope, acc);
    return acc;
  }

  #collect(node: unknown, scope: Scope, acc: Lin): void {
    if (++this.#nodes > MAX_NODES) throw new Bail();
    if (Array.isArray(node)) {
      for (const x of node) this.#collect(x, scope, acc);
      return;
    }
    if (!isObj(node)) return;
    for (const key in node) {
      const child = node[key];
      if (child === 'Wildcard' && (key === 'Unnamed' || key === 'arg')) {
        acc.add(union(scope.entries.map(entryWhole)));
        continue;
      }
      if (child === null || typeof child !== 'object') continue;
      switch (key) {
        case 'Identifier':
          if (isObj(child) && typeof child['value'] === 'string') acc.add(this.#bare(ident(child), scope));
          continue;
        case 'CompoundIdentifier':
          acc.add(this.#columnRef(asArray(child).map(ident), scope));
          continue;
        case 'QualifiedWildcard': {
          const entries = entriesNamed(asArray(child).map((p) => (isObj(p) ? ident(p['Identifier']) : '')), scope);
          acc.add(entries.length > 0 ? union(entries.map(entryWhole)) : unknownAnywhere());
          continue;
        }
        case 'Function':
          if (isObj(child) && Array.isArray(child['name'])) this.#funcCall(child, scope, acc);
          else this.#collect(child, scope, acc);
          continue;
        case 'Subquery':
        case 'subquery':
          acc.add(isObj(child) ? allOf(this.query(child, scope)) : unknownAnywhere());
          continue;
        case 'Value':
          acc.add(this.#placeholder(child, scope));
          continue;
        case 'data_type':
        case 'alias':
          continue;
        default:
          this.#collect(child, scope, acc);
      }
    }
  }

  #funcCall(fc: Obj, scope: Scope, acc: Lin): void {
    const names = asArray(fc['name']).map((p) => (isObj(p) ? ident(p['Identifier']) : ''));
    const name = names[names.length - 1] ?? '';
    if (!this.#pure(names.length > 1 ? names[names.length - 2] : undefined, name)) acc.add(unknownAnywhere());
    // Arguments, FILTER, WITHIN GROUP and OVER all shape the value; COUNT(*) reads no column.
    const rest = omit(fc, ['name']);
    if (STAR_IS_ROWS.has(name) && isObj(rest['args']) && isObj(rest['args']['List'])) {
      const list = rest['args']['List'];
      rest['args'] = { List: { ...list, args: asArray(list['args']).filter((a) => !(isObj(a) && a['Unnamed'] === 'Wildcard')) } };
    }
    this.#collect(rest, scope, acc);
  }

  #pure(schema: string | undefined, name: string): boolean {
    if (SNOWFLAKE_READING_BUILTINS.has(name) || name.startsWith('system$')) return false;
    if (schema !== undefined) return this.#catalog.functionIsPure?.(schema, name) === true;
    const told = this.#catalog.functionIsPure?.(undefined, name);
    if (told !== undefined) return told;
    return SNOWFLAKE_PURE_BUILTINS.has(name);
  }

  /** `$2` is the second column of the FROM item (staged files, VALUES); `$var` a session variable. */
  #placeholder(v: unknown, scope: Scope): Lin | undefined {
    const p = isObj(v) && isObj(v['value']) ? v['value']['Placeholder'] : undefined;
    if (typeof p !== 'string') return undefined;
    const positional = /^\$(\d+)$/.exec(p);
    if (positional !== null) {
      const [only] = scope.entries;
      const col = scope.entries.length === 1 ? only!.cols[Number(positional[1]) - 1] : undefined;
      return col !== undefined && only!.rest === undefined ? col.lin : union(scope.entries.map(entryWhole)).add(scope.entries.length === 0 ? unknownAnywhere() : undefined);
    }
    // `?` and `:1` are bind parameters the client sent; `$name` holds whatever SET put there.
    return p.startsWith('$') ? unknownAnywhere() : undefined;
  }

  #columnRef(parts: string[], scope: Scope): Lin {
    if (parts.length === 1) return this.#bare(parts[0]!, scope);
    const col = parts[parts.length - 1]!;
    const qual = parts.slice(0, -1);
    for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
      const hit = s.entries.filter((e) => (qual.length === 1 ? e.alias === qual[0] : e.relation === qual.slice(-2).join('.')));
      if (hit.length > 0) return union(hit.map((e) => entryColumn(e, col) ?? entryWhole(e)));
    }
    return this.#bare(parts[0]!, scope);
  }

  /** An unqualified name: a column of some FROM item, an earlier SELECT-list alias, or unknown. */
  #bare(name: string, scope: Scope): Lin {
    // A SELECT-list alias used later in the same SELECT (Snowflake allows it) carries its lineage too.
    const alias = this.#aliases[this.#aliases.length - 1]?.get(name);
    const seen = visibleColumn(name, scope);
    if (seen !== undefined) return seen.add(alias);
    return alias !== undefined ? union([alias]) : unknownAnywhere();
  }
}

function unknownResult(): QueryResult {
  return { cols: [{ name: '?column?', lin: unknownAnywhere() }], exact: false };
}

function aliased(a: { name: string | undefined; columns: string[] }, r: QueryResult): RangeEntry {
  return aliasedEntry(a.name, r, a.columns);
}

function omit(o: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k in o) if (!keys.includes(k)) out[k] = o[k];
  return out;
}

/** Column names of EXCLUDE / EXCEPT: one name or a list, each an Ident or a (one-part) ObjectName. */
function identList(v: unknown): string[] {
  if (!isObj(v)) return [];
  const nameOf = (x: unknown): string => {
    const last = Array.isArray(x) ? x[x.length - 1] : x;
    return isObj(last) && isObj(last['Identifier']) ? ident(last['Identifier']) : ident(last);
  };
  if (v['Single'] !== undefined) return [nameOf(v['Single'])];
  return asArray(v['Multiple']).map(nameOf);
}

function mergesColumns(op: unknown): boolean {
  const w = isObj(op) ? Object.values(op)[0] : undefined;
  return w === 'Natural' || (isObj(w) && 'Using' in w);
}

function likeRegExp(pattern: string): RegExp {
  const body = pattern.toLowerCase().replace(/[\\^$.|+()[\]{}*?]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.');
  return new RegExp(`^${body}$`);
}

/** The output name Snowflake gives an unaliased expression, as far as it matters here. */
function figureName(e: unknown): string {
  const w = unwrap(e);
  if (isObj(e) && isObj(e['Identifier'])) return ident(e['Identifier']);
  if (isObj(e) && Array.isArray(e['CompoundIdentifier'])) return ident(e['CompoundIdentifier'].at(-1));
  if (w === undefined) return '?column?';
  const [type, b] = w;
  if (type === 'Function') return asArray(b['name']).map((p) => (isObj(p) ? ident(p['Identifier']) : '')).at(-1) ?? '?column?';
  if (type === 'Cast' || type === 'Nested') return figureName(b['expr'] ?? b);
  return '?column?';
}


const DML_BODIES = ['Insert', 'Update', 'Delete', 'Merge'];

/** Statements whose result is a status or row counts, never table data. */
const STATUS_ONLY: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'CREATE', 'ALTER', 'DROP', 'UNDROP', 'COMMENT', 'GRANT', 'REVOKE', 'USE', 'SET', 'UNSET', 'COMMIT', 'ROLLBACK']);

/** A single query's tree, or undefined when the text is not one parseable query. */
function parseQuery(text: string): Obj | undefined {
  const lexed = lex(text);
  if (lexed.error !== undefined || expressionDepth(lexed.tokens) > MAX_EXPRESSION_DEPTH) return undefined;
  const r = parseSnowflake(lexed.text);
  if (!r.ok || r.statements.length !== 1) return undefined;
  const q = isObj(r.statements[0]) ? r.statements[0]['Query'] : undefined;
  return isObj(q) ? q : undefined;
}

/**
 * Lineage of every statement in `sql`, in order. Never throws: a statement that cannot be
 * traced comes back as one unknown column with `exact: false`.
 */
export function snowflakeLineage(sql: string, catalog: Catalog): StatementLineage[] {
  const lexed = lex(sql);
  if (lexed.error !== undefined) return [unknownStatement([])];
  return splitStatements(lexed.tokens, lexed.text).map((s) => {
    if (s.error !== undefined) return unknownStatement([]);
    const first = s.tokens[0]!;
    const word = first.type === 'word' ? first.upper : first.text;
    const isBlock = word === 'DECLARE' || (word === 'BEGIN' && s.tokens.length > 1 && !/^(TRANSACTION|WORK|NAME)$/i.test(s.tokens[1]!.text));
    if (STATUS_ONLY.has(word) || (word === 'BEGIN' && !isBlock) || word === 'START') return { columns: [], exact: true, relations: [] };
    if (word !== 'SELECT' && word !== 'WITH' && word !== '(') return unknownStatement([]);
    const walker = new SnowflakeLineageWalker(catalog);
    try {
      const q = parseQuery(s.text);
      if (q === undefined) return unknownStatement([]);
      // WITH … INSERT/UPDATE/DELETE/MERGE returns row counts.
      if (isObj(q['body']) && DML_BODIES.some((k) => k in (q['body'] as Obj))) return { columns: [], exact: true, relations: [] };
      const r = walker.query(q, undefined);
      return { columns: toColumns(r), exact: r.exact, relations: walker.relations };
    } catch {
      return unknownStatement(walker.relations);
    }
  });
}
