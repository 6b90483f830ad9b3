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

/** Where console actions are recorded besides the log: the audit recorder's action events. */
export type ActionRecorder = (a: { session: string; actor: { subject: string; groups: readonly string[] }; action: string; target: string | null; detail: Record<string, string | number | boolean | null> | null }) => void;

let recorder: ActionRecorder | undefined;

/** main.ts points this at the audit recorder; without one, actions only reach the log. */
export function recordConsoleActionsWith(r: ActionRecorder | undefined): void {
  recorder = r;
}

/** An action taken through the HTTP API (reading recordings), recorded like a console action. */
export function recordAction(a: Parameters<ActionRecorder>[0]): void {
  recorder?.(a);
}

/**
 * Console actions go to the gateway log and, as `action` events, to the audit log, with a
 * fixed shape. Never carries a token or cookie.
 */
export function logAction(log: Logger, subject: string, action: ConsoleAction, target?: Record<string, unknown>): void {
  log.info({ console: { action, subject, ...target } }, `console: ${action}`);
  if (!recorder) return;
  const detail: Record<string, string | number | boolean | null> = {};
  let about: string | null = null;
  for (const [k, v] of Object.entries(target ?? {})) {
    if (k === 'session' || k === 'request') about = String(v);
    detail[k] = v === null || typeof v === 'number' || typeof v === 'boolean' ? v : Array.isArray(v) ? v.join(',') : String(v);
  }
  recorder({ session: typeof target?.session === 'string' ? target.session : `console:${subject}`, actor: { subject, groups: [] }, action: `console.${action}`, target: about, detail });
}
