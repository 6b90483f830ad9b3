import { identifierName, tokenize, type Token } from './sql-tokens.js';

/** Session facts the fix-up inlines where Snowflake has functions DuckDB lacks. */
export interface FixUpContext {
  readonly warehouse: string | null;
  readonly role: string | null;
  readonly account: string;
  readonly user: string;
}

export interface FixedSql {
  readonly sql: string;
  /** Names written as quoted identifiers: result columns with these names keep their case. */
  readonly quotedNames: ReadonlySet<string>;
}

/**
 * A thin Snowflake → DuckDB rewrite, enough for the statements gateway tests and demos send.
 * It is not a translator: anything it does not know goes to DuckDB as written.
 *
 * - Unquoted words are folded to upper case, as Snowflake stores unquoted identifiers; DuckDB
 *   matches identifiers case-insensitively, so only names created here change.
 * - Types: NUMBER → DECIMAL, VARIANT/OBJECT/ARRAY → JSON, TIMESTAMP_NTZ/DATETIME → TIMESTAMP,
 *   TIMESTAMP_LTZ/TIMESTAMP_TZ → TIMESTAMPTZ, BINARY/VARBINARY → BLOB, STRING → VARCHAR;
 *   fractional-second precisions (`TIMESTAMP_NTZ(9)`) are dropped.
 * - Functions: CURRENT_WAREHOUSE/ROLE/ACCOUNT/USER/REGION/VERSION() become constants,
 *   PARSE_JSON → JSON, TO_VARIANT → TO_JSON, IFF → IF, NVL → COALESCE, SYSDATE → NOW.
 * - Binds: Snowflake's `:1` becomes `$1` (`?` is the same in both).
 * - `[db.]INFORMATION_SCHEMA.TABLES|COLUMNS|VIEWS|SCHEMATA` reads only the current (or named)
 *   database, without DuckDB's own catalog schemas, as Snowflake's per-database views do.
 */
export function fixUpSql(sql: string, ctx: FixUpContext): FixedSql {
  const tokens = tokenize(sql);
  const out: string[] = [];
  const quotedNames = new Set<string>();
  const nextSig = (i: number): number => {
    let j = i + 1;
    while (j < tokens.length && (tokens[j]!.kind === 'space' || tokens[j]!.kind === 'comment')) j++;
    return j;
  };
  const isPunct = (j: number, text: string) => tokens[j]?.kind === 'punct' && tokens[j]!.text === text;
  /** Index past a `( digits )` precision right after `i`, or -1. */
  const precisionEnd = (i: number): number => {
    const open = nextSig(i);
    if (!isPunct(open, '(')) return -1;
    const num = nextSig(open);
    if (tokens[num]?.kind !== 'number') return -1;
    const close = nextSig(num);
    return isPunct(close, ')') ? close + 1 : -1;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'quoted') quotedNames.add(identifierName(t));
    if (t.kind === 'bind' && t.text.startsWith(':')) {
      out.push(`$${t.text.slice(1)}`);
      continue;
    }
    if (t.kind !== 'word') {
      out.push(t.text);
      continue;
    }
    const w = t.text.toUpperCase();
    const after = nextSig(i);
    const calls = isPunct(after, '(');
    const precededByDot = previousSignificant(tokens, i)?.text === '.';
    const asType = (replacement: string, dropPrecision: boolean) => {
      out.push(replacement);
      if (dropPrecision) {
        const end = precisionEnd(i);
        if (end > 0) i = end - 1;
      }
    };
    // Before the qualified-name check: `db.INFORMATION_SCHEMA.TABLES` is still the catalog view.
    if (w === 'INFORMATION_SCHEMA') {
      const dot = nextSig(i);
      const view = nextSig(dot);
      const name = tokens[view]?.kind === 'word' ? tokens[view]!.text.toUpperCase() : '';
      if (isPunct(dot, '.') && CATALOG_VIEWS.has(name)) {
        const db = takeDatabasePrefix(out);
        out.push(catalogView(name, db));
        i = view;
        continue;
      }
    }
    if (precededByDot) {
      out.push(w);
      continue;
    }
    switch (w) {
      case 'NUMBER':
        out.push(calls ? 'DECIMAL' : 'DECIMAL(38,0)');
        continue;
      case 'VARIANT':
      case 'OBJECT':
        out.push('JSON');
        continue;
      case 'ARRAY':
        out.push(calls || isPunct(after, '[') ? w : 'JSON');
        continue;
      case 'TIMESTAMP_NTZ':
      case 'DATETIME':
        asType('TIMESTAMP', true);
        continue;
      case 'TIMESTAMP_LTZ':
      case 'TIMESTAMP_TZ':
        asType('TIMESTAMPTZ', true);
        continue;
      case 'TIMESTAMP':
      case 'TIME':
        asType(w, true);
        continue;
      case 'BINARY':
      case 'VARBINARY':
        asType('BLOB', true);
        continue;
      case 'STRING':
        out.push('VARCHAR');
        continue;
      case 'PARSE_JSON':
        out.push(calls ? 'JSON' : w);
        continue;
      case 'TO_VARIANT':
        out.push(calls ? 'TO_JSON' : w);
        continue;
      case 'IFF':
        out.push(calls ? 'IF' : w);
        continue;
      case 'NVL':
        out.push(calls ? 'COALESCE' : w);
        continue;
      case 'SYSDATE':
        out.push(calls ? 'NOW' : w);
        continue;
    }
    const constant = calls && isPunct(nextSig(after), ')') ? sessionConstant(w, ctx) : undefined;
    if (constant !== undefined) {
      out.push(constant);
      i = nextSig(after);
      continue;
    }
    out.push(w);
  }
  return { sql: out.join(''), quotedNames };
}

const CATALOG_VIEWS = new Set(['TABLES', 'COLUMNS', 'VIEWS', 'SCHEMATA']);

function catalogView(view: string, database: string | null): string {
  const catalog = database === null ? 'CURRENT_DATABASE()' : `'${database.replace(/'/g, "''")}'`;
  const catalogColumn = view === 'SCHEMATA' ? 'CATALOG_NAME' : 'TABLE_CATALOG';
  const schemaColumn = view === 'SCHEMATA' ? 'SCHEMA_NAME' : 'TABLE_SCHEMA';
  return (
    `(SELECT * FROM INFORMATION_SCHEMA.${view} WHERE ${catalogColumn} = ${catalog} ` +
    `AND ${schemaColumn} NOT IN ('information_schema', 'pg_catalog', 'main'))`
  );
}

/** When the output ends in `db .`, removes it and returns the database name. */
function takeDatabasePrefix(out: string[]): string | null {
  let k = out.length - 1;
  while (k >= 0 && out[k]!.trim() === '') k--;
  if (out[k] !== '.') return null;
  let m = k - 1;
  while (m >= 0 && out[m]!.trim() === '') m--;
  const word = out[m];
  if (word === undefined || !/^("([^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)$/.test(word)) return null;
  out.length = m;
  return word.startsWith('"') ? word.slice(1, -1).replace(/""/g, '"') : word.toUpperCase();
}

function sessionConstant(fn: string, ctx: FixUpContext): string | undefined {
  const lit = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
  switch (fn) {
    case 'CURRENT_WAREHOUSE':
      return lit(ctx.warehouse);
    case 'CURRENT_ROLE':
      return lit(ctx.role);
    case 'CURRENT_ACCOUNT':
    case 'CURRENT_ACCOUNT_NAME':
      return lit(ctx.account);
    case 'CURRENT_USER':
      return lit(ctx.user);
    case 'CURRENT_REGION':
      return lit('EMULATOR');
    case 'CURRENT_VERSION':
      return lit('9.0.0-emulator');
    default:
      return undefined;
  }
}

function previousSignificant(tokens: readonly Token[], i: number): Token | undefined {
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j]!;
    if (t.kind !== 'space' && t.kind !== 'comment') return t;
  }
  return undefined;
}
