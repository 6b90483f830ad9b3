import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isStatementError } from '../../connectors/postgres/statement-error.js';
import { isPortcullisError } from '../../errors/portcullis-error.js';
import type { DenyDecision } from '../../pipeline/decision.js';
import type { ClientInfo, Principal } from '../../pipeline/principal.js';
import { decisionJson, explainStatement, runStatement, type DriverDeps } from '../http/run-statement.js';
import { describeTable, listTables, MAX_TABLES, type MaskedColumnsHook } from './catalog.js';
import type { McpConfig } from './mcp-config.js';
import { rowsWithinBytes } from './result-budget.js';

export interface ToolContext {
  readonly deps: DriverDeps;
  readonly principal: Principal;
  readonly client: ClientInfo;
  readonly config: McpConfig;
  readonly logger: Logger;
  readonly version: string;
  readonly maskedColumns?: MaskedColumnsHook | undefined;
}

const APPROVALS_OFF = 'approvals are not enabled on this gateway: statements that policy holds for review are refused with ERR_APPROVAL_REQUIRED instead of being queued, so there is no request to check';
const SETTLED = new Set(['approved', 'denied', 'expired', 'withdrawn', 'abandoned', 'used']);

const connection = z.string().min(1).max(63).describe('connection name, as listed by list_connections');
const params = z
  .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .max(1000)
  .optional()
  .describe('values for $1, $2, … (sent in PostgreSQL text form)');
const decision = z
  .object({ action: z.enum(['allow', 'deny', 'review']), rule: z.string(), code: z.string().optional(), reason: z.string().optional(), would_have: z.object({ action: z.string(), rule: z.string(), reason: z.string() }).optional() })
  .describe('what policy decided, and the rule that decided');

/**
 * One MCP server per authenticated caller: every tool runs as `ctx.principal` through the
 * pipeline. Tool failures are results with `isError` (the model reads the reason and can
 * correct itself); only protocol misuse is a JSON-RPC error.
 */
export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer(
    { name: 'portcullis', version: ctx.version },
    {
      instructions:
        'Portcullis runs SQL on the databases listed by list_connections, under the policy of your identity. Use list_tables and describe_table before writing a query; query returns at most ' +
        `${ctx.config.max_rows} rows and ${ctx.config.max_bytes} bytes, and says when it truncated. explain_policy tells whether a statement would be allowed without running it.`,
    },
  );
  const guard = <A>(tool: string, fn: (args: A, signal: AbortSignal) => Promise<CallToolResult>) => {
    return async (args: A, extra: { signal: AbortSignal }): Promise<CallToolResult> => {
      try {
        return await fn(args, extra.signal);
      } catch (e) {
        return failure(e, tool, ctx.logger);
      }
    };
  };

  server.registerTool(
    'list_connections',
    {
      title: 'List database connections',
      description: 'The databases this gateway serves, by name and type. Pass a name as `connection` to the other tools.',
      inputSchema: {},
      outputSchema: { connections: z.array(z.object({ name: z.string(), type: z.string() })) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guard<Record<string, never>>('list_connections', async () => ok({ connections: [...ctx.deps.connectors.values()].map((c) => ({ name: c.name, type: c.type })) })),
  );

  server.registerTool(
    'list_tables',
    {
      title: 'List tables',
      description: `Tables and views of a connection that your policy lets you read (schemas pg_* and information_schema are left out). At most ${MAX_TABLES} are listed.`,
      inputSchema: { connection, schema: z.string().min(1).max(63).optional().describe('only this schema') },
      outputSchema: { tables: z.array(z.object({ schema: z.string(), name: z.string(), kind: z.string() })), truncated: z.boolean() },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guard<{ connection: string; schema?: string | undefined }>('list_tables', async (a, signal) => ok(await listTables({ ...ctx, signal }, a.connection, a.schema))),
  );

  server.registerTool(
    'describe_table',
    {
      title: 'Describe a table',
      description: 'Columns of a table or view (name, type, nullable). `masked: true` marks a column whose values you will only see masked.',
      inputSchema: { connection, table: z.string().min(1).max(200).describe('table name, optionally schema-qualified: "orders" or "sales.orders"') },
      outputSchema: {
        schema: z.string(),
        name: z.string(),
        columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), masked: z.boolean() })),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guard<{ connection: string; table: string }>('describe_table', async (a, signal) => ok(await describeTable({ ...ctx, signal }, a.connection, a.table))),
  );

  server.registerTool(
    'query',
    {
      title: 'Run SQL',
      description:
        'Runs one SQL statement (PostgreSQL dialect) under your policy and returns columns, rows (values as text, masked where policy masks them), the row count, the decision and server notices. ' +
        `At most ${ctx.config.max_rows} rows and about ${ctx.config.max_bytes} bytes come back; \`truncated\` says when more existed — add WHERE/LIMIT or aggregate rather than paging through everything. ` +
        'A refused statement returns an error result with the reason; rephrase it or ask a person for access. ' +
        'A statement that needs a person\'s approval returns status "pending_approval" with a request_id: call wait_for_approval with it, which returns the rows once approved.',
      inputSchema: {
        connection,
        sql: z.string().min(1).max(200_000).describe('one SQL statement; use $1, $2, … for values'),
        params,
        max_rows: z.number().int().min(0).max(ctx.config.max_rows).optional().describe(`rows to return at most (default and maximum ${ctx.config.max_rows})`),
      },
      outputSchema: {
        status: z.enum(['ok', 'pending_approval']).optional(),
        request_id: z.string().optional(),
        message: z.string().optional(),
        columns: z.array(z.object({ name: z.string(), type_oid: z.number() })),
        rows: z.array(z.array(z.string().nullable())),
        row_count: z.number().nullable(),
        command: z.string(),
        truncated: z.boolean(),
        truncated_by: z.enum(['rows', 'bytes']).optional(),
        decision,
        notices: z.array(z.string()),
      },
      // Whether a statement writes is known only once it is analyzed; policy is the guard.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guard<{ connection: string; sql: string; params?: (string | number | boolean | null)[] | undefined; max_rows?: number | undefined }>('query', async (a, signal) => {
      const maxRows = a.max_rows ?? ctx.config.max_rows;
      const outcome = await runStatement(ctx.deps, ctx.principal, ctx.client, { connection: a.connection, sql: a.sql, params: textParams(a.params), maxRows, signal });
      if (outcome.kind === 'refused') {
        const d = outcome.decision;
        if (d.requestId !== undefined) {
          return ok({ status: 'pending_approval', request_id: d.requestId, message: d.reason, columns: [], rows: [], row_count: null, command: '', truncated: false, decision: decisionJson(d), notices: [] });
        }
        return refusal(d);
      }
      if (outcome.kind === 'failed') return failure(outcome.error, 'query', ctx.logger);
      return rowsResult(outcome, ctx);
    }),
  );

  server.registerTool(
    'explain_policy',
    {
      title: 'Explain the policy decision',
      description: 'Analyzes a statement and returns the facts (kind, tables read and written, functions, risk flags) and what policy would decide for you — without running it.',
      inputSchema: { connection, sql: z.string().min(1).max(200_000), params },
      outputSchema: {
        decision,
        facts: z.object({
          kind: z.string(),
          reads: z.array(z.string()),
          writes: z.array(z.string()),
          functions: z.array(z.string()),
          risks: z.array(z.string()),
          statements: z.array(z.object({ kind: z.string(), tag: z.string(), reads: z.array(z.string()), writes: z.array(z.string()), functions: z.array(z.string()), risks: z.array(z.string()), error: z.string().optional() })),
        }),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guard<{ connection: string; sql: string; params?: (string | number | boolean | null)[] | undefined }>('explain_policy', async (a) => {
      const v = await explainStatement(ctx.deps, ctx.principal, ctx.client, { connection: a.connection, sql: a.sql, params: textParams(a.params) });
      const an = v.analysis;
      return ok({
        decision: decisionJson(v.decision),
        facts: {
          kind: an.kind,
          reads: [...an.reads],
          writes: [...an.writes],
          functions: [...an.functions],
          risks: [...an.risks],
          statements: an.statements.map((s) => ({ kind: s.kind, tag: s.tag, reads: [...s.reads], writes: [...s.writes], functions: [...s.functions], risks: [...s.risks], ...(s.error ? { error: s.error } : {}) })),
        },
      });
    }),
  );

  server.registerTool(
    'approval_status',
    {
      title: 'Approval status',
      description: ctx.deps.approvals
        ? 'The state of an approval request (pending, approved, denied, expired, used), its votes and the reviewer comments.'
        : `The state of a statement held for review. Not available: ${APPROVALS_OFF}.`,
      inputSchema: { request_id: z.string().min(1).max(100) },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    guard<{ request_id: string }>('approval_status', async (a) => {
      const r = await visibleRequest(ctx, a.request_id);
      if (typeof r === 'string') return error(r);
      return ok(requestJson(r));
    }),
  );

  server.registerTool(
    'wait_for_approval',
    {
      title: 'Wait for approval',
      description: ctx.deps.approvals
        ? 'Waits (up to timeout_seconds, default 60) for a reviewer to decide an approval request you made. Once approved, runs the statement (exactly once) and returns its rows like `query`; denied or expired, says why.'
        : `Waits for a held statement to be approved and returns its rows. Not available: ${APPROVALS_OFF}.`,
      inputSchema: { request_id: z.string().min(1).max(100), timeout_seconds: z.number().int().min(1).max(300).optional() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    guard<{ request_id: string; timeout_seconds?: number | undefined }>('wait_for_approval', async (a, signal) => {
      const deadline = Date.now() + (a.timeout_seconds ?? 60) * 1000;
      let r = await visibleRequest(ctx, a.request_id);
      while (typeof r !== 'string' && r.status === 'pending' && Date.now() < deadline && !signal.aborted) {
        await new Promise((res) => setTimeout(res, 250));
        r = await visibleRequest(ctx, a.request_id);
      }
      if (typeof r === 'string') return error(r);
      if (r.status === 'pending') return ok(requestJson(r));
      if (r.status !== 'approved') return error(`request ${r.id} is ${r.status}${lastComment(r)}; the statement did not run [ERR_APPROVAL_REQUIRED]`);
      if (r.subject !== ctx.principal.subject) return error(`only the requester can run an approved statement [ERR_APPROVAL_REQUIRED]`);
      const s = r.summary;
      const outcome = await runStatement(ctx.deps, ctx.principal, ctx.client, { connection: s.connection, sql: s.sql, params: s.params ?? undefined, maxRows: ctx.config.max_rows, signal });
      if (outcome.kind === 'refused') return refusal(outcome.decision);
      if (outcome.kind === 'failed') return failure(outcome.error, 'wait_for_approval', ctx.logger);
      return rowsResult(outcome, ctx);
    }),
  );

  return server;
}

function textParams(p: readonly (string | number | boolean | null)[] | undefined): (string | null)[] | undefined {
  return p?.map((v) => (v === null ? null : typeof v === 'string' ? v : String(v)));
}

function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function error(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function refusal(d: DenyDecision): CallToolResult {
  const who = d.code === 'ERR_POLICY_DENIED' ? 'Denied by Portcullis policy' : 'Refused by Portcullis';
  return error(`${who} (rule "${d.rule}"): ${d.reason} [${d.code}]`);
}

/** Errors a model can act on keep their words; anything else is logged and reported as internal. */
function failure(e: unknown, tool: string, logger: Logger): CallToolResult {
  if (isStatementError(e)) return error(`The database reported an error (SQLSTATE ${e.sqlstate}): ${e.message}${e.hint ? `\nHint: ${e.hint}` : ''}`);
  if (isPortcullisError(e)) return error(`${e.message} [${e.code}]`);
  logger.error({ tool, err: e instanceof Error ? e.message : String(e) }, 'MCP tool failed');
  return error('internal error in the gateway; the details are in its log [ERR_INTERNAL]');
}

/** The query tool's success result, also returned by wait_for_approval. */
function rowsResult(outcome: Extract<Awaited<ReturnType<typeof runStatement>>, { kind: 'result' }>, ctx: ToolContext): CallToolResult {
  const r = outcome.result;
  const fit = rowsWithinBytes(r.rows, ctx.config.max_bytes);
  const byBytes = fit < r.rows.length;
  const rows = byBytes ? r.rows.slice(0, fit) : r.rows;
  const truncated = byBytes || r.truncated;
  return ok({
    status: 'ok',
    columns: r.columns.map((c) => ({ name: c.name, type_oid: c.typeOid })),
    rows,
    row_count: byBytes ? rows.length : r.rowCount,
    command: r.command,
    truncated,
    ...(truncated ? { truncated_by: byBytes ? 'bytes' : 'rows' } : {}),
    decision: decisionJson(outcome.decision),
    notices: r.notices,
  });
}

type Request = NonNullable<Awaited<ReturnType<NonNullable<DriverDeps['approvals']>['get']>>>;

/** The requester and the rule's approvers may see a request; anyone else learns nothing. */
async function visibleRequest(ctx: ToolContext, id: string): Promise<Request | string> {
  const backend = ctx.deps.approvals;
  if (!backend) return `${APPROVALS_OFF} [ERR_APPROVAL_REQUIRED]`;
  const r = await backend.get(id);
  const p = ctx.principal;
  if (!r || (r.subject !== p.subject && !r.approvers.some((g) => p.groups.includes(g)))) return `no approval request ${JSON.stringify(id.slice(0, 100))} visible to you [ERR_NOT_FOUND]`;
  return r;
}

function requestJson(r: Request): Record<string, unknown> {
  return {
    status: r.status === 'pending' ? 'pending_approval' : r.status,
    request_id: r.id,
    message: `request ${r.id} is ${r.status}: ${r.votes.length} of ${r.approvalsNeeded} approval(s)${lastComment(r)}`,
    columns: [],
    rows: [],
    row_count: null,
    command: '',
    truncated: false,
    notices: [],
  };
}

function lastComment(r: Request): string {
  const c = r.votes.at(-1)?.comment;
  return c ? ` (reviewer: ${c})` : '';
}
