import type { ServerResponse } from 'node:http';
import { ERRORS, type ErrorCode } from '../../errors/catalog.js';
import { isPortcullisError } from '../../errors/portcullis-error.js';
import { isStatementError } from '../../connectors/postgres/statement-error.js';

/**
 * The HTTP frontend's error shape: `{ error: { code, message } }` with the catalog's status.
 *
 * `ERR_STATEMENT_FAILED` is the database's own error for an admitted statement (a syntax error,
 * a missing table): the body carries the server's SQLSTATE. It is not yet in the catalog.
 */
export type HttpErrorCode = ErrorCode;

export interface ErrorBody {
  readonly error: { readonly code: HttpErrorCode; readonly message: string; readonly sqlstate?: string; readonly hint?: string };
  readonly [extra: string]: unknown;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...SECURITY_HEADERS, ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, code: HttpErrorCode, message: string, opts: { status?: number; headers?: Record<string, string>; extra?: Record<string, unknown> } = {}): void {
  const status = opts.status ?? ERRORS[code].http;
  sendJson(res, status, { error: { code, message }, ...opts.extra } satisfies ErrorBody, opts.headers);
}

/**
 * Maps anything thrown while serving a request. Unknown errors become ERR_INTERNAL with the
 * catalog's words: their text may hold internals (paths, addresses) a caller should not see.
 */
export function errorBodyOf(e: unknown): { status: number; body: ErrorBody } {
  if (isStatementError(e)) {
    return { status: 422, body: { error: { code: 'ERR_STATEMENT_FAILED', message: e.message, sqlstate: e.sqlstate, ...(e.hint ? { hint: e.hint } : {}) } } };
  }
  if (isPortcullisError(e)) return { status: e.httpStatus, body: { error: { code: e.code, message: e.message } } };
  return { status: 500, body: { error: { code: 'ERR_INTERNAL', message: ERRORS.ERR_INTERNAL.summary } } };
}
