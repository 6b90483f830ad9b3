/**
 * Session parameters a client must not change through the gateway (`ALTER SESSION SET/UNSET`):
 * the gateway relies on them, or they change how names and limits are read after the statement
 * was decided.
 *
 * - QUERY_TAG attributes queries in Snowflake's own history; the gateway sets it.
 * - MULTI_STATEMENT_COUNT decides how many statements the server runs from one request.
 * - SEARCH_PATH and QUOTED_IDENTIFIERS_IGNORE_CASE change which object a name resolves to, so
 *   policy globs would be checked against a different object than the one read.
 * - The timeouts, AUTOCOMMIT and ROWS_PER_RESULTSET override what a rule's limits assume.
 * - SIMULATED_DATA_SHARING_CONSUMER changes what secure views return.
 * - LOG_LEVEL / TRACE_LEVEL, like PostgreSQL's log_* settings, hide or expose what runs.
 * https://docs.snowflake.com/en/sql-reference/parameters
 */
const TAMPERING: ReadonlySet<string> = new Set([
  'QUERY_TAG',
  'MULTI_STATEMENT_COUNT',
  'SEARCH_PATH',
  'QUOTED_IDENTIFIERS_IGNORE_CASE',
  'STATEMENT_TIMEOUT_IN_SECONDS',
  'STATEMENT_QUEUED_TIMEOUT_IN_SECONDS',
  'LOCK_TIMEOUT',
  'AUTOCOMMIT',
  'ROWS_PER_RESULTSET',
  'ABORT_DETACHED_QUERY',
  'SIMULATED_DATA_SHARING_CONSUMER',
  'TRANSACTION_DEFAULT_ISOLATION_LEVEL',
  'LOG_LEVEL',
  'TRACE_LEVEL',
]);

export function isTamperingParameter(name: string): boolean {
  return TAMPERING.has(name.toUpperCase());
}
