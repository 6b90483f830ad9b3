import { parsePlPgSQLSync, parseSync } from 'libpg-query';
import type { FactCollector } from './collector.js';
import { walkPlpgsql } from './plpgsql-body.js';
import { functionRisks } from './risky-functions.js';
import { isIdentitySetting, isTamperingSetting } from './session-settings.js';
import { LITERAL_FREE_NODES, STATEMENT_NODES, nodeKind } from './statement-table.js';
import { defElems, dottedName, isExplicitlyOff, isObj, str, stringNode, type Obj } from './node.js';

/** DO blocks may run SQL containing DO blocks; past this depth the statement is `unknown`. */
const MAX_NESTING = 8;

/** Fields of a write/ddl/dcl statement that name the relations it changes. */
const TARGET_FIELDS: ReadonlySet<string> = new Set(['relation', 'relations', 'view', 'objects', 'into', 'intoClause', 'rel']);

const RELATION_DROPS: ReadonlySet<string> = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_INDEX',
  'OBJECT_SEQUENCE',
]);

/** ALTER TABLE subcommands that hand away or switch off access control. */
const PRIVILEGE_SUBCOMMANDS: ReadonlySet<string> = new Set(['AT_ChangeOwner', 'AT_DisableRowSecurity', 'AT_NoForceRowSecurity', 'AT_DisableTrig', 'AT_DisableTrigAll', 'AT_DisableTrigUser', 'AT_DisableRule']);

/** The text a statement list was parsed from; locations from libpg-query are UTF-8 byte offsets. */
export class SourceText {
  readonly #text: string;
  readonly #ascii: boolean;
  #bytes: Buffer | undefined;

  constructor(text: string) {
    this.#text = text;
    this.#ascii = !/[^\x00-\x7f]/.test(text);
  }

  slice(location: number, length: number): string {
    if (this.#ascii) return length > 0 ? this.#text.slice(location, location + length) : this.#text.slice(location);
    this.#bytes ??= Buffer.from(this.#text, 'utf8');
    return this.#bytes.subarray(location, length > 0 ? location + length : undefined).toString('utf8');
  }
}

/**
 * Walks one top-level statement's parse tree — every field of every node, not a list of places
 * where things may hide — and records what it finds in a FactCollector. Statement nodes met
 * anywhere (a DELETE in a CTE, a CREATE TABLE AS under EXPLAIN) escalate the kind; RangeVars
 * are reads unless they sit in a target field of a changing statement; FuncCalls are recorded
 * and checked against the risky-function table wherever they occur.
 */
export class TreeWalker {
  readonly #c: FactCollector;
  readonly #statementText: () => string;
  readonly #depth: number;
  /** CTE names visible at this point, innermost last; they shadow unqualified table names. */
  readonly #scopes: ReadonlySet<string>[] = [];
  #writing = false;
  #explainAnalyze = false;

  constructor(c: FactCollector, statementText: () => string, depth: number) {
    this.#c = c;
    this.#statementText = statementText;
    this.#depth = depth;
  }

  /** Entry point for a top-level (or nested) statement node `{type: body}`. */
  statement(type: string, body: Obj): void {
    const info = STATEMENT_NODES[type];
    if (info === undefined) {
      this.#c.fail(`${type} is not a statement the analyzer recognizes`);
      return;
    }
    this.#statementNode(type, body);
  }

  #visit(v: unknown): void {
    if (Array.isArray(v)) {
      for (const x of v) this.#visit(x);
      return;
    }
    if (!isObj(v)) return;
    // Fields typed as RangeVar come unwrapped (`relation: {relname…}`), list items wrapped.
    if (typeof v['relname'] === 'string') {
      this.#rangeVar(v, this.#writing);
      return;
    }
    for (const key in v) {
      const child = v[key];
      if (child === null || typeof child !== 'object') continue;
      if (!Array.isArray(child)) {
        if (STATEMENT_NODES[key] !== undefined) {
          this.#nested(key, child as Obj);
          continue;
        }
        if (key === 'FuncCall') {
          this.#funcCall(child as Obj);
          continue;
        }
        if (key === 'A_Indirection' || key === 'ColumnRef') this.#attributeCalls(child as Obj);
      }
      this.#visit(child);
    }
  }

  /** A statement inside another one starts with fresh target context. */
  #nested(type: string, body: Obj): void {
    const saved = this.#writing;
    this.#writing = false;
    this.#statementNode(type, body);
    this.#writing = saved;
  }

  #statementNode(type: string, body: Obj): void {
    const info = STATEMENT_NODES[type]!;
    const c = this.#c;
    const kind = nodeKind(info, body);
    c.escalate(kind);
    if (info.risks) for (const r of info.risks) c.risks.add(r);
    if (!LITERAL_FREE_NODES.has(type)) c.literalSensitive = true;
    const changes = kind === 'write' || kind === 'ddl' || kind === 'dcl';
    switch (type) {
      case 'SelectStmt':
        if (Array.isArray(body['lockingClause']) && body['lockingClause'].length > 0) c.risks.add('lock');
        if (isObj(body['intoClause'])) c.risks.add('export');
        return this.#withCtes(body, () => this.#fields(body, changes));
      case 'InsertStmt':
      case 'MergeStmt':
        return this.#withCtes(body, () => this.#fields(body, true));
      case 'UpdateStmt':
      case 'DeleteStmt':
        if (!filtersRows(body['whereClause'])) c.risks.add('destructive');
        return this.#withCtes(body, () => this.#fields(body, true));
      case 'CopyStmt':
        return this.#copy(body);
      case 'ExplainStmt':
        return this.#explain(body);
      case 'PrepareStmt':
        return this.#prepare(body);
      case 'ExecuteStmt':
        c.ops.push({ op: 'execute', index: c.index, name: str(body['name']) ?? '', explainAnalyze: this.#explainAnalyze });
        return this.#visit(body['params']);
      case 'DeallocateStmt':
        c.ops.push({ op: 'deallocate', index: c.index, name: body['isall'] === true ? null : (str(body['name']) ?? null) });
        return;
      case 'DiscardStmt':
        if (body['target'] === 'DISCARD_ALL' || body['target'] === undefined) {
          // DISCARD ALL also resets settings the gateway applied (statement_timeout).
          c.risks.add('session-tampering');
          c.ops.push({ op: 'deallocate', index: c.index, name: null });
        }
        return;
      case 'VariableSetStmt':
        this.#setting(body);
        return this.#visit(body['args']);
      case 'AlterRoleSetStmt':
      case 'AlterDatabaseSetStmt':
        if (isObj(body['setstmt'])) this.#setting(body['setstmt']);
        return;
      case 'TransactionStmt':
        if (readWriteRequested(body['options'])) c.risks.add('session-tampering');
        return;
      case 'AlterTableStmt':
        this.#alterTable(body);
        return this.#fields(body, true);
      case 'DropStmt':
        return this.#drop(body);
      case 'DoStmt':
        return this.#doBlock(body);
      case 'CreateFunctionStmt':
        return this.#createFunction(body);
      case 'CallStmt':
        if (isObj(body['funccall'])) this.#funcCall(body['funccall']);
        return;
      case 'CreateTrigStmt': {
        const fn = dottedName(body['funcname']);
        if (fn !== undefined) c.functions.add(fn);
        return this.#fields(body, true);
      }
      default:
        return this.#fields(body, changes);
    }
  }

  /** Visits a statement's fields; target fields of a changing statement hold written relations. */
  #fields(body: Obj, changes: boolean): void {
    for (const key in body) {
      const child = body[key];
      if (child === null || typeof child !== 'object' || key === 'withClause') continue;
      if (changes && TARGET_FIELDS.has(key)) {
        const saved = this.#writing;
        this.#writing = true;
        this.#visit(child);
        this.#writing = saved;
      } else this.#visit(child);
    }
  }

  /**
   * CTE names shadow tables only where PostgreSQL says they are visible: a plain WITH entry
   * sees the entries before it, WITH RECURSIVE sees them all, the main query sees every one.
   * Getting this wrong either way hides a real table (`WITH t AS (SELECT * FROM t) …` reads
   * the table t) or invents one.
   */
  #withCtes(body: Obj, run: () => void): void {
    const wc = body['withClause'];
    if (!isObj(wc)) return run();
    const ctes: Obj[] = [];
    if (Array.isArray(wc['ctes'])) for (const it of wc['ctes']) if (isObj(it) && isObj(it['CommonTableExpr'])) ctes.push(it['CommonTableExpr']);
    const names = ctes.map((c) => str(c['ctename']) ?? '');
    if (wc['recursive'] === true) {
      this.#scopes.push(new Set(names));
      for (const cte of ctes) this.#visit(cte);
    } else {
      for (let i = 0; i < ctes.length; i++) {
        this.#scopes.push(new Set(names.slice(0, i)));
        this.#visit(ctes[i]);
        this.#scopes.pop();
      }
      this.#scopes.push(new Set(names));
    }
    try {
      run();
    } finally {
      this.#scopes.pop();
    }
  }

  #rangeVar(rv: Obj, write: boolean): void {
    const rel = rv['relname'] as string;
    const schema = str(rv['schemaname']);
    if (schema === undefined && !write) {
      for (let i = this.#scopes.length - 1; i >= 0; i--) if (this.#scopes[i]!.has(rel)) return;
    }
    const name = schema === undefined ? rel : `${schema}.${rel}`;
    const c = this.#c;
    if (!write) {
      c.reads.add(name);
      return;
    }
    c.writes.add(name);
    // UPDATE pg_settings is SET by another name; writing the catalogs is superuser business.
    if (rel === 'pg_settings') c.risks.add('session-tampering');
    else if (schema === 'pg_catalog' || (schema === undefined && rel.startsWith('pg_'))) c.risks.add('privilege');
  }

  #funcCall(fc: Obj): void {
    const c = this.#c;
    const name = dottedName(fc['funcname']);
    if (name !== undefined) {
      c.functions.add(name);
      const dot = name.lastIndexOf('.');
      const bare = dot < 0 ? name : name.slice(dot + 1);
      const risks = functionRisks(name, bare);
      if (risks !== undefined) {
        c.literalSensitive = true;
        for (const r of risks) c.risks.add(r);
        if (bare === 'set_config') this.#setConfig(fc['args']);
      }
    }
    for (const key in fc) if (key !== 'funcname') this.#visit(fc[key]);
  }

  /**
   * PostgreSQL reads `(arg).fn` and `t.col.fn` as `fn(arg)` when no field of that name exists
   * (attribute notation), so `SELECT ('s'::regclass).nextval` calls nextval with no FuncCall in
   * the tree. A field name after the first that is a flagged function is treated as a call of it;
   * a real column with such a name is flagged too (fail closed).
   */
  #attributeCalls(node: Obj): void {
    const selected = Array.isArray(node['indirection']);
    const names = selected ? (node['indirection'] as unknown[]) : Array.isArray(node['fields']) ? node['fields'].slice(1) : [];
    for (const n of names) {
      const name = stringNode(n);
      if (name === undefined) continue;
      const c = this.#c;
      // `(expr).name` is a field or a call of name(expr); without a catalog it is both, so a
      // `functions:` rule sees it (deny catches it; an allow listing functions must list it).
      // `t.col` in a plain column reference is left alone: that spelling is everyday SQL.
      if (selected) c.functions.add(name);
      const risks = functionRisks(name, name);
      if (risks === undefined) continue;
      c.functions.add(name);
      c.literalSensitive = true;
      for (const r of risks) c.risks.add(r);
    }
  }

  /** set_config(name, value, is_local): the name decides; a computed name could be anything. */
  #setConfig(args: unknown): void {
    const first = Array.isArray(args) ? args[0] : undefined;
    const c = isObj(first) && isObj(first['A_Const']) ? first['A_Const'] : undefined;
    const name = c !== undefined && isObj(c['sval']) ? str(c['sval']['sval']) : undefined;
    if (name === undefined || isTamperingSetting(name)) this.#c.risks.add('session-tampering');
    if (name === undefined || isIdentitySetting(name)) this.#c.risks.add('privilege');
  }

  #setting(body: Obj): void {
    const c = this.#c;
    const kind = str(body['kind']);
    const name = str(body['name']) ?? '';
    if (kind === 'VAR_RESET_ALL') c.risks.add('session-tampering');
    else if (kind === 'VAR_SET_MULTI') {
      if (readWriteRequested(body['args'])) c.risks.add('session-tampering');
    } else if (isTamperingSetting(name)) {
      c.risks.add('session-tampering');
      if (isIdentitySetting(name)) c.risks.add('privilege');
    }
  }

  #copy(body: Obj): void {
    const c = this.#c;
    const from = body['is_from'] === true;
    if (!from) c.risks.add('export');
    if (typeof body['filename'] === 'string' || body['is_program'] === true) c.risks.add('file-access');
    if (body['is_program'] === true) c.risks.add('dynamic-code');
    this.#fields(body, from);
  }

  /** Plain EXPLAIN only plans; EXPLAIN ANALYZE runs the statement, so its facts are the statement's. */
  #explain(body: Obj): void {
    const analyze = defElems(body['options']).some((d) => d['defname'] === 'analyze' && !isExplicitlyOff(d['arg']));
    const inner = this.#c.child();
    const walker = new TreeWalker(inner, this.#statementText, this.#depth);
    walker.#explainAnalyze = analyze;
    walker.#visit(body['query']);
    if (!analyze) inner.kind = inner.kind === 'unknown' ? 'unknown' : 'read';
    else if (inner.kind !== 'read') inner.risks.add('explain-analyze-write');
    this.#c.absorb(inner);
  }

  #prepare(body: Obj): void {
    const inner = this.#c.child();
    new TreeWalker(inner, this.#statementText, this.#depth).#visit(body['query']);
    const q = body['query'];
    const type = isObj(q) ? Object.keys(q)[0] : undefined;
    inner.risks.add('prepared-execute');
    this.#c.ops.push({ op: 'prepare', index: this.#c.index, name: str(body['name']) ?? '', facts: inner.facts(type !== undefined ? (STATEMENT_NODES[type] ? tagOf(type, q as Obj) : type) : 'PREPARE') });
    this.#c.absorb(inner);
  }

  #alterTable(body: Obj): void {
    if (!Array.isArray(body['cmds'])) return;
    for (const it of body['cmds']) {
      const cmd = isObj(it) && isObj(it['AlterTableCmd']) ? it['AlterTableCmd'] : undefined;
      const sub = cmd === undefined ? undefined : str(cmd['subtype']);
      if (sub === undefined) continue;
      if (sub.startsWith('AT_Drop')) this.#c.risks.add('destructive');
      if (PRIVILEGE_SUBCOMMANDS.has(sub)) this.#c.risks.add('privilege');
    }
  }

  #drop(body: Obj): void {
    const type = str(body['removeType']) ?? '';
    const objects = Array.isArray(body['objects']) ? body['objects'] : [];
    for (const o of objects) {
      if (RELATION_DROPS.has(type) && isObj(o) && isObj(o['List'])) {
        const name = dottedName(o['List']['items']);
        if (name !== undefined) this.#c.writes.add(name);
      } else if (type === 'OBJECT_SCHEMA') {
        const s = stringNode(o);
        if (s !== undefined) this.#c.writes.add(`${s}.*`);
      }
    }
  }

  /**
   * A DO body runs now, so its SQL is analyzed as if sent directly. Only PL/pgSQL can be read;
   * any other language is opaque code.
   */
  #doBlock(body: Obj): void {
    const c = this.#c;
    const opts = defElems(body['args']);
    let lang = 'plpgsql';
    for (const d of opts) if (d['defname'] === 'language') lang = (stringNode(d['arg']) ?? lang).toLowerCase();
    if (lang !== 'plpgsql') {
      c.risks.add('dynamic-code');
      return;
    }
    let tree: unknown;
    try {
      tree = parsePlPgSQLSync(this.#statementText());
    } catch (e) {
      c.fail(`the DO block's PL/pgSQL could not be parsed: ${errorMessage(e)}`);
      return;
    }
    walkPlpgsql(tree, c, (sql) => analyzeNestedSql(sql, c, this.#depth + 1));
  }

  /**
   * CREATE FUNCTION does not run its body, but what the body touches is worth reporting, and
   * SECURITY DEFINER hands the caller the owner's rights.
   */
  #createFunction(body: Obj): void {
    const c = this.#c;
    const opts = defElems(body['options']);
    let lang = 'sql';
    for (const d of opts) {
      if (d['defname'] === 'language') lang = (stringNode(d['arg']) ?? lang).toLowerCase();
      if (d['defname'] === 'security' && !isExplicitlyOff(d['arg'])) c.risks.add('privilege');
    }
    this.#visit(body['parameters']);
    if (isObj(body['sql_body'])) {
      this.#visit(body['sql_body']);
      return;
    }
    const probe = c.child();
    try {
      if (lang === 'plpgsql') walkPlpgsql(parsePlPgSQLSync(this.#statementText()), probe, (sql) => analyzeNestedSql(sql, probe, this.#depth + 1));
      else if (lang === 'sql') {
        const as = opts.find((d) => d['defname'] === 'as');
        const items = as !== undefined && isObj(as['arg']) && isObj(as['arg']['List']) ? as['arg']['List']['items'] : undefined;
        const text = Array.isArray(items) ? stringNode(items[0]) : undefined;
        if (text !== undefined) analyzeNestedSql(text, probe, this.#depth + 1);
      }
    } catch {
      return; // the body stays opaque; the statement already carries dynamic-code
    }
    // A body that fails to parse leaves the function opaque instead of making CREATE unknown.
    if (probe.kind !== 'unknown') c.absorb(probe);
  }
}

function tagOf(type: string, q: Obj): string {
  const info = STATEMENT_NODES[type]!;
  const body = q[type] as Obj;
  return typeof info.tag === 'function' ? info.tag(body) : info.tag;
}

/** A WHERE that mentions no column (or is absent) does not pick rows: `WHERE 1=1`, `WHERE true`. */
function filtersRows(where: unknown): boolean {
  if (!isObj(where)) return false;
  return containsKey(where, 'ColumnRef') || containsKey(where, 'CurrentOfExpr');
}

function containsKey(v: unknown, key: string): boolean {
  if (Array.isArray(v)) return v.some((x) => containsKey(x, key));
  if (!isObj(v)) return false;
  for (const k in v) {
    if (k === key) return true;
    const child = v[k];
    if (child !== null && typeof child === 'object' && containsKey(child, key)) return true;
  }
  return false;
}

/** BEGIN READ WRITE / SET TRANSACTION READ WRITE undo a read-only default the DBA may rely on. */
function readWriteRequested(options: unknown): boolean {
  return defElems(options).some((d) => d['defname'] === 'transaction_read_only' && isExplicitlyOff(d['arg']));
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses SQL found inside another statement (a DO body) and folds its facts into `c`. */
export function analyzeNestedSql(sql: string, c: FactCollector, depth: number): void {
  if (depth > MAX_NESTING) {
    c.fail('code nested more than 8 levels deep is not analyzed');
    return;
  }
  let parsed: { stmts?: unknown[] };
  try {
    parsed = parseSync(sql) as { stmts?: unknown[] };
  } catch (e) {
    c.fail(`embedded SQL could not be parsed: ${errorMessage(e)}`);
    return;
  }
  const src = new SourceText(sql);
  for (const raw of parsed.stmts ?? []) {
    if (!isObj(raw) || !isObj(raw['stmt'])) continue;
    const type = Object.keys(raw['stmt'])[0] ?? '';
    const body = raw['stmt'][type];
    const loc = typeof raw['stmt_location'] === 'number' ? raw['stmt_location'] : 0;
    const len = typeof raw['stmt_len'] === 'number' ? raw['stmt_len'] : 0;
    if (!isObj(body)) {
      c.fail(`${type} is not a statement the analyzer recognizes`);
      continue;
    }
    new TreeWalker(c, () => src.slice(loc, len), depth).statement(type, body);
  }
}
