import type { ServerResponse } from 'node:http';
import { bindingsToParamRows, SnowflakeBindingError } from '../../codecs/snowflake/bindings.js';
import { okEnvelope, type QueryInProgressData, type QueryMonitoringData, type QueryRequest, type SnowflakeParameter } from '../../codecs/snowflake/messages.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { checkClientParameters } from './client-parameters.js';
import { pgPlaceholders } from './pg-placeholders.js';
import { RESPONSE_HEADERS, driverRowsetOut } from './rowset-writer.js';
import type { SnowflakeSession } from './sessions.js';
import { SnowflakeQuery, type QueryStatus } from './snowflake-query.js';
import { SF, driverFailureBody, failureOf, type SnowflakeFailure } from './wire-errors.js';

export interface QueryDeps {
  readonly parameters: readonly SnowflakeParameter[];
  /** How long a request waits for a statement before answering "in progress" (333334). */
  readonly syncWaitMs: number;
  readonly maxRows: number;
  readonly bufferBytes: number;
  readonly maskText: (s: string, sql?: string) => string;
}

/** A statement as the query-request and the SQL API both send it, before it runs. */
export interface StatementInput {
  readonly sqlText: string;
  readonly bindings?: QueryRequest['bindings'];
  readonly parameters?: Readonly<Record<string, unknown>> | undefined;
  readonly bindStage?: string | undefined;
  readonly describeOnly?: boolean | undefined;
}

/**
 * Checks a statement and starts it on the session's connection (or finds the one a retried
 * request already started: snowflake-sdk resends a query-request with the same `requestId`
 * after a network error, and running a write twice would be wrong).
 */
export function startStatement(deps: QueryDeps, s: Pick<SnowflakeSession, 'pipeline' | 'connector' | 'queries'>, input: StatementInput, clientRequestId: string | undefined): SnowflakeQuery {
  checkClientParameters(input.parameters, 'statement');
  if (input.bindStage !== undefined) throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', 'staged bind values (bindStage) are not supported through Portcullis; send the values inline in bindings');
  let rows: (string | null)[][];
  try {
    rows = bindingsToParamRows(input.bindings);
  } catch (e) {
    if (e instanceof SnowflakeBindingError) throw new PortcullisError('ERR_PROTOCOL_VIOLATION', `invalid bindings: ${e.message}`);
    throw e;
  }
  if (rows.length !== 1) throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', 'array binds (one statement for many rows) are not supported through Portcullis; send one row per statement or a multi-row VALUES list');
  const params = input.bindings === undefined ? undefined : rows[0]!;
  const sql = params !== undefined && s.connector.dialect === 'postgres' ? pgPlaceholders(input.sqlText) : input.sqlText;
  if (clientRequestId !== undefined) {
    const again = s.queries.byClientRequest(clientRequestId, sql);
    if (again) return again;
  }
  const q = new SnowflakeQuery({ session: s.pipeline, connector: s.connector, sql, params, maxRows: deps.maxRows, bufferBytes: deps.bufferBytes, maskText: deps.maskText, clientRequestId, describeOnly: input.describeOnly === true });
  try {
    s.queries.add(q);
  } catch (e) {
    void q.cancel('refused: too many statements in this session');
    throw e;
  }
  return q;
}

/** `POST /queries/v1/query-request`. */
export async function handleQueryRequest(deps: QueryDeps, s: SnowflakeSession, body: QueryRequest, clientRequestId: string | undefined, res: ServerResponse): Promise<void> {
  let q: SnowflakeQuery;
  try {
    q = startStatement(deps, s, body, clientRequestId);
  } catch (e) {
    sendEnvelope(res, driverFailureBody(failureOf(e)));
    return;
  }
  if (body.asyncExec === true) {
    sendEnvelope(res, inProgress(q, undefined));
    return;
  }
  await answer(deps, s, q, await q.settle(deps.syncWaitMs, true), res);
}

/** `GET /queries/{id}/result`: the result, or "still in progress" after waiting a while for it. */
export async function handleResultRequest(deps: QueryDeps, s: SnowflakeSession, id: string, res: ServerResponse): Promise<void> {
  const q = s.queries.get(id);
  if (!q) {
    sendEnvelope(res, driverFailureBody(noSuchQuery(id), id));
    return;
  }
  await answer(deps, s, q, await q.settle(deps.syncWaitMs, false), res);
}

/** `GET /monitoring/queries/{id}`: the status snowflake-sdk's `getQueryStatus` and `getResultsFromQueryId` poll. */
export function handleMonitoring(s: SnowflakeSession, id: string, res: ServerResponse): void {
  const q = s.queries.get(id);
  if (!q) {
    sendEnvelope(res, okEnvelope<QueryMonitoringData>({ queries: [] }));
    return;
  }
  const st = q.status;
  const failure = st.kind === 'failed' ? st.failure : undefined;
  const status = st.kind === 'running' ? 'RUNNING' : failure ? (failure.code === SF.CANCELLED ? 'ABORTED' : 'FAILED_WITH_ERROR') : 'SUCCESS';
  const data = {
    queries: [{ id: q.id, status, sqlText: q.sql, startTime: q.createdAt, endTime: q.doneAt ?? 0, ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}) }],
    ...(failure ? { sqlState: failure.sqlState } : {}),
  };
  sendEnvelope(res, okEnvelope(data));
}

/**
 * `POST /queries/{id}/abort-request`, or `/queries/v1/abort-request` with the client's
 * `requestId` in the body: the upstream statement is cancelled, a held one withdrawn.
 */
export async function handleAbort(s: SnowflakeSession, target: { queryId?: string; requestId?: string | undefined }, res: ServerResponse): Promise<void> {
  const q = target.queryId !== undefined ? s.queries.get(target.queryId) : target.requestId !== undefined ? s.queries.byRequestId(target.requestId) : undefined;
  if (!q) {
    sendEnvelope(res, driverFailureBody(noSuchQuery(target.queryId ?? 'for that request id')));
    return;
  }
  await q.cancel('the client aborted the statement');
  sendEnvelope(res, okEnvelope(null));
}

async function answer(deps: QueryDeps, s: SnowflakeSession, q: SnowflakeQuery, st: QueryStatus, res: ServerResponse): Promise<void> {
  switch (st.kind) {
    case 'running':
      sendEnvelope(res, inProgress(q, st.held));
      return;
    case 'failed':
      sendEnvelope(res, driverFailureBody(st.failure, q.id));
      return;
    case 'busy':
      sendEnvelope(res, driverFailureBody({ code: SF.NO_RESULT, sqlState: '55006', httpStatus: 409, message: `the result of query ${q.id} is being sent to another request` }, q.id));
      return;
    case 'gone':
      sendEnvelope(res, driverFailureBody(failureOf(new PortcullisError('ERR_RESULT_UNAVAILABLE', `the result of query ${q.id} was too large to keep once it was delivered; run the statement again`)), q.id));
      return;
    case 'ready':
      try {
        await q.deliver(driverRowsetOut(res, { queryId: q.id, names: s.names, parameters: deps.parameters }));
      } catch {
        res.destroy();
      }
      return;
  }
}

/**
 * 333334 with the URL to poll. While a reviewer decides, the message names the approval request
 * and where to find it, so a person watching the client knows what it waits for.
 */
function inProgress(q: SnowflakeQuery, held: string | undefined): Record<string, unknown> {
  const data: QueryInProgressData = { queryId: q.id, getResultUrl: `/queries/${q.id}/result`, queryAbortsAfterSecs: 300, progressDesc: held ?? null };
  const message = held === undefined ? 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.' : `Portcullis: ${held}`;
  return { ...okEnvelope(data, SF.QUERY_IN_PROGRESS, message) };
}

function noSuchQuery(id: string): SnowflakeFailure {
  return { code: SF.NO_RESULT, sqlState: '02000', httpStatus: 404, message: `no query ${id.slice(0, 64)} in this session (unknown, or its result is no longer kept)` };
}

export function sendEnvelope(res: ServerResponse, body: unknown, status = 200): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...RESPONSE_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
