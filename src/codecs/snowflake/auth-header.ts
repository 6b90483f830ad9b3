/**
 * The token in a driver request's `Authorization: Snowflake Token="…"` header (the session
 * token, or the master token on `/session/token-request`). Returns null for anything else, so
 * a server answers 390104 rather than guessing.
 *
 * @example
 * parseSnowflakeToken('Snowflake Token="ver:1-hint:2-ETMsDgAA"') // 'ver:1-hint:2-ETMsDgAA'
 */
export function parseSnowflakeToken(header: string | undefined | null): string | null {
  if (typeof header !== 'string' || header.length > 8192) return null;
  const m = /^\s*Snowflake\s+Token\s*=\s*"([^"]*)"\s*$/i.exec(header);
  const token = m?.[1];
  return token ? token : null;
}

/** The header value a client sends for `token`. */
export function snowflakeTokenHeader(token: string): string {
  if (token.includes('"')) throw new TypeError('a Snowflake token cannot contain a double quote');
  return `Snowflake Token="${token}"`;
}
