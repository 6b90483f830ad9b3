import type { StatementContext } from '../connector.js';

/** Snowflake refuses a QUERY_TAG longer than this. */
const QUERY_TAG_MAX = 2000;
/** A subject is an identity's name or e-mail; anything longer is cut so the tag always fits. */
const SUBJECT_MAX = 512;

/**
 * The per-statement session parameters the connector sends with every statement (the
 * query-request's `parameters`, which override the session's values for that statement only).
 * Nothing here is stored in the session, so nothing leaks to the next statement.
 *
 * - `QUERY_TAG`: who ran the statement and where the gateway recorded it, so Snowflake's
 *   QUERY_HISTORY joins the audit log (`{"portcullis":{"subject",…}}`).
 * - `MULTI_STATEMENT_COUNT = 1`: one request is one statement, as admission analysed it;
 *   a client cannot raise it, since this per-statement value overrides any session value.
 * - `STATEMENT_TIMEOUT_IN_SECONDS`: the decision's timeout, rounded up to whole seconds.
 *
 * @example
 *   statementParameters('prod', { subject: 'alice', sessionId: 's1', requestId: 'r1', frontend: 'http' }, 5000)
 *   // { QUERY_TAG: '{"portcullis":{"subject":"alice","session":"s1","request":"r1","frontend":"http","connection":"prod"}}',
 *   //   MULTI_STATEMENT_COUNT: 1, STATEMENT_TIMEOUT_IN_SECONDS: 5 }
 */
export function statementParameters(connection: string, context: StatementContext | undefined, timeoutMs: number | undefined): Record<string, string | number> {
  const params: Record<string, string | number> = { QUERY_TAG: queryTag(connection, context), MULTI_STATEMENT_COUNT: 1 };
  if (timeoutMs !== undefined) params.STATEMENT_TIMEOUT_IN_SECONDS = Math.max(1, Math.ceil(timeoutMs / 1000));
  return params;
}

export function queryTag(connection: string, context: StatementContext | undefined): string {
  const tag = {
    portcullis: {
      ...(context !== undefined
        ? {
            subject: context.subject.slice(0, SUBJECT_MAX),
            session: context.sessionId,
            request: context.requestId,
            ...(context.frontend !== undefined ? { frontend: context.frontend } : {}),
          }
        : {}),
      connection,
    },
  };
  const text = JSON.stringify(tag);
  // Ids are short; only pathological ids could still overflow, and then the attribution that
  // fits is better than a refused statement.
  return text.length <= QUERY_TAG_MAX ? text : JSON.stringify({ portcullis: { request: context?.requestId.slice(0, 256), connection: connection.slice(0, 64) } });
}
