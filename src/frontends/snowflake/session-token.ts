import { createHash, randomBytes } from 'node:crypto';

/**
 * The opaque tokens the gateway hands a Snowflake client at login. They are the gateway's own
 * random values — never an upstream token, never derived from the caller's credential — and
 * only their SHA-256 is kept, so a heap dump or a log line with the session table in it gives
 * nobody a usable token.
 *
 * The `pcsf…` prefix tells a person reading a driver log that the token came from Portcullis.
 */
export function newSessionToken(kind: 'session' | 'master'): string {
  return `${kind === 'session' ? 'pcsfs' : 'pcsfm'}_${randomBytes(32).toString('base64url')}`;
}

/** The lookup key for a token: its SHA-256, base64url. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
