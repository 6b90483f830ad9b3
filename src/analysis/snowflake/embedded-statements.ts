import type { Tokens } from './command.js';
import { opensBlock } from './split.js';

/** First words of the statements a Snowflake Scripting block may run. */
const STATEMENT_WORDS: ReadonlySet<string> = new Set([
  'SELECT', 'WITH', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'COPY', 'PUT', 'GET', 'LIST', 'LS', 'REMOVE', 'RM',
  'CREATE', 'ALTER', 'DROP', 'UNDROP', 'COMMENT', 'GRANT', 'REVOKE', 'USE', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN',
  'CALL', 'EXECUTE', 'SET', 'UNSET', 'BEGIN', 'START', 'COMMIT', 'ROLLBACK',
]);

/** Words after which a block may start a statement: `THEN DELETE …`, `LOOP INSERT …`, `CURSOR FOR SELECT …`. */
const LEADS: ReadonlySet<string> = new Set(['BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'FOR', 'DEFAULT', 'REPEAT', 'AS']);
const QUERY_WORDS: ReadonlySet<string> = new Set(['SELECT', 'WITH']);

/**
 * The SQL statements inside a Snowflake Scripting block (tokens `from`…`to`), as texts to
 * analyze. A statement starts where a statement keyword follows `;`, `:=`, `(` (`LET r
 * RESULTSET := (EXECUTE IMMEDIATE …)`, `ASYNC (INSERT …)`) or a lead word above; it ends at the
 * next `;` at its own depth or at the `)` that closes it. Scripting statements (LET, IF, RETURN, OPEN, FETCH …) are not SQL and are passed over;
 * SQL inside their expressions is still found through `(SELECT …)` and `:= (…)`.
 * `SELECT … INTO :var` assigns variables; the INTO list is blanked so the query can be parsed.
 * https://docs.snowflake.com/en/developer-guide/snowflake-scripting/index
 */
export function blockStatements(t: Tokens, from: number, to: number): string[] {
  const out: string[] = [];
  let i = from;
  while (i < to) {
    const w = t.word(i);
    if (w !== '' && STATEMENT_WORDS.has(w) && startsStatement(t, i, from) && !(w === 'BEGIN' && opensBlock(t.list, i))) {
      const end = statementEnd(t, i, to);
      out.push(QUERY_WORDS.has(w) ? withoutIntoVariables(t, i, end) : t.text(i, end));
      i = end;
    } else i++;
  }
  return out;
}

function startsStatement(t: Tokens, i: number, from: number): boolean {
  if (i === from) return true;
  const prev = t.at(i - 1)!;
  if (prev.type === 'op') return prev.text === ';' || prev.text === ':=' || prev.text === '(';
  return prev.type === 'word' && LEADS.has(prev.upper);
}

function statementEnd(t: Tokens, i: number, to: number): number {
  let depth = 0;
  for (let j = i; j < to; j++) {
    if (t.op(j, '(')) depth++;
    else if (t.op(j, ')')) {
      if (depth === 0) return j;
      depth--;
    } else if (depth === 0 && t.op(j, ';')) return j;
  }
  return to;
}

/** The statement's text with `INTO :a, :b` replaced by spaces. */
function withoutIntoVariables(t: Tokens, from: number, to: number): string {
  let text = t.text(from, to);
  const base = t.at(from)!.start;
  for (let i = from; i < to; i++) {
    if (t.word(i) !== 'INTO' || !t.op(i + 1, ':')) continue;
    let j = i + 1;
    while (t.op(j, ':') && t.at(j + 1)?.type === 'word') {
      j += 2;
      if (!t.op(j, ',')) break;
      j++;
    }
    const a = t.at(i)!.start - base;
    const b = t.at(j - 1)!.end - base;
    text = text.slice(0, a) + ' '.repeat(b - a) + text.slice(b);
  }
  return text;
}

/**
 * Queries inside a DDL statement from token `from` on: the tail after a top-level
 * `AS SELECT|WITH|(`, and every `(SELECT …)` group.
 */
export function embeddedQueries(t: Tokens, from: number): string[] {
  const out: string[] = [];
  const as = t.findTop(from, (i) => t.word(i) === 'AS' && (QUERY_WORDS.has(t.word(i + 1)) || t.op(i + 1, '(')));
  if (as >= 0) {
    out.push(t.text(as + 1));
    return out;
  }
  for (let i = from; i < t.length; i++) {
    if (t.op(i, '(') && QUERY_WORDS.has(t.word(i + 1))) {
      const close = t.closing(i);
      out.push(t.text(i + 1, close - 1));
      i = close - 1;
    }
  }
  return out;
}
