/**
 * Glob patterns over names: `*` any run of characters, `?` one character, everything else
 * literal. A pattern with no dot matches the last part of a qualified name too, so `customers`
 * matches `sales.customers`.
 */
export function compileGlob(pattern: string, caseInsensitive: boolean): RegExp {
  let body = '';
  for (const ch of pattern) {
    if (ch === '*') body += '.*';
    else if (ch === '?') body += '.';
    else body += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  const prefix = pattern.includes('.') ? '' : '(?:.*\\.)?';
  return new RegExp(`^${prefix}${body}$`, caseInsensitive ? 'i' : '');
}

export function anyMatches(patterns: readonly RegExp[], value: string): boolean {
  for (const p of patterns) if (p.test(value)) return true;
  return false;
}

/**
 * Whether a relation or function name, as the analyzer reported it, matches. An unqualified
 * name is what PostgreSQL resolves through search_path, which the gateway assumes is the
 * default (`pg_catalog`, then `public`; changing search_path is flagged session-tampering): a
 * bare name is tried as itself and qualified with each schema in `schemas`.
 */
export function nameMatches(patterns: readonly RegExp[], name: string, schemas: readonly string[]): boolean {
  if (anyMatches(patterns, name)) return true;
  if (name.includes('.')) return false;
  for (const s of schemas) if (anyMatches(patterns, `${s}.${name}`)) return true;
  return false;
}

/** Bare relation names: catalog tables are all `pg_…`; everything else defaults to public. */
export function relationSchemas(name: string): readonly string[] {
  return name.startsWith('pg_') ? PG_CATALOG : PUBLIC;
}

export const FUNCTION_SCHEMAS: readonly string[] = ['pg_catalog', 'public'];
const PG_CATALOG: readonly string[] = ['pg_catalog'];
const PUBLIC: readonly string[] = ['public'];
