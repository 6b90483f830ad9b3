import { PortcullisError } from '../../errors/portcullis-error.js';

/**
 * Session and statement parameters a Snowflake client may send. Only ones that change how a
 * driver formats what it receives pass; none reaches the upstream. Everything else is refused
 * by name, because each would let a caller change what runs or how it is recorded behind the
 * analyzer's back: QUERY_TAG is how the gateway labels statements in the database's own query
 * history (so a caller could forge attribution), MULTI_STATEMENT_COUNT changes how many
 * statements one text may run, STATEMENT_TIMEOUT_IN_SECONDS would override policy timeouts,
 * and so on.
 */
const OUTPUT_FORMAT = new Set([
  'DATE_OUTPUT_FORMAT',
  'TIME_OUTPUT_FORMAT',
  'TIMESTAMP_OUTPUT_FORMAT',
  'TIMESTAMP_NTZ_OUTPUT_FORMAT',
  'TIMESTAMP_LTZ_OUTPUT_FORMAT',
  'TIMESTAMP_TZ_OUTPUT_FORMAT',
  'BINARY_OUTPUT_FORMAT',
  'CLIENT_TIMESTAMP_TYPE_MAPPING',
  'CLIENT_RESULT_COLUMN_CASE_INSENSITIVE',
  'CLIENT_RESULT_CHUNK_SIZE',
  'CLIENT_MEMORY_LIMIT',
  'CLIENT_PREFETCH_THREADS',
  'JS_TREAT_INTEGER_AS_BIGINT',
  'JDBC_TREAT_DECIMAL_AS_INT',
  'JDBC_USE_SESSION_TIMEZONE',
  'JDBC_QUERY_RESULT_FORMAT',
  'PYTHON_CONNECTOR_QUERY_RESULT_FORMAT',
  'ODBC_QUERY_RESULT_FORMAT',
  'PYTHON_CONNECTOR_USE_NANOARROW',
]);

/** What a driver sets about its own connection at login (keep-alive, credential caching). */
const CLIENT_SESSION = new Set([
  'CLIENT_SESSION_KEEP_ALIVE',
  'CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY',
  'CLIENT_STORE_TEMPORARY_CREDENTIAL',
  'CLIENT_REQUEST_MFA_TOKEN',
  'GCS_USE_DOWNSCOPED_CREDENTIAL',
  'CLIENT_TELEMETRY_ENABLED',
]);

const WHY: Record<string, string> = {
  QUERY_TAG: 'the gateway sets QUERY_TAG itself so the database\'s query history joins its audit record',
  MULTI_STATEMENT_COUNT: 'how many statements one request may run is decided by policy, not the client',
  STATEMENT_TIMEOUT_IN_SECONDS: 'statement timeouts come from policy',
};

/**
 * Throws ERR_PARAMETER_REFUSED naming the first parameter that is not allowed. `where` is
 * `login` (session parameters, where driver connection settings are also fine) or `statement`.
 */
export function checkClientParameters(params: Readonly<Record<string, unknown>> | undefined, where: 'login' | 'statement'): void {
  if (params === undefined) return;
  for (const raw of Object.keys(params)) {
    const name = raw.toUpperCase();
    if (OUTPUT_FORMAT.has(name) || (where === 'login' && CLIENT_SESSION.has(name))) continue;
    const shown = JSON.stringify(raw.slice(0, 64));
    const why = WHY[name] ?? 'only output-format parameters are accepted through Portcullis';
    throw new PortcullisError('ERR_PARAMETER_REFUSED', `parameter ${shown} cannot be set through Portcullis: ${why}`);
  }
}
