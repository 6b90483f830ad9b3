import { identifierName, significant, tokenize, type Token } from './sql-tokens.js';

/**
 * Statements the emulator answers itself instead of passing to DuckDB, because they change
 * Snowflake session state (USE, ALTER SESSION), name Snowflake objects DuckDB lacks
 * (CREATE DATABASE), or have a Snowflake-shaped answer (SHOW, DESCRIBE).
 */
export type SessionCommand =
  | { readonly kind: 'use'; readonly target: 'DATABASE' | 'SCHEMA' | 'WAREHOUSE' | 'ROLE' | 'AUTO'; readonly names: readonly string[] }
  | { readonly kind: 'set'; readonly values: readonly (readonly [string, string])[] }
  | { readonly kind: 'unset'; readonly names: readonly string[] }
  | { readonly kind: 'create-database'; readonly name: string; readonly ifNotExists: boolean; readonly orReplace: boolean }
  /** A statement replaced by an equivalent query over the catalog (still goes through the fix-up). */
  | { readonly kind: 'rewrite'; readonly sql: string };

export function parseSessionCommand(sql: string): SessionCommand | null {
  const t = significant(tokenize(sql)).filter((x, i, all) => !(i === all.length - 1 && x.text === ';'));
  const w = (i: number) => (t[i]?.kind === 'word' ? t[i]!.text.toUpperCase() : '');
  switch (w(0)) {
    case 'USE': {
      const target = ['DATABASE', 'SCHEMA', 'WAREHOUSE', 'ROLE'].includes(w(1)) ? (w(1) as 'DATABASE') : 'AUTO';
      const names = dottedName(t, target === 'AUTO' ? 1 : 2);
      return names ? { kind: 'use', target, names } : null;
    }
    case 'ALTER':
      if (w(1) !== 'SESSION') return null;
      if (w(2) === 'SET') {
        const values: [string, string][] = [];
        let i = 3;
        while (i < t.length) {
          const key = t[i];
          if (key?.kind !== 'word' || t[i + 1]?.text !== '=' || !t[i + 2]) return null;
          values.push([key.text.toUpperCase(), literalValue(t[i + 2]!)]);
          i += 3;
          if (t[i]?.text === ',') i++;
        }
        return values.length ? { kind: 'set', values } : null;
      }
      if (w(2) === 'UNSET') {
        const names = t.slice(3).filter((x) => x.kind === 'word').map((x) => x.text.toUpperCase());
        return names.length ? { kind: 'unset', names } : null;
      }
      return null;
    case 'CREATE': {
      let i = 1;
      const orReplace = w(1) === 'OR' && w(2) === 'REPLACE';
      if (orReplace) i = 3;
      if (w(i) !== 'DATABASE') return null;
      i++;
      const ifNotExists = w(i) === 'IF' && w(i + 1) === 'NOT' && w(i + 2) === 'EXISTS';
      if (ifNotExists) i += 3;
      const names = dottedName(t, i);
      return names?.length === 1 ? { kind: 'create-database', name: names[0]!, ifNotExists, orReplace } : null;
    }
    case 'SHOW':
      return showCommand(t);
    case 'DESC':
    case 'DESCRIBE': {
      const i = w(1) === 'TABLE' || w(1) === 'VIEW' ? 2 : 1;
      const names = dottedName(t, i);
      if (!names) return null;
      const table = names[names.length - 1]!;
      const schema = names.length >= 2 ? lit(names[names.length - 2]!) : 'CURRENT_SCHEMA()';
      const database = names.length >= 3 ? lit(names[0]!) : 'CURRENT_DATABASE()';
      return {
        kind: 'rewrite',
        sql:
          `SELECT column_name AS "name", data_type AS "type", 'COLUMN' AS "kind", CASE WHEN is_nullable THEN 'Y' ELSE 'N' END AS "null?", ` +
          `column_default AS "default", 'N' AS "primary key", 'N' AS "unique key" FROM duckdb_columns() WHERE database_name = ${database} ` +
          `AND schema_name = ${schema} AND table_name = ${lit(table)} ORDER BY column_index`,
      };
    }
    default:
      return null;
  }
}

function showCommand(t: Token[]): SessionCommand | null {
  const what = t[1]?.kind === 'word' ? t[1].text.toUpperCase() : '';
  const scope = 'table_catalog = CURRENT_DATABASE() AND table_schema = CURRENT_SCHEMA()';
  switch (what) {
    case 'TABLES':
    case 'VIEWS': {
      const type = what === 'TABLES' ? "'BASE TABLE'" : "'VIEW'";
      return {
        kind: 'rewrite',
        sql:
          `SELECT NULL::TIMESTAMPTZ AS "created_on", table_name AS "name", table_catalog AS "database_name", ` +
          `table_schema AS "schema_name", '${what === 'TABLES' ? 'TABLE' : 'VIEW'}' AS "kind" FROM information_schema.tables ` +
          `WHERE table_type = ${type} AND ${scope} ORDER BY table_name`,
      };
    }
    case 'SCHEMAS':
      return {
        kind: 'rewrite',
        sql:
          `SELECT NULL::TIMESTAMPTZ AS "created_on", schema_name AS "name", catalog_name AS "database_name" FROM information_schema.schemata ` +
          `WHERE catalog_name = CURRENT_DATABASE() AND schema_name NOT IN ('information_schema', 'pg_catalog', 'main') ORDER BY schema_name`,
      };
    case 'DATABASES':
      return {
        kind: 'rewrite',
        sql:
          `SELECT NULL::TIMESTAMPTZ AS "created_on", database_name AS "name", 'N' AS "is_default" FROM duckdb_databases() ` +
          `WHERE NOT internal AND database_name NOT IN ('memory', 'system', 'temp') ORDER BY database_name`,
      };
    default:
      return null;
  }
}

/** `a`, `a.b`, `"a".b.c` starting at token `i`, which must end the statement. */
function dottedName(t: Token[], i: number): string[] | null {
  const names: string[] = [];
  for (;;) {
    const tok = t[i];
    if (!tok || (tok.kind !== 'word' && tok.kind !== 'quoted')) return null;
    names.push(identifierName(tok));
    i++;
    if (t[i]?.text !== '.') break;
    i++;
  }
  return i === t.length ? names : null;
}

/** `'text'` unquoted, numbers and words as written (words upper-cased, as Snowflake shows TRUE). */
function literalValue(tok: Token): string {
  if (tok.kind === 'string') return tok.text.startsWith('$$') ? tok.text.slice(2, -2) : tok.text.slice(1, -1).replace(/''/g, "'");
  if (tok.kind === 'word') return tok.text.toUpperCase();
  return tok.text;
}

function lit(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}
