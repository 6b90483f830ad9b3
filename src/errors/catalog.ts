/**
 * The closed catalog of Portcullis error codes. Every error a user can see carries one of
 * these codes; `docs/errors.md` documents each one and a test keeps the two in step.
 *
 * `sqlstate` is what the PostgreSQL frontend reports; `http` what the HTTP/MCP frontends use.
 */
export const ERRORS = {
  ERR_CONFIG_INVALID: { sqlstate: 'XX000', http: 500, summary: 'The configuration file is invalid.' },
  ERR_CONFIG_SECRET_UNRESOLVED: { sqlstate: 'XX000', http: 500, summary: 'A ${env:…} or ${file:…} reference could not be resolved.' },
  ERR_AUTH_FAILED: { sqlstate: '28P01', http: 401, summary: 'The credential was not accepted.' },
  ERR_AUTH_REQUIRED: { sqlstate: '28000', http: 401, summary: 'No credential was presented.' },
  ERR_AUTH_INSECURE_TRANSPORT: { sqlstate: '28000', http: 403, summary: 'Passwords are only accepted over TLS (or on loopback when allow_insecure_loopback is set).' },
  ERR_IDP_UNAVAILABLE: { sqlstate: '28000', http: 503, summary: 'The identity provider could not be reached; authentication fails closed.' },
  ERR_TOKEN_EXPIRED: { sqlstate: '28000', http: 401, summary: 'The session token has expired.' },
  ERR_UNKNOWN_CONNECTION: { sqlstate: '3D000', http: 404, summary: 'No connection with that name is configured.' },
  ERR_PROTOCOL_VIOLATION: { sqlstate: '08P01', http: 400, summary: 'The client sent bytes that are not valid protocol.' },
  ERR_MESSAGE_TOO_LARGE: { sqlstate: '54000', http: 413, summary: 'A protocol message exceeded limits.max_message_bytes.' },
  ERR_UNSUPPORTED_PROTOCOL: { sqlstate: '0A000', http: 400, summary: 'That protocol version or feature is not supported.' },
  ERR_FUNCTION_CALL_REFUSED: { sqlstate: '0A000', http: 400, summary: 'The FunctionCall sub-protocol bypasses SQL analysis and is refused.' },
  ERR_TOO_MANY_CONNECTIONS: { sqlstate: '53300', http: 429, summary: 'The gateway connection limit was reached.' },
  ERR_SESSION_LIMIT: { sqlstate: '53300', http: 429, summary: 'This identity already has the maximum number of sessions.' },
  ERR_RATE_LIMITED: { sqlstate: '53400', http: 429, summary: 'This identity exceeded its statements-per-minute limit.' },
  ERR_UPSTREAM_UNAVAILABLE: { sqlstate: '08006', http: 502, summary: 'The upstream database could not be reached or refused the gateway.' },
  ERR_UPSTREAM_LOST: { sqlstate: '08006', http: 502, summary: 'The upstream database connection was lost mid-session.' },
  ERR_POLICY_DENIED: { sqlstate: '42501', http: 403, summary: 'Policy denied the statement.' },
  ERR_POLICY_MISSING: { sqlstate: 'XX000', http: 500, summary: 'No policy is configured; the gateway fails closed.' },
  ERR_APPROVAL_REQUIRED: { sqlstate: '42501', http: 403, summary: 'The statement requires approval.' },
  ERR_ANALYSIS_FAILED: { sqlstate: '42501', http: 403, summary: 'The statement could not be analyzed; unknown statements are denied.' },
  ERR_AUDIT_UNAVAILABLE: { sqlstate: '58000', http: 503, summary: 'The audit store is unavailable; statements are refused (audit.on_failure: refuse).' },
  ERR_APPROVALS_UNAVAILABLE: { sqlstate: '58000', http: 503, summary: 'The approvals store is unavailable; statements that need review are refused and requests cannot be decided.' },
  ERR_STATEMENT_FAILED: { sqlstate: 'XX000', http: 422, summary: 'The database reported an error for an admitted statement; its own SQLSTATE travels with it.' },
  ERR_NOT_FOUND: { sqlstate: '42704', http: 404, summary: 'No such resource or route.' },
  ERR_PARAMETER_REFUSED: { sqlstate: '42501', http: 403, summary: 'The client tried to set a session or statement parameter the gateway controls (QUERY_TAG, MULTI_STATEMENT_COUNT, …); only output-format parameters are accepted.' },
  ERR_SESSION_EXPIRED: { sqlstate: '08003', http: 401, summary: 'The Snowflake session token is unknown, expired or its session has ended; log in again.' },
  ERR_RESULT_UNAVAILABLE: { sqlstate: '55000', http: 410, summary: 'The query result is no longer kept (too large to keep once delivered, or past its retention); run the statement again.' },
  ERR_STATEMENT_EXISTS: { sqlstate: '42P05', http: 409, summary: 'A prepared statement of that name already exists on this connection; Close it before parsing the name again.' },
  ERR_PROTOCOL_SEQUENCE: { sqlstate: '08P01', http: 400, summary: 'The client sent a message the gateway cannot follow at that point of the extended protocol (a Query inside an unsynced batch, an Execute of a portal it never saw bound, a Parse of text with backslashes or non-ASCII characters after an Execute in the same batch, or in a read-only session a statement after COMMIT/ROLLBACK in the same Query or batch).' },
  ERR_SQL_READING_CHANGED: { sqlstate: '0A000', http: 400, summary: 'The session switched client_encoding to a multi-byte encoding other than UTF-8, or standard_conforming_strings off (the server would then read SQL differently from the analyzer), or asked a masked COPY for such an encoding: the session was ended.' },
  ERR_INTERNAL: { sqlstate: 'XX000', http: 500, summary: 'An internal error occurred; details are in the gateway log.' },
} as const satisfies Record<string, { sqlstate: string; http: number; summary: string }>;

export type ErrorCode = keyof typeof ERRORS;
