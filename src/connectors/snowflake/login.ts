import type * as Snowflake from 'snowflake-sdk';
import type { SnowflakeConnectionConfig } from '../../config/schema.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { quietDriver, type SnowflakeSdk } from './sdk.js';
import { loginOptions } from './login-options.js';
import { connectFailure, type Scrub } from './upstream-errors.js';

/**
 * Runs once per new session. TIME values exist in snowflake-sdk only as strings formatted
 * with the session's TIME_OUTPUT_FORMAT (whose default drops the fraction); every other type
 * is read format-independently (driver-values.ts). The driver path runs one statement per
 * request, so a user or account default of AUTOCOMMIT = FALSE would only leave a pooled
 * session holding an open transaction.
 */
const SESSION_SETUP = "ALTER SESSION SET TIME_OUTPUT_FORMAT = 'HH24:MI:SS.FF9' AUTOCOMMIT = TRUE";

export interface LoginOptions {
  readonly connection: string;
  readonly connectTimeoutMs: number;
  readonly scrub: Scrub;
}

/**
 * Opens one authenticated Snowflake session with the gateway's credential, ready for
 * statements. Login and setup together are bounded by `connect_timeout`; a login that
 * completes after the deadline is logged out again.
 */
export async function openSession(sdk: SnowflakeSdk, config: SnowflakeConnectionConfig, o: LoginOptions): Promise<Snowflake.Connection> {
  let conn: Snowflake.Connection;
  try {
    conn = sdk.createConnection(loginOptions(config));
  } catch (e) {
    // The driver validates options synchronously (a malformed key, an invalid account name).
    throw connectFailure(e, o.connection, o.scrub);
  }
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${o.connection}": Snowflake login did not complete within ${o.connectTimeoutMs / 1000} s`));
    }, o.connectTimeoutMs);
  });
  const ready = (async () => {
    await new Promise<void>((resolve, reject) => {
      conn.connect((err) => (err ? reject(err) : resolve()));
    });
    quietDriver(sdk);
    await run(conn, SESSION_SETUP);
  })();
  try {
    await Promise.race([ready, deadline]);
    return conn;
  } catch (e) {
    if (late) ready.then(() => closeSession(conn), () => closeSession(conn));
    else closeSession(conn);
    throw connectFailure(e, o.connection, o.scrub);
  } finally {
    clearTimeout(timer);
    // The driver's first login may have reconfigured its logger (see sdk.ts).
    quietDriver(sdk);
  }
}

/** Logs the session out; a session that is already gone needs nothing more. */
export function closeSession(conn: Snowflake.Connection): void {
  try {
    if (conn.isUp()) conn.destroy(() => {});
  } catch {
    // destroy() throws when the driver already considers the connection closed.
  }
}

function run(conn: Snowflake.Connection, sqlText: string): Promise<void> {
  return new Promise((resolve, reject) => {
    conn.execute({ sqlText, complete: (err) => (err ? reject(err) : resolve()) });
  });
}
