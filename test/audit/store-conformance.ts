/**
 * One suite, every store (STYLE.md §6): sqlite-store.test.ts and postgres-store.test.ts run
 * these cases against a real SQLite file and a real PostgreSQL server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Secret } from '../../src/config/secret.js';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig, type AuditConfig, type AuditConfigInput } from '../../src/audit/schema.js';
import { openStore } from '../../src/audit/open-store.js';
import { verifyStore } from '../../src/audit/verify.js';
import { allow, deny, frozenClock, session, settle, T0 } from './audit-fixtures.js';

export interface StoreTarget {
  /** A fresh, empty store each call: the `audit:` config pointing at it. */
  fresh(): Promise<AuditConfigInput>;
  /** The store takes one writing process at a time (SQLite): gateways that share it take turns. */
  readonly singleWriter?: boolean;
}

const DAY = 86_400_000;

function cfg(base: AuditConfigInput, extra: Partial<AuditConfigInput> = {}): AuditConfig {
  return parseAuditConfig({ ...base, ...extra });
}

export function storeConformance(name: string, target: StoreTarget): void {
  test(`${name}: a session is recorded and read back with statements, decisions and results`, async () => {
    const clock = frozenClock();
    const rec = await Recorder.open(cfg(await target.fresh()), { now: clock.now, gateway: 'gw-1' });
    try {
      const s = session('alice');
      rec.onSessionStart(s);
      clock.advance(10);
      const cap = await settle(rec.statement(s, 'SELECT id, email FROM orders WHERE id = $1', allow(), { params: ['42'] }));
      cap.columns(['id', 'email']);
      cap.row(['42', '***@example.com']);
      cap.row(['43', null]);
      cap.complete('SELECT 2');
      clock.advance(5);
      const denied = await settle(rec.statement(s, 'DELETE FROM orders', deny()));
      denied.error('42501', 'writes are not allowed');
      rec.onSessionEnd(s, 'client-closed');
      await rec.store.flush();

      const detail = await rec.query.getSession(s.id);
      assert.ok(detail);
      assert.equal(detail.summary.subject, 'alice');
      assert.equal(detail.summary.statements, 2);
      assert.equal(detail.summary.refused, 1);
      assert.equal(detail.summary.endReason, 'client-closed');
      assert.equal(detail.start.client.applicationName, 'psql');
      assert.equal(detail.start.principal.tokenId, 'jti-1');
      const [first, second] = detail.statements;
      assert.equal(first?.statement.statement, 1);
      assert.deepEqual(first?.statement.params, ['42']);
      assert.equal(first?.statement.decision.rule, 'analysts-read');
      assert.deepEqual(first?.statement.analysis.reads, ['public.orders']);
      assert.deepEqual(first?.result?.rows, [
        ['42', '***@example.com'],
        ['43', null],
      ]);
      assert.equal(first?.result?.rowCount, 2);
      assert.equal(first?.result?.tag, 'SELECT 2');
      assert.equal(first?.result?.truncated, false);
      assert.equal(first?.result?.error, null);
      assert.equal(second?.statement.decision.action, 'deny');
      assert.equal(second?.statement.decision.code, 'ERR_POLICY_DENIED');
      assert.deepEqual(second?.result?.error, { sqlstate: '42501', message: 'writes are not allowed' });
      // A failure changes the values, not the shape.
      assert.deepEqual(Object.keys(first!.result!).sort(), Object.keys(second!.result!).sort());
      assert.deepEqual(Object.keys(first!.statement).sort(), Object.keys(second!.statement).sort());

      const report = await verifyStore(rec.store);
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.events, 6);
    } finally {
      await rec.close();
    }
  });

  test(`${name}: results are capped by rows and bytes, with truncation noted`, async () => {
    const rec = await Recorder.open(cfg(await target.fresh(), { results: { max_rows: 3, max_bytes: 1000 } }), { gateway: 'gw-1' });
    try {
      const s = session();
      rec.onSessionStart(s);
      const a = await settle(rec.statement(s, 'SELECT n FROM generate_series(1, 10) n', allow()));
      a.columns(['n']);
      for (let i = 1; i <= 10; i++) a.row([String(i)]);
      a.complete('SELECT 10');
      const b = await settle(rec.statement(s, 'SELECT repeat(x, 400)', allow()));
      b.columns(['blob'], ['binary']);
      for (let i = 0; i < 5; i++) b.row([new Uint8Array(300).fill(i)]);
      b.complete('SELECT 5');
      await rec.store.flush();
      const d = (await rec.query.getSession(s.id))!;
      const ra = d.statements[0]!.result!;
      assert.deepEqual(ra.rows, [['1'], ['2'], ['3']]);
      assert.equal(ra.truncated, true);
      assert.equal(ra.rowCount, 10);
      const rb = d.statements[1]!.result!;
      assert.equal(rb.rows.length, 3, '3 × 300 bytes fit in 1000, the 4th does not');
      assert.equal(rb.rows[0]![0], Buffer.alloc(300, 0).toString('base64'));
      assert.equal(rb.columns[0]!.format, 'binary');
      assert.equal(rb.bytes, 1500);
      assert.equal(rb.truncated, true);
    } finally {
      await rec.close();
    }
  });

  test(`${name}: sessions are listed newest first, filtered and paginated`, async () => {
    const clock = frozenClock();
    const rec = await Recorder.open(cfg(await target.fresh()), { now: clock.now, gateway: 'gw-1' });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = session(i % 2 === 0 ? 'alice' : 'bob', i < 3 ? 'warehouse' : 'crm', { startedAt: clock.now() });
        ids.push(s.id);
        rec.onSessionStart(s);
        (await settle(rec.statement(s, 'SELECT 1', i === 4 ? deny() : allow()))).complete('SELECT 1');
        rec.onSessionEnd(s, 'client-closed');
        clock.advance(60_000);
      }
      await rec.store.flush();
      const all = await rec.query.listSessions();
      assert.deepEqual(
        all.items.map((x) => x.id),
        [...ids].reverse(),
      );
      assert.equal((await rec.query.listSessions({ user: 'alice' })).items.length, 3);
      assert.equal((await rec.query.listSessions({ connection: 'crm' })).items.length, 2);
      assert.deepEqual(
        (await rec.query.listSessions({ decision: 'deny' })).items.map((x) => x.id),
        [ids[4]],
      );
      assert.equal((await rec.query.listSessions({ since: new Date(T0 + 2 * 60_000) })).items.length, 3);
      const p1 = await rec.query.listSessions({}, { limit: 2 });
      const p2 = await rec.query.listSessions({}, { limit: 2, cursor: p1.nextCursor });
      const p3 = await rec.query.listSessions({}, { limit: 2, cursor: p2.nextCursor });
      assert.deepEqual([...p1.items, ...p2.items, ...p3.items].map((x) => x.id), [...ids].reverse());
      assert.equal(p3.nextCursor, null);
      assert.equal(await rec.query.getSession('no-such-session'), null);
    } finally {
      await rec.close();
    }
  });

  test(`${name}: sessions a crash left open are closed as gateway-restart, only this gateway's`, async () => {
    const base = await target.fresh();
    const mine = session('alice');
    const other = session('bob');
    {
      const a = await Recorder.open(cfg(base), { gateway: 'gw-1' });
      a.onSessionStart(mine);
      (await settle(a.statement(mine, 'SELECT 1', allow()))).complete('SELECT 1');
      await a.store.flush();
      if (target.singleWriter) await a.store.close();
      const b = await Recorder.open(cfg(base), { gateway: 'gw-2' });
      b.onSessionStart(other);
      await b.store.flush();
      // A crash: the stores stop without the recorder ending its sessions.
      await a.store.close();
      await b.store.close();
    }
    const again = await Recorder.open(cfg(base), { gateway: 'gw-1' });
    try {
      const d = await again.query.getSession(mine.id);
      assert.equal(d?.end?.reason, 'gateway-restart');
      assert.equal((await again.query.getSession(other.id))?.end, null);
      assert.equal((await verifyStore(again.store)).ok, true);
    } finally {
      await again.close();
    }
  });

  test(`${name}: checkpoints are signed and verified with the public key`, async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = new Secret(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'file:test-key.pem');
    const config = cfg(await target.fresh(), { signing_key: pem, checkpoint_every: 4 });
    const rec = await Recorder.open(config, { gateway: 'gw-1' });
    try {
      const s = session();
      rec.onSessionStart(s);
      for (let i = 0; i < 10; i++) (await settle(rec.statement(s, `SELECT ${i}`, allow()))).complete('SELECT 1');
      rec.onSessionEnd(s, 'client-closed');
      await rec.store.flush();
    } finally {
      await rec.close();
    }
    const reader = openStore(config, { readOnly: true });
    try {
      const cps = await reader.checkpoints();
      assert.ok(cps.length >= 2, `expected checkpoints, got ${cps.length}`);
      assert.ok(cps.every((c) => c.signature !== null));
      const report = await verifyStore(reader, { publicKey, checkpointEvery: 4 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.signedCheckpoints, cps.length);
      const wrong = generateKeyPairSync('ed25519').publicKey;
      const bad = await verifyStore(reader, { publicKey: wrong, checkpointEvery: 4 });
      assert.equal(bad.ok, false);
      assert.equal(bad.problems[0]?.kind, 'bad-signature');
    } finally {
      await reader.close();
    }
  });

  test(`${name}: retention deletes whole old segments and verification continues from the anchor`, async () => {
    const clock = frozenClock(T0 - 400 * DAY);
    const config = cfg(await target.fresh(), { retention_days: 365, checkpoint_every: 3 });
    const rec = await Recorder.open(config, { now: clock.now, gateway: 'gw-1' });
    const old = session('alice', 'warehouse', { startedAt: clock.now() });
    rec.onSessionStart(old);
    for (let i = 0; i < 5; i++) (await settle(rec.statement(old, `SELECT ${i}`, allow()))).complete('SELECT 1');
    rec.onSessionEnd(old, 'client-closed');
    await rec.store.flush();
    clock.set(T0);
    const recent = session('bob', 'warehouse', { startedAt: clock.now() });
    rec.onSessionStart(recent);
    (await settle(rec.statement(recent, 'SELECT 1', allow()))).complete('SELECT 1');
    await rec.store.flush();
    try {
      const before = await verifyStore(rec.store);
      assert.equal(before.ok, true);
      const anchor = await rec.applyRetention();
      assert.ok(anchor, 'an anchor was recorded');
      const after = await verifyStore(rec.store);
      assert.equal(after.ok, true, JSON.stringify(after.problems));
      assert.equal(after.firstSeq, anchor.seq + 1);
      assert.ok(after.events < before.events);
      assert.equal((await rec.query.listSessions({ user: 'bob' })).items.length, 1);
      assert.deepEqual((await rec.store.sessionEvents([old.id], { types: ['session.start'] })).length, 0);
      // The chain goes on after the anchor.
      (await settle(rec.statement(recent, 'SELECT 2', allow()))).complete('SELECT 1');
      await rec.store.flush();
      assert.equal((await verifyStore(rec.store)).ok, true);
    } finally {
      await rec.close();
    }
  });

  test(`${name}: appendDurable has committed the event when it returns`, async () => {
    const config = cfg(await target.fresh());
    const rec = await Recorder.open(config, { gateway: 'gw-1' });
    const reader = openStore(config, { readOnly: true });
    try {
      const s = session();
      rec.onSessionStart(s);
      await settle(rec.statement(s, 'SELECT durable', allow()));
      // A separate connection sees it: it is committed, not merely queued.
      const rows = await reader.sessionEvents([s.id]);
      assert.deepEqual(
        rows.map((r) => r.type),
        ['session.start', 'statement'],
      );
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => settle(rec.statement(s, `SELECT ${i}`, allow()))));
      assert.equal(many.length, 50);
      assert.equal((await reader.sessionEvents([s.id], { types: ['statement'] })).length, 51);
    } finally {
      await reader.close();
      await rec.close();
    }
  });
}
