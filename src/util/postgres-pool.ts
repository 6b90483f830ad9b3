export { redactUrl } from '../connectors/postgres/connection-url.js';
import pg from 'pg';
import type { Secret } from '../config/secret.js';

/**
 * A `pg` pool for the gateway's own PostgreSQL stores (audit log, approvals), never a client's
 * connection: the password joins the URL only here, at the point of use, and an idle
 * connection dying is not an error anyone awaits (the next query reconnects).
 */
export function openStorePool(o: { url: string; password?: Secret | undefined; max: number; applicationName: string }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: withPassword(o.url, o.password),
    max: o.max,
    connectionTimeoutMillis: 5000,
    query_timeout: 15000,
    application_name: o.applicationName,
  });
  pool.on('error', () => {});
  return pool;
}

/** A password given apart must go into the URL: pg prefers the URL's (absent) one to a `password` option. */
function withPassword(url: string, password: Secret | undefined): string {
  if (!password) return url;
  try {
    const u = new URL(url);
    u.password = encodeURIComponent(password.reveal());
    return u.toString();
  } catch {
    return url;
  }
}

