/**
 * Snowflake drivers write bind variables as `?` (in order) or `:1`, `:2` (by position);
 * PostgreSQL reads `$1`, `$2`. For a PostgreSQL-dialect connection behind this frontend the
 * text is rewritten before anything sees it, so the analyzer, policy, the record and the
 * database all read the same statement.
 *
 * Only placeholders outside string literals, quoted identifiers, dollar quotes and comments are
 * touched; `::` casts are left alone. PostgreSQL's jsonb `?` operators cannot be told from a
 * placeholder, so the rewrite happens only when the client sent bindings.
 *
 * @example
 * pgPlaceholders("select ? , ':1', :2::int") // "select $1 , ':1', $2::int"
 */
export function pgPlaceholders(sql: string): string {
  let out = '';
  let next = 1;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = closeQuote(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = closeBlockComment(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && (i === 0 || !/[\w$]/.test(sql[i - 1]!))) {
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i, i + 64))?.[0];
      if (tag === undefined) {
        out += c;
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      const stop = close < 0 ? n : close + tag.length;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      out += `$${next++}`;
      i++;
    } else if (c === ':' && sql[i + 1] === ':') {
      out += '::';
      i += 2;
    } else if (c === ':' && /[1-9]/.test(sql[i + 1] ?? '') && (i === 0 || !/[\w:]/.test(sql[i - 1]!))) {
      const digits = /^\d+/.exec(sql.slice(i + 1))![0];
      out += `$${digits}`;
      i += 1 + digits.length;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Past a quoted run; a doubled quote is an escaped one (E'' strings also escape with \). */
function closeQuote(sql: string, start: number, q: string): number {
  const escapes = q === "'" && start > 0 && /[eE]/.test(sql[start - 1]!) && (start < 2 || !/\w/.test(sql[start - 2]!));
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (escapes && c === '\\') {
      i += 2;
      continue;
    }
    if (c === q) {
      if (sql[i + 1] === q) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** Block comments nest in PostgreSQL. */
function closeBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}
