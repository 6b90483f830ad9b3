import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { Recorder } from '../../src/audit/recorder.js';
import { openStore } from '../../src/audit/open-store.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { allow, session } from './audit-fixtures.js';
import { storeConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeConformance('sqlite', {
  fresh: async () => ({ store: `sqlite:${join(dir, `audit-${++n}.db`)}` }),
  singleWriter: true,
});

test('sqlite: the statements of one turn share one commit, and each waits for it', async () => {
  const config = parseAuditConfig({ store: `sqlite:${join(dir, `audit-${++n}.db`)}` });
  const rec = await Recorder.open(config, { gateway: 'gw' });
  const reader = openStore(config, { readOnly: true });
  try {
    // Eight sessions, as eight clients would be: one session's next statement would end its last result.
    const sessions = Array.from({ length: 8 }, () => session());
    const pending = sessions.map((x, i) => rec.statement(x, `SELECT ${i}`, allow()));
    assert.ok(pending.every((p) => p instanceof Promise));
    // Nothing is committed inside the turn: the batch waits for setImmediate.
    assert.equal((await reader.sessionEvents(sessions.map((x) => x.id))).length, 0);
    const caps = await Promise.all(pending);
    const ids = sessions.map((x) => x.id);
    assert.equal((await reader.sessionEvents(ids, { types: ['statement'] })).length, 8);
    // A result with no statement after it is still committed, shortly.
    caps[0]!.complete('SELECT 1');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await reader.sessionEvents(ids, { types: ['statement.result'] })).length, 1);
  } finally {
    await reader.close();
    await rec.close();
  }
});

test('sqlite: a failed ingest refuses later statements until it recovers, and keeps the acknowledged ones', async () => {
  const path = join(dir, `audit-${++n}.db`);
  const config = parseAuditConfig({ store: `sqlite:${path}` });
  const rec = await Recorder.open(config, { gateway: 'gw' });
  const s = session();
  rec.onSessionStart(s);
  await rec.statement(s, 'SELECT 1', allow());
  await rec.store.flush();
  // Another writer holds the write lock past busy_timeout: ingest cannot commit.
  const blocker = new Database(path);
  blocker.pragma('busy_timeout = 0');
  blocker.exec('BEGIN IMMEDIATE');
  try {
    // Journaled, so acknowledged: it went upstream and must survive.
    await rec.statement(s, 'SELECT 2', allow());
    await assert.rejects(rec.store.flush(), (e: Error & { code?: string }) => e.code === 'ERR_AUDIT_UNAVAILABLE' && /journal/.test(e.message));
    assert.throws(
      () => rec.statement(s, 'SELECT 3', allow()),
      (e: Error & { code?: string }) => e.code === 'ERR_AUDIT_UNAVAILABLE',
    );
  } finally {
    blocker.exec('ROLLBACK');
    blocker.close();
  }
  // The store retries ingest once a second and takes statements again once it has caught up.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await rec.store.flush();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await rec.statement(s, 'SELECT 4', allow());
  await rec.close();
  const reader = openStore(config, { readOnly: true });
  try {
    const sql = (await reader.sessionEvents([s.id], { types: ['statement'] })).map((r) => (JSON.parse(r.body) as { sql: string }).sql);
    assert.deepEqual(sql, ['SELECT 1', 'SELECT 2', 'SELECT 4']);
  } finally {
    await reader.close();
  }
});

test('sqlite: a file from before the partial session-start index loses the old time index and lists sessions through the new one', async () => {
  const file = join(dir, `audit-${++n}.db`);
  const old = new Database(file);
  old.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, type TEXT NOT NULL, session TEXT NOT NULL, statement INTEGER, subject TEXT,
      connection TEXT, action TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, body TEXT NOT NULL);
    CREATE INDEX events_type_time ON events (type, time_ms);`);
  old.close();
  const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${file}` }), { gateway: 'gw' });
  try {
    const s = session();
    rec.onSessionStart(s);
    await rec.statement(s, 'SELECT 1', allow());
    await rec.store.flush();
    const db = new Database(file, { readonly: true });
    try {
      const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'`).all() as { name: string }[]).map((r) => r.name).sort();
      assert.deepEqual(indexes, ['events_session', 'events_session_starts']);
      const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT seq FROM events WHERE type = 'session.start' ORDER BY seq DESC LIMIT 50`).all() as { detail: string }[];
      assert.match(plan.map((p) => p.detail).join(' '), /events_session_starts/);
    } finally {
      db.close();
    }
    assert.deepEqual((await rec.store.findSessionStarts({ limit: 10 })).map((r) => r.session), [s.id]);
  } finally {
    await rec.close();
  }
});
