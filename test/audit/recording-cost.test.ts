import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/audit/recorder.js';
import { ResultCapture } from '../../src/audit/result-capture.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { allow, session } from './audit-fixtures.js';

/**
 * Not a benchmark gate (CI machines vary) but a tripwire with generous bounds, and the numbers
 * the issue asks for, printed as test diagnostics.
 */
const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-cost-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('cost per recorded statement with SQLite (durable statement + queued result)', async (t) => {
  const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${join(dir, 'cost.db')}` }), { gateway: 'gw' });
  try {
    const s = session();
    rec.onSessionStart(s);
    const v = allow();
    const one = async (i: number) => {
      const cap = await rec.statement(s, 'SELECT abalance FROM pgbench_accounts WHERE aid = $1', v, { params: [String(i)] });
      cap.columns(['abalance']);
      cap.row(['0']);
      cap.complete('SELECT 1');
    };
    for (let i = 0; i < 500; i++) await one(i);
    await rec.store.flush();
    const n = 5000;
    const t0 = performance.now();
    // Eight clients, as in the benchmark: their statements of one turn share a commit.
    await Promise.all(
      Array.from({ length: 8 }, async (_, c) => {
        for (let i = c; i < n; i += 8) await one(i);
      }),
    );
    await rec.store.flush();
    const us = ((performance.now() - t0) * 1000) / n;
    t.diagnostic(`sqlite: ${us.toFixed(1)} µs per statement (8 concurrent: statement durable + result committed)`);
    assert.ok(us < 2000, `${us} µs per statement`);
  } finally {
    await rec.close();
  }
});

test('rows past the caps cost almost nothing', (t) => {
  let emitted = 0;
  const cap = new ResultCapture(() => void emitted++, 's', 1, 0, { maxRows: 1000, maxBytes: 1 << 20 }, Date.now);
  cap.columns(['a', 'b', 'c']);
  const row = ['12345', 'some text value', null];
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) cap.row(row);
  const ns = ((performance.now() - t0) * 1e6) / n;
  cap.complete(`SELECT ${n}`);
  t.diagnostic(`capture: ${ns.toFixed(0)} ns per row averaged over ${n} rows (first 1000 copied)`);
  assert.equal(emitted, 1);
  assert.ok(ns < 2000, `${ns} ns per row`);
});
