import type { RiskFlag } from '../facts.js';

/**
 * Snowflake functions whose call alone carries a risk, by upper-cased unqualified name. Every
 * `SYSTEM$…` function is flagged `system-function` (they administer the account, cancel
 * queries, send mail, manage replication…); the table adds what some of them do besides.
 * https://docs.snowflake.com/en/sql-reference/functions-system
 * https://docs.snowflake.com/en/sql-reference/functions/get_presigned_url
 */
const BY_NAME: Readonly<Record<string, readonly RiskFlag[]>> = {
  SYSTEM$SEND_EMAIL: ['egress'],
  SYSTEM$SEND_SNOWFLAKE_NOTIFICATION: ['egress'],
  SYSTEM$CANCEL_QUERY: ['side-effect-function'],
  SYSTEM$CANCEL_ALL_QUERIES: ['side-effect-function'],
  SYSTEM$ABORT_SESSION: ['side-effect-function'],
  SYSTEM$ABORT_TRANSACTION: ['side-effect-function'],
  SYSTEM$GLOBAL_ACCOUNT_SET_PARAMETER: ['privilege'],
  SYSTEM$AUTHORIZE_PRIVATELINK: ['privilege', 'egress'],
  SYSTEM$AUTHORIZE_STAGE_PRIVATELINK_ACCESS: ['privilege', 'egress'],
  SYSTEM$LINK_ACCOUNT_OBJECTS_BY_NAME: ['sharing'],
  GET_PRESIGNED_URL: ['file-transfer'],
  BUILD_SCOPED_FILE_URL: ['file-transfer'],
  BUILD_STAGE_FILE_URL: ['file-transfer'],
  // Runs the SQL text it is given, which the analyzer never sees.
  TO_QUERY: ['dynamic-code'],
  NEXTVAL: ['side-effect-function'],
};

/** Risk flags of calling `name` (the last part of a function name, as written). */
export function functionRisks(name: string): readonly RiskFlag[] {
  const upper = name.toUpperCase();
  const listed = BY_NAME[upper];
  if (upper.startsWith('SYSTEM$')) return listed === undefined ? ['system-function'] : ['system-function', ...listed];
  return listed ?? [];
}
