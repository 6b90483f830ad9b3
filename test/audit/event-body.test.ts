import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { eventBody, eventHash, indexColumns, seal, GENESIS_HASH } from '../../src/audit/chain.js';
import { isoTime, timeMsOf } from '../../src/audit/event-time.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import type { AuditStore } from '../../src/audit/store.js';
import { allow, deny, frozenClock, session } from './audit-fixtures.js';

/** Events exactly as the recorder builds them, caught before any store sees them. */
async function recorded(): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  const store = {
    kind: 'sqlite',
    location: 'memory',
    append: (e: AuditEvent) => void events.push(e),
    appendDurable: (e: AuditEvent) => void events.push(e),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  } as unknown as AuditStore;
  const clock = frozenClock();
  const rec = new Recorder(parseAuditConfig({}), { store, now: clock.now, gateway: 'gw' });
  // Hostile text: quotes, backslashes, a fake "session" key, control and non-BMP characters.
  const s = session('ali"ce\\', 'main', { id: '"session":"x' });
  rec.onSessionStart(s);
  const a = await rec.statement(s, 'SELECT \'","seq":1,"session":"\' \u0000 \u2028 😀', allow(), { params: ['"session":', null, '\\'] });
  a.columns(['a"b', 'bin'], ['text', 'binary']);
  a.row(['"session":"y"', new Uint8Array([0, 255])]);
  clock.advance(1.5);
  a.complete('SELECT 1');
  const b = await rec.statement(s, 'DELETE FROM t', deny());
  b.error('42501', 'permission "denied"');
  rec.onSessionEnd(s, 'client-closed');
  return events;
}

test('every event body is the canonical JSON of the event with its seq', async () => {
  const events = await recorded();
  assert.deepEqual(
    events.map((e) => e.type),
    ['session.start', 'statement', 'statement.result', 'statement', 'statement.result', 'session.end'],
  );
  for (const [i, e] of events.entries()) {
    const body = eventBody(i + 7, e);
    assert.equal(body, canonicalJson({ ...e, seq: i + 7 }), e.type);
    // Twice: the second statement body comes from the cached analysis JSON.
    assert.equal(eventBody(i + 7, e), body);
  }
});

test('sealed rows carry the index columns verify recomputes', async () => {
  const events = await recorded();
  const rows = seal({ seq: 0, hash: GENESIS_HASH }, events);
  let prev = GENESIS_HASH;
  for (const [i, r] of rows.entries()) {
    assert.equal(r.prevHash, prev);
    assert.equal(r.hash, eventHash(prev, r.body));
    const ix = indexColumns(JSON.parse(r.body) as AuditEvent);
    for (const k of ['timeMs', 'type', 'session', 'statement', 'subject', 'connection', 'action'] as const) assert.equal(r[k], ix[k], `${events[i]!.type}.${k}`);
    prev = r.hash;
  }
});

test('event times format and parse like Date, whatever the memo holds', () => {
  for (const ms of [0, 1.9, 1_700_000_000_123, 1_700_000_000_123, -1]) assert.equal(isoTime(ms), new Date(Math.trunc(ms)).toISOString());
  isoTime(1_700_000_000_000);
  // A spelling Date.parse accepts but toISOString never writes must not leak back out.
  assert.equal(timeMsOf('2023-11-14T22:13:20Z'), 1_700_000_000_000);
  assert.equal(isoTime(1_700_000_000_000), '2023-11-14T22:13:20.000Z');
  assert.ok(Number.isNaN(timeMsOf('not a date')));
  assert.equal(timeMsOf(isoTime(5)), 5);
});
