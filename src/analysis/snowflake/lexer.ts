/**
 * Snowflake's lexical rules, as far as the analyzer needs them: where strings, quoted
 * identifiers, `$$…$$` literals and comments begin and end, so that a `;` or a keyword inside
 * one of them is never mistaken for SQL.
 * https://docs.snowflake.com/en/sql-reference/data-types-text#string-constants
 * https://docs.snowflake.com/en/sql-reference/identifiers-syntax
 *
 * Where the rules leave room for doubt the lexer reports an error instead of guessing, so the
 * statement becomes `unknown`: an unterminated literal, `/*` inside a block comment (Snowflake
 * does not nest them, other parsers do), and any non-ASCII character outside quotes and
 * comments (a no-break space or a full-width semicolon might be read differently by the server).
 */

export type TokenType =
  /** An unquoted identifier or keyword: `select`, `SYSTEM$SEND_EMAIL`. */
  | 'word'
  /** A double-quoted identifier; `value` has the quotes removed and `""` undone. */
  | 'quoted'
  /** A single-quoted string; `value` has the escapes decoded. */
  | 'string'
  /** A `$$…$$` string; `value` is the text between the delimiters. */
  | 'dollar'
  | 'number'
  /** A session variable or positional column: `$name`, `$1`. */
  | 'variable'
  /** A stage reference with its path: `@~`, `@%t`, `@db.s.stage/path/file.csv`. */
  | 'stage'
  /** An unquoted URI such as PUT's `file:///tmp/data.csv`. */
  | 'uri'
  | 'op';

export interface Token {
  readonly type: TokenType;
  /** The token as written. */
  readonly text: string;
  /** Upper-cased text for words (keyword comparisons), the text otherwise. */
  readonly upper: string;
  /** Decoded value of quoted identifiers and strings. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export interface Lexed {
  readonly tokens: readonly Token[];
  /** The input with every comment blanked out (same length, so token offsets still apply). */
  readonly text: string;
  readonly error?: string | undefined;
}

const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isWordPart = (c: number): boolean => isLetter(c) || isDigit(c) || c === 36;
/** Space, tab, newline, carriage return, form feed, vertical tab. */
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
/** Characters a stage path runs on through; quotes, parentheses, commas and `;` end it. */
const STAGE_STOP = /[\s;(),']/;

const OPERATORS = ['->>', '->', '::', ':=', '=>', '<=', '>=', '<>', '!=', '||', '=='];
const OPERATOR_STARTS: ReadonlySet<string> = new Set(OPERATORS.map((o) => o[0]!));

/** Tokenizes `sql`. Never throws; a doubtful input comes back with `error` set. */
export function lex(sql: string): Lexed {
  const tokens: Token[] = [];
  const blanks: [number, number][] = [];
  let error: string | undefined;
  const n = sql.length;
  let i = 0;
  const push = (type: TokenType, start: number, end: number, value?: string): void => {
    const text = sql.slice(start, end);
    tokens.push({ type, text, upper: type === 'word' ? text.toUpperCase() : text, value: value ?? text, start, end });
  };

  while (i < n && error === undefined) {
    const code = sql.charCodeAt(i);
    if (isSpace(code)) {
      i++;
      continue;
    }
    const ch = sql[i]!;
    const next = sql[i + 1];
    if ((ch === '-' && next === '-') || (ch === '/' && next === '/')) {
      const end = lineEnd(sql, i);
      blanks.push([i, end]);
      i = end;
    } else if (ch === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      const inner = sql.indexOf('/*', i + 2);
      if (close < 0) error = 'a /* comment is not closed';
      else if (inner >= 0 && inner < close) error = 'a /* comment contains another /*, which parsers read differently';
      else {
        blanks.push([i, close + 2]);
        i = close + 2;
      }
    } else if (ch === "'") {
      const s = readString(sql, i);
      if (s === undefined) error = 'a string literal is not closed';
      else {
        push('string', i, s.end, s.value);
        i = s.end;
      }
    } else if (ch === '"') {
      const q = readQuoted(sql, i);
      if (q === undefined) error = 'a quoted identifier is not closed';
      else {
        push('quoted', i, q.end, q.value);
        i = q.end;
      }
    } else if (ch === '$' && next === '$') {
      const close = sql.indexOf('$$', i + 2);
      if (close < 0) error = 'a $$ string is not closed';
      else {
        push('dollar', i, close + 2, sql.slice(i + 2, close));
        i = close + 2;
      }
    } else if (ch === '$' && isWordPart(sql.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < n && (isLetter(sql.charCodeAt(j)) || isDigit(sql.charCodeAt(j)))) j++;
      push('variable', i, j);
      i = j;
    } else if (isLetter(code)) {
      let j = i + 1;
      while (j < n && isWordPart(sql.charCodeAt(j))) j++;
      if (sql.startsWith('://', j)) {
        while (j < n && !isSpace(sql.charCodeAt(j)) && sql[j] !== ';') j++;
        push('uri', i, j);
      } else push('word', i, j);
      i = j;
    } else if (isDigit(code) || (ch === '.' && isDigit(sql.charCodeAt(i + 1)))) {
      const j = readNumber(sql, i);
      push('number', i, j);
      i = j;
    } else if (ch === '@') {
      const j = readStage(sql, i);
      if (j === undefined) error = 'a quoted stage name is not closed';
      else {
        push('stage', i, j);
        i = j;
      }
    } else if (code > 0x7f) {
      error = `the character U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} outside quotes may be read differently by Snowflake`;
    } else {
      const op = (OPERATOR_STARTS.has(ch) ? OPERATORS.find((o) => sql.startsWith(o, i)) : undefined) ?? ch;
      push('op', i, i + op.length);
      i += op.length;
    }
  }
  return { tokens, text: blank(sql, blanks), ...(error !== undefined ? { error } : {}) };
}

function lineEnd(sql: string, from: number): number {
  for (let j = from; j < sql.length; j++) if (sql[j] === '\n' || sql[j] === '\r') return j;
  return sql.length;
}

/** Replaces each comment with spaces, so what a parser sees cannot differ from what we lexed. */
function blank(sql: string, spans: readonly [number, number][]): string {
  if (spans.length === 0) return sql;
  let out = '';
  let at = 0;
  for (const [s, e] of spans) {
    out += sql.slice(at, s) + ' '.repeat(e - s);
    at = e;
  }
  return out + sql.slice(at);
}

/** `'…'` with `''` and backslash escapes; undefined when unterminated. */
function readString(sql: string, start: number): { end: number; value: string } | undefined {
  let value = '';
  let run = start + 1;
  let j = run;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === 92) {
      const esc = decodeEscape(sql, j + 1);
      value += sql.slice(run, j) + esc.text;
      j = run = esc.end;
    } else if (c === 39) {
      value += sql.slice(run, j);
      if (sql.charCodeAt(j + 1) !== 39) return { end: j + 1, value };
      value += "'";
      j = run = j + 2;
    } else j++;
  }
  return undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', Z: '\x1a' };

/** One escape after a backslash, as Snowflake decodes it in single-quoted strings. */
function decodeEscape(sql: string, at: number): { text: string; end: number } {
  const c = sql[at];
  if (c === undefined) return { text: '', end: at };
  if (c === 'x' && /^[0-9A-Fa-f]{2}$/.test(sql.slice(at + 1, at + 3))) return { text: String.fromCharCode(parseInt(sql.slice(at + 1, at + 3), 16)), end: at + 3 };
  if (c === 'u' && /^[0-9A-Fa-f]{4}$/.test(sql.slice(at + 1, at + 5))) return { text: String.fromCharCode(parseInt(sql.slice(at + 1, at + 5), 16)), end: at + 5 };
  if (/^[0-7]{3}$/.test(sql.slice(at, at + 3))) return { text: String.fromCharCode(parseInt(sql.slice(at, at + 3), 8)), end: at + 3 };
  return { text: SIMPLE_ESCAPES[c] ?? c, end: at + 1 };
}

function readQuoted(sql: string, start: number): { end: number; value: string } | undefined {
  let value = '';
  let j = start + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (c === '"') {
      if (sql[j + 1] === '"') {
        value += '"';
        j += 2;
      } else return { end: j + 1, value };
    } else {
      value += c;
      j++;
    }
  }
  return undefined;
}

function readNumber(sql: string, start: number): number {
  let j = start;
  while (isDigit(sql.charCodeAt(j))) j++;
  if (sql[j] === '.') {
    j++;
    while (isDigit(sql.charCodeAt(j))) j++;
  }
  if (sql[j] === 'e' || sql[j] === 'E') {
    const sign = sql[j + 1] === '+' || sql[j + 1] === '-' ? 1 : 0;
    if (isDigit(sql.charCodeAt(j + 1 + sign))) {
      j += 1 + sign;
      while (isDigit(sql.charCodeAt(j))) j++;
    }
  }
  return j;
}

/** `@` and the stage path after it, quoted parts included; undefined when a quote is open. */
function readStage(sql: string, start: number): number | undefined {
  let j = start + 1;
  while (j < sql.length) {
    const c = sql[j]!;
    if (c === '"') {
      const q = readQuoted(sql, j);
      if (q === undefined) return undefined;
      j = q.end;
    } else if (STAGE_STOP.test(c) || c.charCodeAt(0) > 0x7f) break;
    else j++;
  }
  return j;
}
