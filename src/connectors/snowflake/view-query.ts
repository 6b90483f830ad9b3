import { leadingKeyword } from './statement-kind.js';

/**
 * The defining query of a Snowflake view, from INFORMATION_SCHEMA.VIEWS.VIEW_DEFINITION,
 * which holds the whole `CREATE [OR REPLACE] [SECURE] VIEW name [(columns …)] [COMMENT = '…']
 * … AS <query>` text. Lineage wants only the query: it is what follows the first `AS` outside
 * quotes, identifiers, comments and parentheses. Undefined when no such `AS` is found, which
 * leaves the view's lineage unknown (masked conservatively) rather than guessed.
 *
 * @example
 *   viewQueryOf("create view V (a comment 'as is') as select a from t") // 'select a from t'
 */
export function viewQueryOf(definition: string): string | undefined {
  const first = leadingKeyword(definition);
  if (first === 'SELECT' || first === 'WITH') return definition.trim();
  if (first !== 'CREATE') return undefined;
  let depth = 0;
  let i = 0;
  const n = definition.length;
  while (i < n) {
    const c = definition[i]!;
    if (c === "'" || c === '"') {
      i = skipQuoted(definition, i, c);
    } else if (c === '$' && definition.startsWith('$$', i)) {
      const end = definition.indexOf('$$', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (definition.startsWith('--', i) || definition.startsWith('//', i)) {
      const nl = definition.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (definition.startsWith('/*', i)) {
      const end = definition.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth--;
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(definition.slice(i))![0];
      if (depth === 0 && word.toUpperCase() === 'AS') {
        const query = definition.slice(i + word.length).trim();
        return query === '' ? undefined : query;
      }
      i += word.length;
    } else {
      i++;
    }
  }
  return undefined;
}

/** The index just past a quoted string or identifier; a doubled quote stands for itself. */
function skipQuoted(s: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < s.length) {
    if (s[i] === '\\' && quote === "'") {
      i += 2;
    } else if (s[i] === quote) {
      if (s[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return s.length;
}
