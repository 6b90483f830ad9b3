/**
 * Response codes of Snowflake's driver REST API that clients act on. The session codes are the
 * ones snowflake-sdk (lib/constants/gs_errors.js) and the other drivers branch on: 390112 makes a
 * driver renew its session token with the master token, 390104/390111 make it give up the
 * session. The query codes are Snowflake's own SQL error numbers, which drivers surface as
 * `err.code` next to the SQLSTATE.
 */
export const SnowflakeCode = {
  /** The statement has not finished; poll `data.getResultUrl`. */
  QUERY_IN_PROGRESS: '333333',
  /** The statement runs detached (asyncExec, or too long for one request); poll `data.getResultUrl`. */
  QUERY_IN_PROGRESS_ASYNC: '333334',
  /** Login refused: unknown user or wrong password (same code for both, deliberately). */
  LOGIN_INCORRECT: '390100',
  /** Login refused: the key-pair JWT did not verify. */
  JWT_INVALID: '390144',
  /** Login refused: the OAuth access token is not valid. */
  OAUTH_TOKEN_INVALID: '390303',
  /** The session token is not one the server issued (or it was revoked). */
  SESSION_TOKEN_INVALID: '390104',
  /** The session is gone (logged out or expired beyond renewal). */
  SESSION_GONE: '390111',
  /** The session token expired; renew it with the master token. */
  SESSION_TOKEN_EXPIRED: '390112',
  /** The master token expired; log in again. */
  MASTER_TOKEN_EXPIRED: '390114',
  /** The request body is not what the endpoint expects. */
  BAD_REQUEST: '390400',
  /** SQL compilation error: syntax. */
  SQL_SYNTAX_ERROR: '001003',
  /** SQL compilation error: the object does not exist or is not authorized. */
  OBJECT_DOES_NOT_EXIST: '002003',
  /** SQL compilation error: invalid identifier. */
  INVALID_IDENTIFIER: '000904',
  /** SQL compilation error in general (binder, types). */
  SQL_COMPILATION_ERROR: '002043',
  /** A value could not be converted (numeric, date, …). */
  VALUE_NOT_RECOGNIZED: '100038',
  /** A constraint was violated (NOT NULL, unique, …). */
  CONSTRAINT_VIOLATION: '100072',
  /** The statement was cancelled (abort-request). */
  STATEMENT_CANCELLED: '000604',
  /** The statement ran past STATEMENT_TIMEOUT_IN_SECONDS. */
  STATEMENT_TIMEOUT: '000630',
  /** The query id is not known to the server. */
  QUERY_NOT_FOUND: '000709',
  /** Anything else that failed during execution. */
  EXECUTION_ERROR: '100000',
} as const;

export type SnowflakeCode = (typeof SnowflakeCode)[keyof typeof SnowflakeCode];

/**
 * Snowflake's `statementTypeId` values that drivers interpret (snowflake-sdk
 * lib/connection/result/statement_type.js): DML ids make a driver sum the single result row
 * into "rows updated"; ids ≥ 0x6000 are DDL.
 */
export const StatementTypeId = {
  SELECT: 0x1000,
  /** Session control: ALTER SESSION, USE. */
  SCL: 0x4000,
  INSERT: 0x3100,
  UPDATE: 0x3200,
  DELETE: 0x3300,
  MERGE: 0x3400,
  DDL: 0x6000,
} as const;
