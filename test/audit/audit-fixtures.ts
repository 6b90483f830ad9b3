import type { Analysis } from '../../src/analysis/facts.js';
import type { Verdict } from '../../src/pipeline/decision.js';
import type { AuditedSession } from '../../src/audit/recorder.js';
import { randomUUID } from 'node:crypto';

export const T0 = Date.parse('2025-03-01T12:00:00.000Z');

/** A settable clock: tests move time instead of sleeping. */
export function frozenClock(start = T0): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

export function readAnalysis(table = 'public.orders'): Analysis {
  return {
    statements: [{ kind: 'read', tag: 'SELECT', reads: [table], writes: [], functions: [], risks: [] }],
    kind: 'read',
    risks: [],
    reads: [table],
    writes: [],
    functions: [],
  };
}

export const allow = (rule = 'analysts-read'): Verdict => ({ decision: { action: 'allow', rule }, analysis: readAnalysis() });
export const deny = (rule = 'no-writes'): Verdict => ({
  decision: { action: 'deny', rule, code: 'ERR_POLICY_DENIED', reason: 'writes are not allowed' },
  analysis: { ...readAnalysis(), kind: 'write', writes: ['public.orders'], statements: [{ kind: 'write', tag: 'DELETE', reads: [], writes: ['public.orders'], functions: [], risks: ['destructive'] }] },
});

export function session(subject = 'alice', connection = 'warehouse', over: Partial<AuditedSession> = {}): AuditedSession {
  return {
    id: randomUUID(),
    principal: { subject, groups: ['analysts'], issuer: 'https://idp.example', authMethod: 'oidc', tokenId: 'jti-1' },
    client: { address: '127.0.0.1:5555', frontend: 'pgwire', userName: subject, applicationName: 'psql', tls: true },
    connection,
    ...over,
  };
}

/** `recorder.statement` is sync for SQLite and a promise for PostgreSQL; tests handle both alike. */
export async function settle<T>(v: T | Promise<T>): Promise<T> {
  return v;
}
