import { PortcullisError } from '../errors/portcullis-error.js';
import type { ErrorCode } from '../errors/catalog.js';

/**
 * A refused credential. `message` goes to the client and says nothing an attacker could use
 * (which keys exist, which check failed on a forged token); `logReason` is for the gateway log
 * so an operator can see why. Neither ever contains the credential: callers pass names, claim
 * names and issuer URLs only, and no library error is attached as `cause` (jose errors carry
 * the whole claims set).
 */
export class IdentityError extends PortcullisError {
  readonly logReason: string;

  constructor(code: ErrorCode, logReason: string, message?: string) {
    super(code, message);
    this.logReason = logReason;
  }
}

export const authFailed = (logReason: string, message?: string): IdentityError => new IdentityError('ERR_AUTH_FAILED', logReason, message);

export const idpUnavailable = (logReason: string): IdentityError => new IdentityError('ERR_IDP_UNAVAILABLE', logReason);

/** Untrusted text (an unverified `iss`, a claim name from a response) made safe for one log line. */
export function quote(untrusted: unknown, max = 120): string {
  const s = typeof untrusted === 'string' ? untrusted : String(untrusted);
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}
