import { ERRORS, type ErrorCode } from './catalog.js';

/**
 * An error a user can act on: a stable `code` from the catalog and a message written for the
 * person reading it. Messages never contain credentials: callers pass only names and reasons.
 */
export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message?: string, options?: { detail?: string; cause?: unknown }) {
    super(message ?? ERRORS[code].summary, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortcullisError';
    this.code = code;
    this.detail = options?.detail;
  }

  get sqlstate(): string {
    return ERRORS[this.code].sqlstate;
  }

  get httpStatus(): number {
    return ERRORS[this.code].http;
  }
}

export function isPortcullisError(e: unknown): e is PortcullisError {
  return e instanceof PortcullisError;
}
