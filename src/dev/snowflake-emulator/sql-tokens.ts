/**
 * A lexer just good enough for the emulator's SQL fix-up: it keeps string literals, quoted
 * identifiers and comments intact so rewrites only ever touch bare words and punctuation.
 * Concatenating every token's `text` gives back the input exactly.
 */
export type TokenKind = 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'bind' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const take = (kind: TokenKind, end: number) => {
    out.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j]!)) j++;
      take('space', j);
    } else if ((c === '-' && next === '-') || (c === '/' && next === '/')) {
      const j = sql.indexOf('\n', i);
      take('comment', j < 0 ? n : j);
    } else if (c === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      take('comment', j < 0 ? n : j + 2);
    } else if (c === "'") {
      take('string', endOfQuoted(sql, i, "'"));
    } else if (c === '"') {
      take('quoted', endOfQuoted(sql, i, '"'));
    } else if (c === '$' && next === '$') {
      const j = sql.indexOf('$$', i + 2);
      take('string', j < 0 ? n : j + 2);
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      take('word', j);
    } else if (/[0-9]/.test(c) || (c === '.' && next !== undefined && /[0-9]/.test(next))) {
      let j = i + 1;
      while (j < n && /[0-9.eE]/.test(sql[j]!)) j++;
      take('number', j);
    } else if (c === ':' && next === ':') {
      take('punct', i + 2);
    } else if ((c === ':' || c === '$') && next !== undefined && /[0-9]/.test(next)) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j]!)) j++;
      take('bind', j);
    } else {
      take('punct', i + 1);
    }
  }
  return out;
}

/** The index just past a literal opened at `start`; a doubled quote is an escaped one. */
function endOfQuoted(sql: string, start: number, q: string): number {
  let j = start + 1;
  while (j < sql.length) {
    if (sql[j] === q) {
      if (sql[j + 1] === q) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

/** The tokens that carry meaning (no whitespace, no comments). */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** A bare word folded the way Snowflake folds unquoted identifiers; a quoted one unwrapped. */
export function identifierName(t: Token): string {
  return t.kind === 'quoted' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toUpperCase();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
