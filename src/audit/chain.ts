import * as crypto from 'node:crypto';
import { fastCanonicalJson } from './canonical-json.js';
import { timeMsOf } from './event-time.js';
import type { AuditEvent, StatementEvent, StatementResultEvent } from './events.js';

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

/** One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object; `createHash` covers 20.10–20.11. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/**
 * hash = SHA-256(prev_hash ‖ body), hex, where body is the canonical JSON of the event with its
 * `seq`. The seq is inside the hashed bytes so that swapping two rows' seq numbers is caught even
 * though each row's hash still matches its own body.
 */
export function eventHash(prevHash: string, body: string): string {
  return oneShot ? oneShot('sha256', prevHash + body, 'hex') : crypto.createHash('sha256').update(prevHash).update(body).digest('hex');
}

/** Canonical JSON of analysis and decision records and column lists, which the recorder shares between executions. */
const sharedJson = new WeakMap<object, string>();

function cachedJson(record: object): string {
  let json = sharedJson.get(record);
  if (json === undefined) {
    json = fastCanonicalJson(record);
    sharedJson.set(record, json);
  }
  return json;
}

/**
 * Every key of T, each exactly once, or a compile error: the serializers below spell each
 * event's members out, and a member added to an event must not silently miss its hash.
 */
type ExactKeys<T, K extends readonly string[]> = [Exclude<keyof T, K[number]>, Exclude<K[number], keyof T>] extends [never, never] ? K : never;
const STATEMENT_KEYS = ['analysis', 'approval', 'decision', 'params', 'session', 'sql', 'statement', 'subject', 'time', 'type'] as const;
const RESULT_KEYS = ['bytes', 'columns', 'error', 'rowCount', 'rows', 'session', 'statement', 'tag', 'time', 'timings', 'truncated', 'type'] as const;
export const SERIALIZED_KEYS: {
  readonly statement: ExactKeys<StatementEvent, typeof STATEMENT_KEYS>;
  readonly result: ExactKeys<StatementResultEvent, typeof RESULT_KEYS>;
} = { statement: STATEMENT_KEYS, result: RESULT_KEYS };

/**
 * The canonical JSON of `event` with `seq` added: exactly `canonicalJson({ ...event, seq })`.
 * Statements and results — nearly every event — are written member by member in sorted order,
 * so the body is built once, with no copy of the event, and a statement's analysis and decision
 * (the same records for every execution of one text under one rule) are serialized once.
 * Records are never mutated after they are built, which is what makes caching by identity sound.
 */
export function eventBody(seq: number, event: AuditEvent): string {
  switch (event.type) {
    case 'statement':
      return (
        `{"analysis":${cachedJson(event.analysis)},"approval":${fastCanonicalJson(event.approval)},"decision":${cachedJson(event.decision)},"params":${JSON.stringify(event.params)}` +
        `,"seq":${seq},"session":${JSON.stringify(event.session)},"sql":${JSON.stringify(event.sql)},"statement":${JSON.stringify(event.statement)}` +
        `,"subject":${JSON.stringify(event.subject)},"time":${JSON.stringify(event.time)},"type":"statement"}`
      );
    case 'statement.result':
      // Rows are arrays of strings and nulls: JSON.stringify is already canonical for them.
      return (
        `{"bytes":${JSON.stringify(event.bytes)},"columns":${cachedJson(event.columns)},"error":${fastCanonicalJson(event.error)},"rowCount":${JSON.stringify(event.rowCount)}` +
        `,"rows":${JSON.stringify(event.rows)},"seq":${seq},"session":${JSON.stringify(event.session)},"statement":${JSON.stringify(event.statement)},"tag":${JSON.stringify(event.tag)}` +
        `,"time":${JSON.stringify(event.time)},"timings":${fastCanonicalJson(event.timings)},"truncated":${JSON.stringify(event.truncated)},"type":"statement.result"}`
      );
    default:
      return genericBody(seq, event);
  }
}

function genericBody(seq: number, event: AuditEvent): string {
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
  return eventRow(0, event, '', '', '');
}

/** The row for a sealed event: its index columns derived from the event, in one object. */
function eventRow(seq: number, event: AuditEvent, prevHash: string, hash: string, body: string): EventRow {
  const timeMs = timeMsOf(event.time);
  const { type, session } = event;
  switch (event.type) {
    case 'session.start':
      return { seq, timeMs, type, session, statement: null, subject: event.principal.subject, connection: event.connection, action: null, prevHash, hash, body };
    case 'statement':
      return { seq, timeMs, type, session, statement: event.statement, subject: event.subject, connection: null, action: event.decision.action, prevHash, hash, body };
    case 'statement.result':
      return { seq, timeMs, type, session, statement: event.statement, subject: null, connection: null, action: null, prevHash, hash, body };
    case 'session.end':
      return { seq, timeMs, type, session, statement: null, subject: null, connection: null, action: null, prevHash, hash, body };
    case 'action':
      return { seq, timeMs, type, session, statement: null, subject: event.actor.subject, connection: null, action: null, prevHash, hash, body };
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
    rows[i] = eventRow(seq, e, prev, hash, body);
    prev = hash;
  }
  return rows;
}
