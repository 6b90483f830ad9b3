import type { FactCollector } from './collector.js';
import { isObj, str, type Obj } from './node.js';

/**
 * PL/pgSQL statement types whose SQL the walker can see. Anything else in a body (a future
 * PostgreSQL addition) makes the block `unknown` rather than silently trusted.
 * https://www.postgresql.org/docs/current/plpgsql-statements.html
 */
const KNOWN_PL_STATEMENTS: ReadonlySet<string> = new Set([
  'PLpgSQL_stmt_block',
  'PLpgSQL_stmt_assign',
  'PLpgSQL_stmt_if',
  'PLpgSQL_stmt_case',
  'PLpgSQL_stmt_loop',
  'PLpgSQL_stmt_while',
  'PLpgSQL_stmt_fori',
  'PLpgSQL_stmt_fors',
  'PLpgSQL_stmt_forc',
  'PLpgSQL_stmt_foreach_a',
  'PLpgSQL_stmt_exit',
  'PLpgSQL_stmt_return',
  'PLpgSQL_stmt_return_next',
  'PLpgSQL_stmt_return_query',
  'PLpgSQL_stmt_raise',
  'PLpgSQL_stmt_assert',
  'PLpgSQL_stmt_execsql',
  'PLpgSQL_stmt_dynexecute',
  'PLpgSQL_stmt_dynfors',
  'PLpgSQL_stmt_getdiag',
  'PLpgSQL_stmt_open',
  'PLpgSQL_stmt_fetch',
  'PLpgSQL_stmt_close',
  'PLpgSQL_stmt_perform',
  'PLpgSQL_stmt_call',
  'PLpgSQL_stmt_commit',
  'PLpgSQL_stmt_rollback',
]);

/** Statements that run SQL built at run time: the analyzer cannot know what they do. */
const DYNAMIC_PL_STATEMENTS: ReadonlySet<string> = new Set(['PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_dynfors']);

/**
 * libpg-query's RawParseMode for each embedded expression: 0 a whole statement, 2 an
 * expression, 3–5 an assignment `target := expr`.
 */
const MODE_STATEMENT = 0;
const MODE_EXPRESSION = 2;

/**
 * Walks a parsePlPgSQL tree and hands every embedded SQL string to `analyzeSql`, which folds
 * what it finds into `c`. Expressions become `SELECT <expr>`; assignments lose their target.
 */
export function walkPlpgsql(tree: unknown, c: FactCollector, analyzeSql: (sql: string) => void): void {
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (!isObj(v)) return;
    for (const key in v) {
      const child = v[key];
      if (child === null || typeof child !== 'object') continue;
      if (key === 'PLpgSQL_expr' && isObj(child)) {
        expression(child);
        continue;
      }
      if (key.startsWith('PLpgSQL_stmt_')) {
        if (!KNOWN_PL_STATEMENTS.has(key)) {
          c.fail(`PL/pgSQL statement ${key.slice('PLpgSQL_stmt_'.length)} is not recognized`);
          continue;
        }
        if (DYNAMIC_PL_STATEMENTS.has(key)) c.risks.add('dynamic-code');
        if (key === 'PLpgSQL_stmt_commit' || key === 'PLpgSQL_stmt_rollback') c.escalate('tcl');
      }
      if (key === 'dynquery') c.risks.add('dynamic-code');
      visit(child);
    }
  };

  const expression = (e: Obj): void => {
    const query = str(e['query']);
    const mode = typeof e['parseMode'] === 'number' ? e['parseMode'] : MODE_STATEMENT;
    if (query === undefined) return;
    if (mode === MODE_STATEMENT) analyzeSql(query);
    else if (mode === MODE_EXPRESSION) analyzeSql(`SELECT ${query}`);
    else if (mode >= 3 && mode <= 5) {
      const split = splitAssignment(query);
      if (split === undefined) c.fail('a PL/pgSQL assignment could not be split into target and value');
      else {
        // The target's subscripts run too (`a[nextval('s')] := 1`): analyze it as an expression.
        analyzeSql(`SELECT ${split.target}`);
        analyzeSql(`SELECT ${split.value}`);
      }
    } else c.fail(`PL/pgSQL expression parse mode ${String(mode)} is not recognized`);
  };

  visit(tree);
}

/** The text after the first top-level `:=` or `=` of `target := value`. */
export function assignedValue(q: string): string | undefined {
  return splitAssignment(q)?.value;
}

/** `target := value` split at its first top-level `:=` or `=`. */
export function splitAssignment(q: string): { target: string; value: string } | undefined {
  let depth = 0;
  for (let i = 0; i < q.length; i++) {
    const ch = q[i];
    if (ch === '"' || ch === "'") {
      const close = q.indexOf(ch, i + 1);
      if (close < 0) return undefined;
      i = close;
    } else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (depth === 0) {
      if (ch === ':' && q[i + 1] === '=') return { target: q.slice(0, i), value: q.slice(i + 2) };
      if (ch === '=') return { target: q.slice(0, i), value: q.slice(i + 1) };
    }
  }
  return undefined;
}
