import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BindingSchema } from '../../codecs/snowflake/messages.js';
import type { Connector } from '../../connectors/connector.js';
import { PortcullisError, isPortcullisError } from '../../errors/portcullis-error.js';
import type { Pipeline, PipelineSession } from '../../pipeline/pipeline.js';
import { authenticateBearer, type Authenticated } from '../http/bearer-auth.js';
import { chooseConnection } from './choose-connection.js';
import { sendEnvelope, startStatement, type QueryDeps } from './query-api.js';
import { QueryRegistry, type QueryRegistryLimits } from './query-registry.js';
import { readBody } from './read-body.js';
import { sqlApiRowsetOut } from './rowset-writer.js';
import type { SnowflakeQuery } from './snowflake-query.js';
import { SF, failureOf, type SnowflakeFailure } from './wire-errors.js';

/** `POST /api/v2/statements` body (Snowflake SQL API reference). */
const StatementBodySchema = z
  .object({
    statement: z.string().min(1).max(1_000_000),
    bindings: z.record(z.string(), BindingSchema).optional(),
    database: z.string().max(255).optional(),
    schema: z.string().max(255).optional(),
    warehouse: z.string().max(255).optional(),
    role: z.string().max(255).optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    timeout: z.number().int().min(0).max(604_800).optional(),
  })
  .loose();

export interface SqlApiDeps extends QueryDeps {
  readonly pipeline: Pipeline;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly tls: boolean;
  readonly allowInsecureLoopback: boolean;
  readonly logger: Logger;
  readonly bodyLimit: number;
}

interface Statement {
  readonly owner: string;
  readonly session: PipelineSession;
  readonly requestId: string | undefined;
  timer?: NodeJS.Timeout | undefined;
}

/**
 * Snowflake's SQL API v2: one statement per request, authenticated by `Authorization: Bearer`
 * with the caller's OIDC token or service key (the `X-Snowflake-Authorization-Token-Type`
 * header is accepted and ignored: the gateway tells the two apart itself). Each statement gets
 * its own `PipelineSession`, closed once the statement is done. A statement handle is only
 * visible to the identity that submitted it; to anyone else it does not exist.
 */
export class SqlApi {
  readonly #deps: SqlApiDeps;
  readonly #statements = new Map<string, Statement>();
  readonly #registry: QueryRegistry;

  constructor(deps: SqlApiDeps, limits: QueryRegistryLimits) {
    this.#deps = deps;
    this.#registry = new QueryRegistry(limits, (q) => this.#forget(q.id));
  }

  /** `POST /api/v2/statements[?async=true&requestId=…]` */
  async submit(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const auth = await this.#authenticate(req, res);
    if (!auth) return;
    const body = await readBody(req, this.#deps.bodyLimit, StatementBodySchema);
    const d = this.#deps;
    const connector = chooseConnection(d.connectors, [body.database], 'database');
    const session = d.pipeline.openSession(auth.principal, auth.client, connector.name);
    let q: SnowflakeQuery;
    try {
      q = startStatement(d, { pipeline: session, connector, queries: this.#registry }, { sqlText: body.statement, bindings: body.bindings, parameters: body.parameters }, undefined);
    } catch (e) {
      session.close('refused');
      throw e;
    }
    const entry: Statement = { owner: ownerOf(auth), session, requestId: query.get('requestId')?.slice(0, 64) };
    this.#statements.set(q.id, entry);
    if (body.timeout !== undefined && body.timeout > 0) {
      // The client may ask for less time than policy allows, never more.
      entry.timer = setTimeout(() => void q.cancel(`it ran past the request's timeout of ${body.timeout} s`), body.timeout * 1000);
      entry.timer.unref();
    }
    if (query.get('async') === 'true') {
      this.#inProgress(res, q);
      return;
    }
    await this.#answer(res, q, await q.settle(d.syncWaitMs, true));
  }

  /** `GET /api/v2/statements/{handle}` */
  async status(req: IncomingMessage, res: ServerResponse, handle: string): Promise<void> {
    const q = await this.#own(req, res, handle);
    if (q) await this.#answer(res, q, await q.settle(this.#deps.syncWaitMs, false));
  }

  /** `POST /api/v2/statements/{handle}/cancel` */
  async cancel(req: IncomingMessage, res: ServerResponse, handle: string): Promise<void> {
    const q = await this.#own(req, res, handle);
    if (!q) return;
    await q.cancel('the client cancelled the statement');
    sendEnvelope(res, { code: SF.CANCELLED, sqlState: '57014', message: 'successfully canceled', statementHandle: q.id, statementStatusUrl: statusUrl(q.id) });
  }

  async close(): Promise<void> {
    await this.#registry.closeAll('the gateway is shutting down');
  }

  async #own(req: IncomingMessage, res: ServerResponse, handle: string): Promise<SnowflakeQuery | undefined> {
    const auth = await this.#authenticate(req, res);
    if (!auth) return undefined;
    const q = this.#registry.get(handle);
    if (!q || this.#statements.get(handle)?.owner !== ownerOf(auth)) {
      sendFailure(res, { code: SF.NO_RESULT, sqlState: '02000', httpStatus: 404, message: `no statement ${handle} for this caller (unknown, or no longer kept)` }, handle);
      return undefined;
    }
    return q;
  }

  async #answer(res: ServerResponse, q: SnowflakeQuery, st: Awaited<ReturnType<SnowflakeQuery['settle']>>): Promise<void> {
    const entry = this.#statements.get(q.id);
    switch (st.kind) {
      case 'running':
        this.#inProgress(res, q, st.held);
        return;
      case 'failed':
        sendFailure(res, st.failure, q.id);
        break;
      case 'busy':
        sendFailure(res, { code: SF.NO_RESULT, sqlState: '55006', httpStatus: 409, message: `the result of statement ${q.id} is being sent to another request` }, q.id);
        return;
      case 'gone':
        sendFailure(res, failureOf(new PortcullisError('ERR_RESULT_UNAVAILABLE', `the result of statement ${q.id} was too large to keep once it was delivered; run the statement again`)), q.id);
        return;
      case 'ready':
        try {
          await q.deliver(sqlApiRowsetOut(res, { statementHandle: q.id, statementStatusUrl: statusUrl(q.id), requestId: entry?.requestId, createdOn: q.createdAt }));
        } catch {
          res.destroy();
        }
        break;
    }
    // Done upstream: the pipeline session ends; a small kept result stays fetchable.
    if (q.doneAt !== undefined && entry) this.#endSession(entry, q.status.kind === 'failed' ? 'statement-failed' : 'request-complete');
  }

  #inProgress(res: ServerResponse, q: SnowflakeQuery, held?: string): void {
    const message = held === undefined ? 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.' : `Portcullis: ${held}`;
    sendEnvelope(res, { code: SF.QUERY_IN_PROGRESS, sqlState: '01000', message, statementHandle: q.id, statementStatusUrl: statusUrl(q.id) }, 202);
  }

  /** Sends the 401/403/503 itself and resolves undefined when the caller is not identified. */
  async #authenticate(req: IncomingMessage, res: ServerResponse): Promise<Authenticated | undefined> {
    const d = this.#deps;
    try {
      return await authenticateBearer(req, 'snowflake', { pipeline: d.pipeline, tls: d.tls, allowInsecureLoopback: d.allowInsecureLoopback, logger: d.logger });
    } catch (e) {
      const err = isPortcullisError(e) ? e : new PortcullisError('ERR_AUTH_FAILED');
      const code = err.code === 'ERR_AUTH_FAILED' || err.code === 'ERR_AUTH_REQUIRED' ? SF.OAUTH_TOKEN_INVALID : failureOf(err).code;
      sendFailure(res, { code, sqlState: '08004', httpStatus: err.httpStatus, message: `${err.message} [${err.code}]` }, undefined);
      return undefined;
    }
  }

  #endSession(entry: Statement, reason: string): void {
    clearTimeout(entry.timer);
    entry.session.close(reason);
  }

  #forget(id: string): void {
    const entry = this.#statements.get(id);
    this.#statements.delete(id);
    if (entry) this.#endSession(entry, 'expired');
  }
}

/** A handle belongs to the identity (issuer and subject) that submitted it. */
function ownerOf(a: Authenticated): string {
  return `${a.principal.issuer}\u0000${a.principal.subject}`;
}

function statusUrl(id: string): string {
  return `/api/v2/statements/${id}`;
}

/** The SQL API's QueryFailureStatus: HTTP 422 for statements, the gateway's status for requests. */
export function sendFailure(res: ServerResponse, f: SnowflakeFailure, handle: string | undefined): void {
  sendEnvelope(res, { code: f.code, message: f.message, sqlState: f.sqlState, ...(handle ? { statementHandle: handle, statementStatusUrl: statusUrl(handle) } : {}) }, f.httpStatus);
}

