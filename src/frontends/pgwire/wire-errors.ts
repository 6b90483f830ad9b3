import type { ErrorFields } from '../../codecs/pgwire/error-fields.js';
import { ERRORS, type ErrorCode } from '../../errors/catalog.js';
import { isPortcullisError } from '../../errors/portcullis-error.js';
import type { DenyDecision } from '../../pipeline/decision.js';

/**
 * The pgwire frontend's mapping of Portcullis errors to ErrorResponse fields.
 * The Portcullis code travels in the detail-free `hint`-less form PostgreSQL clients show:
 * SQLSTATE from the catalog, message for the person, and the stable code as a prefix.
 */
export function errorFields(code: ErrorCode, message: string, severity: 'ERROR' | 'FATAL' = 'ERROR', hint?: string): ErrorFields {
  return { severity, code: ERRORS[code].sqlstate, message: `${message} [${code}]`, hint };
}

export function fieldsFromError(e: unknown, severity: 'ERROR' | 'FATAL' = 'FATAL'): ErrorFields {
  if (isPortcullisError(e)) return errorFields(e.code, e.message, severity);
  return errorFields('ERR_INTERNAL', ERRORS.ERR_INTERNAL.summary, severity);
}

export function denialFields(d: DenyDecision): ErrorFields {
  // The engine's reasons already name the rule that decided; the prefix says who refused.
  const prefix = d.code === 'ERR_POLICY_DENIED' ? 'permission denied by Portcullis policy' : 'refused by Portcullis';
  return errorFields(d.code, `${prefix}: ${d.reason}`, 'ERROR');
}
