import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GENESIS_HASH, seal } from '../../src/audit/chain.js';
import type { AuditEvent } from '../../src/audit/events.js';
import { decodeRecords, encodeRecords } from '../../src/audit/journal.js';

const TIME = '2025-03-01T12:00:00.000Z';

/** Events whose text needs escaping and spans multi-byte UTF-8: byte and character offsets differ. */
function events(): AuditEvent[] {
  return [
    { reason: 'é"\t\n\\', session: 's-😀', time: TIME, type: 'session.end' },
    { action: 'console.sign-in', actor: { groups: ['ü'], subject: 'ali"ce' }, detail: { note: '\u2028 😀 \u0000' }, session: 'console:x', target: null, time: TIME, type: 'action' },
    { reason: 'client-closed', session: 'plain', time: TIME, type: 'session.end' },
  ];
}

test('journal codec: records round-trip, and a torn tail is cut at the right byte despite multi-byte text', () => {
  const rows = seal({ seq: 0, hash: GENESIS_HASH }, events());
  const whole = Buffer.from(encodeRecords(rows, { seq: 3, hash: rows[2]!.hash, timeMs: 1, keyId: null, signature: null }), 'utf8');
  for (const verifyHashes of [true, false]) {
    const d = decodeRecords(whole, GENESIS_HASH, { verifyHashes });
    assert.equal(d.end, whole.length);
    assert.deepEqual(
      d.records.filter((r) => r.kind === 'event').map((r) => (r.kind === 'event' ? r.row : null)),
      rows,
    );
    assert.equal(d.records.at(-1)?.kind, 'checkpoint');
    assert.equal(d.lastHash, rows[2]!.hash);
  }
  // Cut inside the last event line: only the first two lines are whole.
  const firstTwo = Buffer.byteLength(encodeRecords(rows.slice(0, 2), null), 'utf8');
  const torn = whole.subarray(0, firstTwo + 20);
  for (const verifyHashes of [true, false]) {
    const d = decodeRecords(torn, GENESIS_HASH, { verifyHashes });
    assert.equal(d.records.length, 2);
    assert.equal(d.end, firstTwo);
  }
});

test('journal codec: an edited body stops a verifying decode; a chain link that does not match stops every decode', () => {
  const rows = seal({ seq: 0, hash: GENESIS_HASH }, events());
  const text = encodeRecords(rows, null);
  const edited = Buffer.from(text.replace('client-closed', 'client-closex'), 'utf8');
  const verified = decodeRecords(edited, GENESIS_HASH);
  assert.equal(verified.records.length, 2, 'recovery never ingests a record that does not hash right');
  // The writer's own ingest trusts the hashes it just wrote; `audit verify` catches an edit later.
  assert.equal(decodeRecords(edited, GENESIS_HASH, { verifyHashes: false }).records.length, 3);
  // Linking is always checked: a chunk that does not continue the chain is not ingested.
  assert.equal(decodeRecords(Buffer.from(text, 'utf8'), 'f'.repeat(64), { verifyHashes: false }).records.length, 0);
});
