import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, fastCanonicalJson } from '../../src/audit/canonical-json.js';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { allow, deny, session, settle } from './audit-fixtures.js';

test('canonical JSON sorts keys at every depth and ignores construction order', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: null }], c: 'x' } }), '{"a":{"c":"x","d":[{"y":null,"z":1}]},"b":1}');
  assert.equal(fastCanonicalJson({ b: 1, a: 2 }), '{"a":2,"b":1}');
  assert.equal(fastCanonicalJson({ a: [1, { c: 1, b: 2 }] }), '{"a":[1,{"b":2,"c":1}]}');
  assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
});

test('every stored body is canonical JSON of its event (the fast path is the spec)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-canon-'));
  try {
    const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${join(dir, 'a.db')}` }), { gateway: 'gw' });
    const s = session();
    rec.onSessionStart(s);
    const a = await settle(rec.statement(s, 'SELECT 1', { decision: { action: 'allow', rule: 'r', maxRows: 5, mask: ['pii'], wouldHave: { action: 'deny', rule: 'x', reason: 'y' } }, analysis: allow().analysis }, { params: ['1', null] }));
    a.columns(['a'], ['binary']);
    a.row([new Uint8Array([1, 2])]);
    a.complete('SELECT 1');
    (await settle(rec.statement(s, 'DELETE FROM t', deny()))).error('42501', 'no');
    rec.onSessionEnd(s, 'client-closed');
    await rec.store.flush();
    const rows = await rec.store.scan(0, 100);
    assert.equal(rows.length, 6);
    for (const r of rows) assert.equal(r.body, canonicalJson(JSON.parse(r.body)), `event ${r.seq} (${r.type})`);
    await rec.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
