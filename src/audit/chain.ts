import { createHash } from 'node:crypto';
import { fastCanonicalJson } from './canonical-json.js';
import type { AuditEvent } from './events.js';

/** prev_hash of the first event of a fresh store: 32 zero bytes, hex. */
export const GENESIS_HASH = '0'.repeat(64);

/** One row of the `events` table. The columns besides seq/hashes/body are indexes derived from body. */
export interface EventRow {
  readonly seq: number;
  readonly timeMs: number;
  readonly type: string;
  readonly session: string;
  readonly statement: number | null;
  readonly subject: string | null;
  readonly connection: string | null;
  readonly action: string | null;
  readonly prevHash: string;
  readonly hash: string;
  /** Canonical JSON of the event including its `seq`; the exact bytes the hash covers. */
  readonly body: string;
}

/** Where the chain ends: the next event gets `seq + 1` and `prev_hash = hash`. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * hash = SHA-256(prev_hash ‖ body), hex, where body is the canonical JSON of the event with its
 * `seq`. The seq is inside the hashed bytes so that swapping two rows' seq numbers is caught even
 * though each row's hash still matches its own body.
 */
export function eventHash(prevHash: string, body: string): string {
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

export function eventBody(seq: number, event: AuditEvent): string {
  // Insert seq where sorting puts it, so an event built in key order stays in key order.
  const withSeq: Record<string, unknown> = {};
  let placed = false;
  for (const k in event) {
    if (!placed && k > 'seq') {
      withSeq.seq = seq;
      placed = true;
    }
    withSeq[k] = (event as unknown as Record<string, unknown>)[k];
  }
  if (!placed) withSeq.seq = seq;
  return fastCanonicalJson(withSeq);
}

/** The index columns for an event: what list/filter queries use without parsing bodies. */
export function indexColumns(event: AuditEvent): Pick<EventRow, 'timeMs' | 'type' | 'session' | 'statement' | 'subject' | 'connection' | 'action'> {
  const timeMs = Date.parse(event.time);
  switch (event.type) {
    case 'session.start':
      return { timeMs, type: event.type, session: event.session, statement: null, subject: event.principal.subject, connection: event.connection, action: null };
    case 'statement':
      return { timeMs, type: event.type, session: event.session, statement: event.statement, subject: event.subject, connection: null, action: event.decision.action };
    case 'statement.result':
      return { timeMs, type: event.type, session: event.session, statement: event.statement, subject: null, connection: null, action: null };
    case 'session.end':
      return { timeMs, type: event.type, session: event.session, statement: null, subject: null, connection: null, action: null };
  }
}

/** Chains events after `head` without touching the store; the caller commits or discards. */
export function seal(head: ChainHead, events: readonly AuditEvent[]): EventRow[] {
  const rows: EventRow[] = new Array<EventRow>(events.length);
  let seq = head.seq;
  let prev = head.hash;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    seq++;
    const body = eventBody(seq, e);
    const hash = eventHash(prev, body);
    rows[i] = { seq, ...indexColumns(e), prevHash: prev, hash, body };
    prev = hash;
  }
  return rows;
}
