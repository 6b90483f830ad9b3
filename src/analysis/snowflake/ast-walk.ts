import type { FactCollector } from '../collector.js';
import { asArray, isObj, type Obj } from '../node.js';
import { identityKey, namePartsOf, relationName, stageName, type NamePart } from './object-names.js';
import { functionRisks } from './risky-functions.js';

/** More nodes than this (a statement of megabytes) and the statement is `unknown`, not walked on. */
const MAX_NODES = 2_000_000;
const MAX_DEPTH = 4_000;

export class WalkLimit extends Error {}

/** Statements the parser also accepts in a query's place: `(DELETE …)`, `WITH … INSERT …`. */
const NESTED_STATEMENTS: ReadonlySet<string> = new Set(['Insert', 'Update', 'Delete', 'Merge']);

/** A name as the parser gives it, resolved: parts, a stage, or a reason it cannot be known. */
type ResolvedName = { readonly parts: readonly NamePart[] } | { readonly stage: string } | { readonly dynamic: string };

/**
 * Walks one sqlparser-rs statement tree — every field of every node — and records relations,
 * functions and risks in a FactCollector. Only what names things is recognized by shape: a
 * `Table` factor is a read (unless it is the target of INSERT/UPDATE/DELETE/MERGE, or a CTE in
 * scope), a `Function` is a call. Everything else, including node kinds this walker has never
 * seen, is descended into, so a table or function inside them still counts.
 */
export class AstWalker {
  readonly #c: FactCollector;
  /** CTE names in scope (Snowflake identity), innermost last; they shadow bare table names. */
  readonly #scopes: ReadonlySet<string>[] = [];
  #nodes = 0;
  #depth = 0;
  /** The first INSERT/UPDATE/DELETE/MERGE met inside a query, for the command tag. */
  nested: string | undefined;

  constructor(c: FactCollector) {
    this.#c = c;
  }

  /** One parsed statement: `{Variant: body}`. */
  statement(stmt: unknown): void {
    if (!isObj(stmt)) return;
    for (const variant in stmt) {
      const body = stmt[variant];
      if (!isObj(body)) continue;
      switch (variant) {
        case 'Insert':
          this.#insert(body);
          break;
        case 'Update':
          this.#targetWithJoins(body['table']);
          this.#rest(body, ['table']);
          this.#unfiltered(body['selection']);
          break;
        case 'Delete':
          this.#delete(body);
          break;
        case 'Merge':
          this.#target(body['table']);
          this.#rest(body, ['table']);
          break;
        case 'Call':
          this.#call(body);
          break;
        default:
          this.#walk(body);
      }
    }
  }

  #insert(body: Obj): void {
    const table = body['table'];
    if (isObj(table) && Array.isArray(table['TableName'])) this.#relation(table['TableName'], 'write');
    else this.#walk(table);
    for (const clause of asArray(body['multi_table_into_clauses'])) {
      if (!isObj(clause)) continue;
      this.#relation(clause['table_name'], 'write');
      this.#rest(clause, ['table_name']);
    }
    if (body['overwrite'] === true) this.#c.risks.add('destructive');
    this.#rest(body, ['table', 'multi_table_into_clauses']);
  }

  #delete(body: Obj): void {
    const from = body['from'];
    if (isObj(from)) for (const k in from) for (const twj of asArray(from[k])) this.#targetWithJoins(twj);
    for (const name of asArray(body['tables'])) this.#relation(name, 'write');
    this.#rest(body, ['from', 'tables']);
    this.#unfiltered(body['selection']);
  }

  /** DELETE/UPDATE with no WHERE, or a WHERE that names no column (`WHERE 1=1`), hit every row. */
  #unfiltered(selection: unknown): void {
    if (selection === undefined || selection === null || !namesColumn(selection)) this.#c.risks.add('destructive');
  }

  #call(body: Obj): void {
    this.#function(body);
    this.#c.escalate('write');
  }

  /** `{relation: {Table: …}, joins: […]}` whose relation is changed. */
  #targetWithJoins(twj: unknown): void {
    if (!isObj(twj)) return;
    this.#target(twj['relation']);
    this.#rest(twj, ['relation']);
  }

  /** A table factor that is written to; anything else in that position is walked as usual. */
  #target(factor: unknown): void {
    if (isObj(factor) && isObj(factor['Table']) && Array.isArray(factor['Table']['name'])) this.#table(factor['Table'], 'write');
    else this.#walk(factor);
  }

  #rest(node: Obj, skip: readonly string[]): void {
    for (const k in node) {
      const v = node[k];
      if (v !== null && typeof v === 'object' && !skip.includes(k)) this.#field(k, v);
    }
  }

  #walk(node: unknown): void {
    if (node === null || typeof node !== 'object') return;
    if (++this.#nodes > MAX_NODES || this.#depth >= MAX_DEPTH) throw new WalkLimit('the statement is too large to analyze');
    this.#depth++;
    try {
      if (Array.isArray(node)) {
        for (const x of node) this.#walk(x);
        return;
      }
      const n = node as Obj;
      const w = n['with'];
      if (isObj(w) && Array.isArray(w['cte_tables'])) {
        this.#query(n, w);
        return;
      }
      this.#rest(n, []);
    } finally {
      this.#depth--;
    }
  }

  #field(key: string, v: object): void {
    const o = isObj(v) ? v : undefined;
    if (NESTED_STATEMENTS.has(key) && o !== undefined && isObj(o[key])) {
      // A changing statement where a query stands changes data all the same.
      this.nested ??= key.toUpperCase();
      this.#c.escalate('write');
      return this.statement(o);
    }
    switch (key) {
      case 'Table':
        if (o !== undefined && Array.isArray(o['name'])) return this.#table(o, 'read');
        break;
      case 'Function':
        if (o !== undefined && Array.isArray(o['name'])) return this.#function(o);
        if (o !== undefined && isObj(o['name'])) return this.#identifierFunction(o);
        break;
      case 'TableFunction': {
        const literal = o !== undefined ? tableLiteral(o['expr']) : undefined;
        if (literal === undefined) break;
        if ('dynamic' in literal) return this.#c.fail(literal.dynamic);
        if ('stage' in literal) return void this.#c.reads.add(literal.stage);
        return this.#relationParts(literal.parts, 'read');
      }
      case 'version':
        // AT(…) / BEFORE(…) / CHANGES(…): not function calls, but their arguments may hold any expression.
        this.#c.risks.add('time-travel');
        return this.#versionArgs(v);
      case 'CompoundIdentifier':
        if (Array.isArray(v)) this.#sequenceCall(v);
        return;
      case 'into':
        if (o !== undefined && Array.isArray(o['name'])) return this.#relation(o['name'], 'write');
        break;
      case 'data_type':
        // Type names are identifiers, not data.
        return;
    }
    this.#walk(v);
  }

  /** WITH: entry i sees the entries before it (all of them under RECURSIVE); the body sees all. */
  #query(n: Obj, w: Obj): void {
    const ctes = asArray(w['cte_tables']).filter(isObj);
    const names = ctes.map((c) => {
      const alias = isObj(c['alias']) ? c['alias']['name'] : undefined;
      return isObj(alias) ? identityKey(identPart(alias)) : '';
    });
    const recursive = w['recursive'] === true;
    ctes.forEach((cte, i) => {
      this.#scopes.push(new Set(recursive ? names : names.slice(0, i)));
      try {
        this.#rest(cte, ['alias']);
      } finally {
        this.#scopes.pop();
      }
    });
    this.#scopes.push(new Set(names));
    try {
      this.#rest(n, ['with']);
    } finally {
      this.#scopes.pop();
    }
  }

  #table(t: Obj, mode: 'read' | 'write'): void {
    const r = resolveName(t['name']);
    if (isObj(t['args']) && r !== undefined && !('stage' in r)) {
      // `FROM DIRECTORY(@docs)`, `FROM my_udtf(1)`: a table function, not a relation.
      this.#function(t);
      return;
    }
    this.#relation(t['name'], mode);
    this.#rest(t, ['name', 'alias']);
  }

  #relation(name: unknown, mode: 'read' | 'write'): void {
    const r = resolveName(name);
    if (r === undefined) return;
    if ('dynamic' in r) return this.#c.fail(r.dynamic);
    if ('stage' in r) {
      (mode === 'read' ? this.#c.reads : this.#c.writes).add(r.stage);
      return;
    }
    this.#relationParts(r.parts, mode);
  }

  #relationParts(parts: readonly NamePart[], mode: 'read' | 'write'): void {
    if (parts.length === 1 && this.#isCte(identityKey(parts[0]!))) return;
    (mode === 'read' ? this.#c.reads : this.#c.writes).add(relationName(parts));
  }

  #isCte(key: string): boolean {
    for (const s of this.#scopes) if (s.has(key)) return true;
    return false;
  }

  #function(f: Obj): void {
    const r = resolveName(f['name']);
    if (r !== undefined && 'parts' in r && r.parts.length > 0) {
      this.#c.functions.add(relationName(r.parts));
      for (const risk of functionRisks(r.parts[r.parts.length - 1]!.value)) this.#c.risks.add(risk);
    } else if (r !== undefined && 'dynamic' in r) this.#c.fail(r.dynamic);
    this.#rest(f, ['name']);
  }

  /** `IDENTIFIER(…)` as a name part somewhere the walker has no special case for. */
  #identifierFunction(o: Obj): void {
    const r = resolveName([{ Function: o }]);
    if (r !== undefined && 'dynamic' in r) this.#c.fail(r.dynamic);
    this.#rest(o, ['name']);
  }

  #versionArgs(v: object): void {
    if (Array.isArray(v)) return v.forEach((x) => this.#versionArgs(x as object));
    if (!isObj(v)) return;
    for (const k in v) {
      const x = v[k];
      if (x === null || typeof x !== 'object') continue;
      if (k === 'Function' && isObj(x) && Array.isArray(x['name'])) this.#rest(x, ['name']);
      else this.#versionArgs(x);
    }
  }

  /** `seq.NEXTVAL` is a column reference to the parser and a call to Snowflake. */
  #sequenceCall(parts: unknown[]): void {
    const last = parts[parts.length - 1];
    if (parts.length > 1 && isObj(last) && typeof last['value'] === 'string' && last['quote_style'] === undefined && last['value'].toUpperCase() === 'NEXTVAL') {
      this.#c.functions.add('nextval');
      for (const risk of functionRisks('NEXTVAL')) this.#c.risks.add(risk);
    }
  }
}

function identPart(ident: Obj): NamePart {
  return { value: typeof ident['value'] === 'string' ? ident['value'] : '', quoted: ident['quote_style'] === '"' };
}

/**
 * An ObjectName (`[{Identifier: …}, {Function: IDENTIFIER(…)}]`) as parts. A stage (`@…`) or
 * string location (`'s3://…'`) in that position is returned as a stage name.
 */
export function resolveName(name: unknown): ResolvedName | undefined {
  if (!Array.isArray(name)) return undefined;
  const parts: NamePart[] = [];
  for (const item of name) {
    if (!isObj(item)) return undefined;
    const ident = item['Identifier'];
    if (isObj(ident)) {
      const p = identPart(ident);
      if (ident['quote_style'] === "'") return { stage: p.value };
      if (!p.quoted && p.value.startsWith('@')) return { stage: stageName(p.value) };
      parts.push(p);
      continue;
    }
    const fn = item['Function'];
    if (isObj(fn) && isObj(fn['name']) && String(fn['name']['value']).toUpperCase() === 'IDENTIFIER') {
      const literal = identifierLiteral(fn['args']);
      const inner = literal === undefined ? undefined : namePartsOf(literal);
      if (inner === undefined) return { dynamic: 'IDENTIFIER(…) names its object through a variable or an expression; the analyzer cannot tell which object' };
      parts.push(...inner);
      continue;
    }
    return undefined;
  }
  return { parts };
}

/**
 * `TABLE('name')`, `TABLE($var)`, `TABLE(?)`: Snowflake's table literal, a relation named by a
 * string or a variable. Undefined when the argument is a function call (a table function).
 * https://docs.snowflake.com/en/sql-reference/literals-table
 */
export function tableLiteral(expr: unknown): ResolvedName | undefined {
  if (!isObj(expr) || isObj(expr['Function'])) return undefined;
  if (isObj(expr['Identifier'])) return { parts: [identPart(expr['Identifier'])] };
  if (Array.isArray(expr['CompoundIdentifier'])) return { parts: expr['CompoundIdentifier'].filter(isObj).map(identPart) };
  const value = isObj(expr['Value']) ? expr['Value']['value'] : undefined;
  const text = isObj(value) ? (value['SingleQuotedString'] ?? (isObj(value['DollarQuotedString']) ? value['DollarQuotedString']['value'] : undefined)) : undefined;
  const parts = typeof text === 'string' ? namePartsOf(text) : undefined;
  if (parts !== undefined) return { parts };
  return { dynamic: 'TABLE(…) names its table through a variable or an expression; the analyzer cannot tell which table' };
}

/** The string literal argument of IDENTIFIER('…'), if that is what it has. */
function identifierLiteral(args: unknown): string | undefined {
  const list = Array.isArray(args) ? args : isObj(args) && Array.isArray(args['args']) ? args['args'] : isObj(args) && isObj(args['List']) ? asArray(args['List']['args']) : [];
  if (list.length !== 1) return undefined;
  const unnamed = isObj(list[0]) ? list[0]['Unnamed'] : undefined;
  const expr = isObj(unnamed) ? unnamed['Expr'] : undefined;
  const value = isObj(expr) && isObj(expr['Value']) ? expr['Value']['value'] : undefined;
  if (!isObj(value)) return undefined;
  const s = value['SingleQuotedString'] ?? (isObj(value['DollarQuotedString']) ? value['DollarQuotedString']['value'] : undefined);
  return typeof s === 'string' ? s : undefined;
}

function namesColumn(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(namesColumn);
  if (!isObj(node)) return false;
  for (const k in node) {
    if (k === 'Identifier' || k === 'CompoundIdentifier') return true;
    const v = node[k];
    if (v !== null && typeof v === 'object' && namesColumn(v)) return true;
  }
  return false;
}
