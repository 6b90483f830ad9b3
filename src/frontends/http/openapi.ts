/**
 * The OpenAPI 3.1 description of the HTTP API, written by hand so it says exactly what the
 * handlers do. Served at `/api/openapi.json`.
 */
export function openApiDocument(base: string, version: string, features: { approvals?: boolean; sessions?: boolean } = {}): Record<string, unknown> {
  const error = { $ref: '#/components/schemas/Error' };
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: error } } });
  const unauthorized = {
    description: 'No credential, or one that was not accepted (unknown, expired, revoked). `WWW-Authenticate: Bearer resource_metadata="…"` names the OAuth protected-resource metadata.',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
    content: { 'application/json': { schema: error } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Portcullis HTTP API',
      version,
      description:
        'Runs SQL through the Portcullis pipeline (identify → analyze → decide → approve → execute → mask → record) with the caller’s own identity. The same gateway serves MCP at /mcp.',
    },
    servers: [{ url: base }],
    security: [{ bearer: [] }],
    paths: {
      '/api/v1/query': {
        post: {
          operationId: 'query',
          summary: 'Run one SQL statement',
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/QueryRequest' } } } },
          responses: {
            '200': { description: 'The statement ran.', content: { 'application/json': { schema: { $ref: '#/components/schemas/QueryResult' } } } },
            '400': errorResponse('The body is not JSON or does not match QueryRequest (ERR_PROTOCOL_VIOLATION).'),
            '401': unauthorized,
            '202': {
              description: 'Held for review (approvals enabled, return mode): a reviewer must approve request `request_id`; then the identical request runs exactly once.',
              content: { 'application/json': { schema: { type: 'object', required: ['status', 'request_id'], properties: { status: { const: 'pending_approval' }, request_id: { type: 'string' }, message: { type: 'string' }, decision: { $ref: '#/components/schemas/Decision' } } } } },
            },
            '403': errorResponse('Refused: ERR_POLICY_DENIED, ERR_ANALYSIS_FAILED, ERR_RATE_LIMITED, ERR_AUDIT_UNAVAILABLE, or ERR_APPROVAL_REQUIRED (needs approval, and approvals are not configured); `decision` says which rule decided. ERR_AUTH_INSECURE_TRANSPORT when a credential arrives over plain HTTP from off-host.'),
            '404': errorResponse('No connection with that name (ERR_UNKNOWN_CONNECTION).'),
            '413': errorResponse('The body is larger than the limit (ERR_MESSAGE_TOO_LARGE).'),
            '422': errorResponse('The database reported an error for the admitted statement (ERR_STATEMENT_FAILED, with its SQLSTATE).'),
            '429': errorResponse('ERR_RATE_LIMITED or ERR_SESSION_LIMIT.'),
            '502': errorResponse('The database could not be reached (ERR_UPSTREAM_UNAVAILABLE, ERR_UPSTREAM_LOST).'),
            '503': errorResponse('The identity provider or the audit store is unavailable (ERR_IDP_UNAVAILABLE, ERR_AUDIT_UNAVAILABLE).'),
          },
        },
      },
      '/api/v1/connections': {
        get: {
          operationId: 'listConnections',
          summary: 'The connections this gateway serves',
          responses: {
            '200': {
              description: 'Names and types.',
              content: { 'application/json': { schema: { type: 'object', required: ['connections'], properties: { connections: { type: 'array', items: { $ref: '#/components/schemas/Connection' } } } } } },
            },
            '401': unauthorized,
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness of the gateway process',
          security: [],
          responses: { '200': { description: 'Up.', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' }, version: { type: 'string' } } } } } } },
        },
      },
      ...(features.approvals ? approvalPaths(errorResponse) : {}),
      ...(features.sessions ? sessionPaths(errorResponse) : {}),
      '/.well-known/oauth-protected-resource': {
        get: { operationId: 'resourceMetadata', summary: 'OAuth 2.0 Protected Resource Metadata (RFC 9728) for the gateway', security: [], responses: { '200': { description: 'The metadata document.' } } },
      },
      '/.well-known/oauth-protected-resource/mcp': {
        get: { operationId: 'mcpResourceMetadata', summary: 'OAuth 2.0 Protected Resource Metadata (RFC 9728) for /mcp', security: [], responses: { '200': { description: 'The metadata document.' } } },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An OIDC access token from a configured issuer, or a Portcullis service key (pcs_…).' },
      },
      schemas: {
        QueryRequest: {
          type: 'object',
          additionalProperties: false,
          required: ['connection', 'sql'],
          properties: {
            connection: { type: 'string', description: 'A connection name from GET /api/v1/connections.' },
            sql: { type: 'string', description: 'One SQL statement; $1, $2, … for parameters.' },
            params: { type: 'array', items: { type: ['string', 'number', 'boolean', 'null'] }, description: 'Parameter values, sent in PostgreSQL text form.' },
            max_rows: { type: 'integer', minimum: 0, maximum: 10000, default: 1000, description: 'Rows to return at most; policy may lower it.' },
          },
        },
        QueryResult: {
          type: 'object',
          required: ['columns', 'rows', 'row_count', 'command', 'truncated', 'decision', 'notices'],
          properties: {
            columns: { type: 'array', items: { type: 'object', required: ['name', 'type_oid'], properties: { name: { type: 'string' }, type_oid: { type: 'integer', description: 'PostgreSQL type OID.' } } } },
            rows: { type: 'array', items: { type: 'array', items: { type: ['string', 'null'] } }, description: 'Values in PostgreSQL text form, masked where policy masks them.' },
            row_count: { type: ['integer', 'null'], description: 'Rows returned, or affected by a write.' },
            command: { type: 'string', description: 'The command tag, e.g. "SELECT 3", "INSERT 0 1".' },
            truncated: { type: 'boolean', description: 'More rows existed than were returned.' },
            decision: { $ref: '#/components/schemas/Decision' },
            notices: { type: 'array', items: { type: 'string' } },
          },
        },
        Decision: {
          type: 'object',
          required: ['action', 'rule'],
          properties: {
            action: { enum: ['allow', 'deny', 'review'] },
            rule: { type: 'string', description: 'The policy rule that decided ("default" when none matched).' },
            code: { type: 'string' },
            reason: { type: 'string' },
            would_have: { type: 'object', description: 'audit-only mode: what enforcement would have done.' },
          },
        },
        Connection: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string' } } },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', description: 'A stable ERR_* code (docs/errors.md).' },
                message: { type: 'string' },
                sqlstate: { type: 'string' },
                hint: { type: 'string' },
              },
            },
            decision: { $ref: '#/components/schemas/Decision' },
          },
        },
      },
    },
  };
}

/** The approvals API, described only when approvals are configured (otherwise it is not mounted). */
function approvalPaths(errorResponse: (d: string) => unknown): Record<string, unknown> {
  return {
    '/api/approvals': {
        get: {
          operationId: 'listApprovals',
          summary: 'Approval requests you made or may decide (when approvals are configured)',
          parameters: [
            { name: 'status', in: 'query', schema: { enum: ['pending', 'approved', 'denied', 'expired', 'withdrawn', 'abandoned', 'used'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
          ],
          responses: { '200': { description: '`{ approvals: [...] }`, newest first, each with the reviewer summary (who, connection, SQL, facts, rule, estimate) and its votes.' }, '401': errorResponse('No or bad credential.') },
        },
      },
    '/api/approvals/{id}': {
        get: {
          operationId: 'getApproval',
          summary: 'One approval request',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: { '200': { description: 'The request.' }, '404': errorResponse('No such request visible to you.') },
        },
      },
    '/api/approvals/{id}/approve': {
        post: {
          operationId: 'approve',
          summary: 'Approve a pending request (approver groups only; never your own)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } } } } } },
          responses: { '200': { description: 'The updated request.' }, '403': errorResponse('Not an approver, or your own request.'), '409': errorResponse('No longer pending.') },
        },
      },
    '/api/approvals/{id}/deny': {
        post: {
          operationId: 'deny',
          summary: 'Deny a pending request with a comment the requester sees',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { comment: { type: 'string', maxLength: 2000 } } } } } },
          responses: { '200': { description: 'The updated request.' }, '403': errorResponse('Not an approver, or your own request.'), '409': errorResponse('No longer pending.') },
        },
      },
  };
}

/** The recordings API, described only when recording is on (otherwise it is not mounted). */
function sessionPaths(errorResponse: (d: string) => unknown): Record<string, unknown> {
  return {
    '/api/v1/sessions': {
      get: {
        operationId: 'listSessions',
        summary: 'Recorded sessions, newest first (audit readers only)',
        parameters: ['user', 'connection', 'since', 'until', 'decision', 'limit', 'cursor'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
        responses: { '200': { description: '`{ sessions: [...], next_cursor }`.' }, '401': errorResponse('No or bad credential.'), '403': errorResponse('Not in audit.readers, console.auditors or console.admins.') },
      },
    },
    '/api/v1/sessions/{id}': {
      get: {
        operationId: 'getSession',
        summary: 'One recorded session with a page of its statements and masked results',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }, ...['from', 'limit'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'integer' } }))],
        responses: { '200': { description: 'The session, its statements and `next_statement`.' }, '404': errorResponse('No such session.') },
      },
    },
  };
}
