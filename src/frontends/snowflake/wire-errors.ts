import type { ErrorCode } from '../../errors/catalog.js';
import { ERRORS } from '../../errors/catalog.js';
import { isPortcullisError } from '../../errors/portcullis-error.js';
import { isStatementError } from '../../connectors/postgres/statement-error.js';
import type { DenyDecision } from '../../pipeline/decision.js';
import { SnowflakeCode } from '../../codecs/snowflake/codes.js';
import { errorEnvelope } from '../../codecs/snowflake/messages.js';

/**
 * The Snowflake codes this frontend answers with. Most are the codec's (codecs/snowflake/
 * codes.ts: the ones drivers branch on — 390112 renews the session token, 390104 drops the
 * session, 333334 polls `data.getResultUrl`); the rest are Snowflake's numbers for answers
 * only the gateway gives.
 */
export const SF = {
  LOGIN_FAILED: SnowflakeCode.LOGIN_INCORRECT,
  OAUTH_TOKEN_INVALID: SnowflakeCode.OAUTH_TOKEN_INVALID,
  SESSION_TOKEN_INVALID: SnowflakeCode.SESSION_TOKEN_INVALID,
  SESSION_TOKEN_EXPIRED: SnowflakeCode.SESSION_TOKEN_EXPIRED,
  MASTER_TOKEN_EXPIRED: SnowflakeCode.MASTER_TOKEN_EXPIRED,
  QUERY_IN_PROGRESS: SnowflakeCode.QUERY_IN_PROGRESS_ASYNC,
  CANCELLED: SnowflakeCode.STATEMENT_CANCELLED,
  SYNTAX_ERROR: SnowflakeCode.SQL_SYNTAX_ERROR,
  OBJECT_MISSING: SnowflakeCode.OBJECT_DOES_NOT_EXIST,
  INVALID_IDENTIFIER: SnowflakeCode.INVALID_IDENTIFIER,
  VALUE_ERROR: SnowflakeCode.VALUE_NOT_RECOGNIZED,
  CONSTRAINT_VIOLATION: SnowflakeCode.CONSTRAINT_VIOLATION,
  STATEMENT_FAILED: SnowflakeCode.EXECUTION_ERROR,
  BAD_REQUEST: SnowflakeCode.BAD_REQUEST,
  NO_RESULT: SnowflakeCode.QUERY_NOT_FOUND,
  /** The login named no usable connection ("database does not exist or not authorized"). */
  NO_SUCH_DATABASE: '390201',
  /** Insufficient privileges: the policy refused the statement. */
  INSUFFICIENT_PRIVILEGES: '003001',
  /** Unsupported feature (describeOnly, staged or array binds). */
  UNSUPPORTED: '000002',
  /** The SQL API's "statement executed successfully". */
  SQL_API_SUCCESS: '090001',
  /** The gateway failed for reasons of its own; the log says why. */
  INTERNAL: '000603',
} as const;

/** A failed request or statement as every Snowflake-speaking client understands it. */
export interface SnowflakeFailure {
  /** Snowflake's numeric code as a string (e.g. `003001`). */
  readonly code: string;
  readonly message: string;
  readonly sqlState: string;
  /** The HTTP status the SQL API uses; the driver protocol always answers 200. */
  readonly httpStatus: number;
}

/** The Portcullis codes a driver may see, with the Snowflake code each one travels under. */
const BY_CODE: Partial<Record<ErrorCode, string>> = {
  ERR_AUTH_FAILED: SF.LOGIN_FAILED,
  ERR_AUTH_REQUIRED: SF.LOGIN_FAILED,
  ERR_AUTH_INSECURE_TRANSPORT: SF.LOGIN_FAILED,
  ERR_IDP_UNAVAILABLE: SF.LOGIN_FAILED,
  ERR_TOKEN_EXPIRED: SF.SESSION_TOKEN_INVALID,
  ERR_UNKNOWN_CONNECTION: SF.NO_SUCH_DATABASE,
  ERR_PROTOCOL_VIOLATION: SF.BAD_REQUEST,
  ERR_MESSAGE_TOO_LARGE: SF.BAD_REQUEST,
  ERR_UNSUPPORTED_PROTOCOL: SF.UNSUPPORTED,
  ERR_SESSION_LIMIT: SF.LOGIN_FAILED,
  ERR_TOO_MANY_CONNECTIONS: SF.LOGIN_FAILED,
  ERR_POLICY_DENIED: SF.INSUFFICIENT_PRIVILEGES,
  ERR_APPROVAL_REQUIRED: SF.INSUFFICIENT_PRIVILEGES,
  ERR_ANALYSIS_FAILED: SF.INSUFFICIENT_PRIVILEGES,
  ERR_RATE_LIMITED: SF.INSUFFICIENT_PRIVILEGES,
  ERR_AUDIT_UNAVAILABLE: SF.INSUFFICIENT_PRIVILEGES,
  ERR_PARAMETER_REFUSED: SF.INSUFFICIENT_PRIVILEGES,
  ERR_SESSION_EXPIRED: SF.SESSION_TOKEN_INVALID,
  ERR_RESULT_UNAVAILABLE: SF.NO_RESULT,
  ERR_NOT_FOUND: SF.NO_RESULT,
};

/** SQLSTATEs a PostgreSQL upstream reports, by the Snowflake code a Snowflake client expects. */
function codeForSqlState(sqlstate: string): string {
  if (sqlstate === '57014') return SF.CANCELLED;
  if (sqlstate === '42601') return SF.SYNTAX_ERROR;
  if (sqlstate === '42P01' || sqlstate === '42883' || sqlstate === '3F000') return SF.OBJECT_MISSING;
  if (sqlstate === '42703') return SF.INVALID_IDENTIFIER;
  if (sqlstate === '42501') return SF.INSUFFICIENT_PRIVILEGES;
  if (sqlstate.startsWith('22')) return SF.VALUE_ERROR;
  if (sqlstate.startsWith('23')) return SF.CONSTRAINT_VIOLATION;
  return SF.STATEMENT_FAILED;
}

/** Control characters and runaway length never reach a client: a message is one readable line. */
export function sanitizeMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  const one = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ');
  return one.length > 2000 ? `${one.slice(0, 2000)}…` : one;
}

/** A policy refusal: 42501 with the rule and the reason written for the agent. */
export function deniedFailure(d: DenyDecision): SnowflakeFailure {
  const message = d.code === 'ERR_POLICY_DENIED' ? `Portcullis policy denied the statement: ${d.reason} [${d.code}]` : `${d.reason} (rule "${d.rule}") [${d.code}]`;
  return { code: SF.INSUFFICIENT_PRIVILEGES, message: sanitizeMessage(message), sqlState: '42501', httpStatus: 422 };
}

export function cancelledFailure(reason: string): SnowflakeFailure {
  return { code: SF.CANCELLED, message: `SQL execution canceled: ${reason}`, sqlState: '57014', httpStatus: 422 };
}

/**
 * Anything thrown while running a statement or serving a request, as a Snowflake failure.
 * The database's own errors keep their SQLSTATE and text (after `maskText`, since PostgreSQL
 * quotes values into some messages); the gateway's errors keep their catalog code in brackets;
 * anything else is an internal error whose text stays in the log.
 */
export function failureOf(e: unknown, maskText: (s: string) => string = (s) => s): SnowflakeFailure {
  if (isStatementError(e)) {
    const upstreamCode = (e as { snowflakeCode?: unknown }).snowflakeCode;
    const code = typeof upstreamCode === 'string' && /^\d{6}$/.test(upstreamCode) ? upstreamCode : codeForSqlState(e.sqlstate);
    return { code, message: sanitizeMessage(maskText(e.message)), sqlState: e.sqlstate, httpStatus: 422 };
  }
  if (isPortcullisError(e)) {
    return { code: BY_CODE[e.code] ?? SF.INTERNAL, message: sanitizeMessage(`${e.message} [${e.code}]`), sqlState: ERRORS[e.code].sqlstate, httpStatus: e.httpStatus };
  }
  return { code: SF.INTERNAL, message: `${ERRORS.ERR_INTERNAL.summary} [ERR_INTERNAL]`, sqlState: 'XX000', httpStatus: 500 };
}

/** The driver protocol's failure envelope (always HTTP 200, as Snowflake answers). */
export function driverFailureBody(f: SnowflakeFailure, queryId?: string): Record<string, unknown> {
  return { ...errorEnvelope(f.code, f.message, queryId === undefined ? { sqlState: f.sqlState } : { sqlState: f.sqlState, queryId }) };
}
