import type { Logger } from 'pino';

export type ConsoleAction =
  | 'sign-in'
  | 'sign-in-refused'
  | 'sign-out'
  | 'approval.approve'
  | 'approval.deny'
  | 'session.view'
  | 'session.replay'
  | 'session.export'
  | 'session.end'
  | 'policy.explain';

/**
 * Console actions go to the gateway log with a fixed shape. The audit store's events are
 * session-scoped (start, statement, result, end) and offer no event for a person acting in the
 * console, so the log is their record until it does. Never carries a token or cookie.
 */
export function logAction(log: Logger, subject: string, action: ConsoleAction, target?: Record<string, unknown>): void {
  log.info({ console: { action, subject, ...target } }, `console: ${action}`);
}
