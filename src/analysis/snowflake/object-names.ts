import { lex, type Token } from './lexer.js';

/**
 * How Snowflake object names are reported. Snowflake folds unquoted identifiers to upper case;
 * we report them lower-cased so that policy globs written like PostgreSQL's (`public.customers`)
 * match. Quoted identifiers keep their case. A three-part name `db.schema.table` is reported
 * as `schema.table` — policies name schemas and tables, the database is the connection's — and
 * `db..table` (Snowflake's shorthand for the PUBLIC schema) as `public.table`.
 * https://docs.snowflake.com/en/sql-reference/name-resolution
 */

export interface NamePart {
  readonly value: string;
  readonly quoted: boolean;
}

export function partText(p: NamePart): string {
  return p.quoted ? p.value : p.value.toLowerCase();
}

/** Snowflake's own identity of an identifier: unquoted names are upper-cased, quoted ones exact. */
export function identityKey(p: NamePart): string {
  return p.quoted ? p.value : p.value.toUpperCase();
}

export function relationName(parts: readonly NamePart[]): string {
  const texts = parts.map(partText);
  if (texts.length >= 3) {
    const schema = texts[texts.length - 2]!;
    return `${schema === '' ? 'public' : schema}.${texts[texts.length - 1]!}`;
  }
  return texts.join('.');
}

/** `@db.s.stage/path/file.csv` → `@db.s.stage`; the path names files, not the stage. */
export function stageName(text: string): string {
  let out = '@';
  let i = 1;
  while (i < text.length && text[i] !== '/') {
    if (text[i] === '"') {
      const close = text.indexOf('"', i + 1);
      const end = close < 0 ? text.length : close + 1;
      out += text.slice(i, end);
      i = end;
    } else {
      out += text[i]!.toLowerCase();
      i++;
    }
  }
  return out;
}

/** A name read from tokens: its parts, or why it cannot be known statically. */
export type TokenName =
  | { readonly parts: readonly NamePart[]; readonly next: number; readonly dynamic?: undefined }
  | { readonly parts?: undefined; readonly next: number; readonly dynamic: string };

/**
 * Reads `a.b.c`, `a..c` or `IDENTIFIER('a.b')` starting at token `i`. `IDENTIFIER($v)` and
 * `IDENTIFIER(:v)` name their object through a variable: reported as dynamic.
 * https://docs.snowflake.com/en/sql-reference/identifier-literal
 */
export function readObjectName(tokens: readonly Token[], i: number): TokenName | undefined {
  const t = tokens[i];
  if (t === undefined) return undefined;
  if (t.type === 'word' && t.upper === 'IDENTIFIER' && tokens[i + 1]?.text === '(') {
    const arg = tokens[i + 2];
    const close = tokens[i + 3]?.text === ')' ? i + 4 : i + 3;
    if (arg !== undefined && (arg.type === 'string' || arg.type === 'dollar')) {
      const parts = namePartsOf(arg.value);
      return parts === undefined ? { next: close, dynamic: `IDENTIFIER(${arg.text}) does not hold an object name` } : { parts, next: close };
    }
    return { next: close, dynamic: `IDENTIFIER(${arg?.text ?? ''}) names its object through a variable` };
  }
  if (t.type !== 'word' && t.type !== 'quoted') return undefined;
  const parts: NamePart[] = [part(t)];
  let j = i + 1;
  while (tokens[j]?.text === '.' && tokens[j]?.type === 'op') {
    const after = tokens[j + 1];
    if (after?.type === 'word' || after?.type === 'quoted') {
      parts.push(part(after));
      j += 2;
    } else if (after?.text === '.' && after.type === 'op') {
      parts.push({ value: '', quoted: false });
      j += 1;
    } else break;
  }
  return { parts, next: j };
}

function part(t: Token): NamePart {
  return { value: t.type === 'quoted' ? t.value : t.text, quoted: t.type === 'quoted' };
}

/** The name inside an IDENTIFIER('…') string, or undefined when it is not one. */
export function namePartsOf(text: string): NamePart[] | undefined {
  const lexed = lex(text);
  if (lexed.error !== undefined) return undefined;
  const r = readObjectName(lexed.tokens, 0);
  if (r === undefined || r.parts === undefined || r.next !== lexed.tokens.length) return undefined;
  return [...r.parts];
}
