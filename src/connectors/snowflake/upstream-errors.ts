import { PortcullisError } from '../../errors/portcullis-error.js';
import { StatementError } from '../postgres/statement-error.js';
import { SnowflakeCode } from '../../codecs/snowflake/codes.js';

/**
 * Snowflake ran (or refused) an admitted statement. A StatementError, so every frontend shows
 * it as the statement's outcome; it also carries Snowflake's own six-digit error code, which
 * the Snowflake frontend hands to drivers as is.
 */
export class SnowflakeStatementError extends StatementError {
  readonly snowflakeCode: string | undefined;
  readonly queryId: string | undefined;

  constructor(sqlstate: string, message: string, snowflakeCode?: string, queryId?: string) {
    super(sqlstate, message);
    this.snowflakeCode = snowflakeCode;
    this.queryId = queryId;
  }
}

/** What a driver error looks like (snowflake-sdk's createError): every field optional. */
interface DriverError {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly sqlState?: unknown;
  readonly data?: { readonly queryId?: unknown } | null;
}

/**
 * Removes every credential the connector holds from text that came out of the driver, and
 * bounds its length. Driver errors are rebuilt from their message alone: their `response`,
 * `cause` and `data` fields can hold the login request, whose body carries the password, the
 * token or the signed JWT, so none of them is ever attached as a cause.
 */
export type Scrub = (text: string) => string;

export function scrubberFor(secrets: readonly string[]): Scrub {
  // A PEM key is also matched line by line: a message may quote a fragment of it.
  const needles = [...new Set(secrets.flatMap((s) => [s, ...s.split(/\r?\n/).map((l) => l.trim())]).filter((s) => s.length >= 8))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const n of needles) out = out.split(n).join('[redacted]');
    return out.length > 1000 ? `${out.slice(0, 1000)}…` : out;
  };
}

function messageOf(e: unknown, scrub: Scrub): string {
  const m = (e as DriverError | null)?.message;
  return scrub(typeof m === 'string' && m !== '' ? m : String(e)).replace(/\s*\n\s*/g, ' ').trim();
}

function codeOf(e: unknown): string | undefined {
  const c = (e as DriverError | null)?.code;
  return typeof c === 'string' || typeof c === 'number' ? String(c) : undefined;
}

/** Snowflake answered: a SQL error with its SQLSTATE (as opposed to a network or driver failure). */
export function isServerStatementError(e: unknown): boolean {
  const d = e as DriverError | null;
  return d?.name === 'OperationFailedError' && typeof d.sqlState === 'string' && /^[0-9A-Z]{5}$/.test(d.sqlState) && !isSessionGone(e);
}

/**
 * The session cannot run statements any more (logged out, expired beyond renewal, or the
 * driver already gave it up): the statement never reached Snowflake, so it can be retried on
 * a new session.
 */
export function isSessionGone(e: unknown): boolean {
  const code = codeOf(e);
  return (
    code === SnowflakeCode.SESSION_GONE ||
    code === SnowflakeCode.SESSION_TOKEN_INVALID ||
    code === SnowflakeCode.MASTER_TOKEN_EXPIRED ||
    // The driver's own "disconnected" errors: it already gave the session up (request, connect).
    code === '407002' ||
    code === '405503'
  );
}

/** A failed statement: Snowflake's SQLSTATE and message, or a lost upstream for anything else. */
export function statementFailure(e: unknown, connection: string, scrub: Scrub): Error {
  if (e instanceof StatementError || e instanceof PortcullisError) return e;
  const d = e as DriverError | null;
  if (isServerStatementError(e)) {
    const queryId = typeof d?.data?.queryId === 'string' ? d.data.queryId : undefined;
    return new SnowflakeStatementError(String(d!.sqlState), messageOf(e, scrub), codeOf(e), queryId);
  }
  return new PortcullisError('ERR_UPSTREAM_LOST', `connection "${connection}": ${messageOf(e, scrub)}`);
}

/** Login failed: names the connection and the reason, never the credential. */
export function connectFailure(e: unknown, connection: string, scrub: Scrub): PortcullisError {
  if (e instanceof PortcullisError) return e;
  return new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${connection}": Snowflake login failed: ${messageOf(e, scrub)}`);
}
