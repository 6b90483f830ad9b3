// Asserts that a promise is refused with a given code and that no credential leaks into any
// printable form of the error (message, String, JSON, util.inspect, stack, logReason).
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { pino } from 'pino';
import { PortcullisError } from '../../src/errors/portcullis-error.js';
import type { ErrorCode } from '../../src/errors/catalog.js';

/** The strings that must never be printed for a credential: the whole of it and, for a JWT, each
 * long segment (the payload and signature identify the token on their own). */
export function secretsOf(...credentials: string[]): string[] {
  const out = new Set<string>();
  for (const c of credentials) {
    out.add(c);
    for (const seg of c.split('.')) if (seg.length >= 16) out.add(seg);
  }
  return [...out];
}

/** What a gateway log line for this error looks like (pino's standard err serializer). */
function logLine(err: unknown): string {
  let line = '';
  const logger = pino({ level: 'info' }, { write: (s: string) => void (line += s) });
  logger.warn({ err }, 'authentication refused');
  return line;
}

export function assertNoLeak(err: unknown, secrets: readonly string[]): void {
  const e = err as Record<string, unknown>;
  const views = [logLine(err), String(err), JSON.stringify(err), inspect(err, { depth: 10, showHidden: true }), String(e['message']), String(e['stack']), String(e['logReason']), String(e['detail'])];
  for (const s of secrets) {
    for (const v of views) assert.ok(!v.includes(s), `a credential leaked into the error: ${v.slice(0, 200)}`);
  }
}

export async function refused(p: Promise<unknown>, code: ErrorCode, secrets: readonly string[] = []): Promise<PortcullisError & { logReason?: string }> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, 'expected the credential to be refused');
  assert.ok(caught instanceof PortcullisError, `expected a PortcullisError, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code} (${(caught as { logReason?: string }).logReason})`);
  assertNoLeak(caught, secrets);
  return caught as PortcullisError & { logReason?: string };
}
