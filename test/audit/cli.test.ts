import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { auditCommand } from '../../src/cli/audit.js';
import { sessionsCommand } from '../../src/cli/sessions.js';
import { allow, deny, frozenClock, session, settle, T0 } from './audit-fixtures.js';
import { runCli } from './cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function recordDemo(path: string) {
  const clock = frozenClock();
  const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${path}` }), { now: clock.now, gateway: 'gw' });
  const s = session('alice', 'warehouse', { startedAt: clock.now() });
  rec.onSessionStart(s);
  clock.advance(1500);
  const a = await settle(rec.statement(s, 'SELECT id, email FROM customers', allow()));
  a.columns(['id', 'email']);
  a.row(['1', 'a***@example.com']);
  a.row(['2', null]);
  a.complete('SELECT 2');
  clock.advance(3000);
  const b = await settle(rec.statement(s, 'DELETE FROM customers', deny()));
  b.error('42501', 'writes are not allowed');
  clock.advance(500);
  rec.onSessionEnd(s, 'client-closed');
  const other = session('bob', 'crm', { startedAt: clock.now() });
  rec.onSessionStart(other);
  rec.onSessionEnd(other, 'client-closed');
  await rec.close();
  return { alice: s.id, bob: other.id };
}

test('sessions list / show / replay and audit export', async () => {
  const path = join(dir, 'audit.db');
  const ids = await recordDemo(path);
  const loadConfig = () => ({ audit: { store: `sqlite:${path}` } });
  const sessions = (args: string[]) => runCli((io) => sessionsCommand(loadConfig, io), args);

  const list = await sessions(['list', '-c', 'x.yaml']);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, new RegExp(`${ids.alice}.*alice.*warehouse.*pgwire\\s+2\\s+1\\s+client-closed`));
  assert.ok(list.out.indexOf(ids.bob) < list.out.indexOf(ids.alice), 'newest first');
  const denied = await sessions(['list', '-c', 'x.yaml', '--decision', 'deny', '--json']);
  assert.deepEqual(
    denied.out.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id),
    [ids.alice],
  );
  assert.equal((await sessions(['list', '-c', 'x.yaml', '--user', 'bob'])).out.includes(ids.alice), false);
  assert.match((await sessions(['list', '-c', 'x.yaml', '--since', new Date(T0 + 60_000).toISOString()])).out, /no sessions/);

  const replay = await sessions(['replay', '-c', 'x.yaml', ids.alice, '--speed', '0']);
  assert.equal(replay.code, 0, replay.err);
  assert.deepEqual(replay.sleeps, []);
  const expected = [
    `session ${ids.alice}`,
    '  alice (analysts) via pgwire from 127.0.0.1:5555 [psql] on warehouse',
    '  started 2025-03-01T12:00:00.000Z',
    '',
    '[+1.500s] #1 alice> SELECT id, email FROM customers',
    '  decision: allow (rule analysts-read)',
    '  id | email',
    '  ---+-----------------',
    '  1  | a***@example.com',
    '  2  | NULL',
    '  SELECT 2 · 2 rows · 18 bytes',
  ];
  assert.deepEqual(replay.out.split('\n').slice(0, expected.length), expected);
  assert.match(replay.out, /\[\+4\.500s\] #2 alice> DELETE FROM customers\n {2}decision: deny \(rule no-writes\): writes are not allowed\n {2}error 42501: writes are not allowed/);
  assert.match(replay.out, /session ended 2025-03-01T12:00:05.000Z \(client-closed\) after 5\.000s/);

  const fast = await sessions(['replay', '-c', 'x.yaml', ids.alice, '--speed', '2']);
  assert.deepEqual(fast.sleeps, [750, 1500], 'pauses as recorded, halved');
  const show = await sessions(['show', '-c', 'x.yaml', ids.alice, '--json']);
  assert.equal((JSON.parse(show.out) as { statements: unknown[] }).statements.length, 2);
  const missing = await sessions(['show', '-c', 'x.yaml', 'nope']);
  assert.equal(missing.code, 1);

  const audit = (args: string[]) => runCli((io) => auditCommand(loadConfig, io), args);
  const jsonl = await audit(['export', '-c', 'x.yaml', '--format', 'jsonl']);
  const lines = jsonl.out.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; hash: string; event: { type: string } });
  assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
  assert.equal(lines[0]!.event.type, 'session.start');
  const csv = await audit(['export', '-c', 'x.yaml', '--format', 'csv', '--since', '2025-03-01T12:00:05Z']);
  const csvLines = csv.out.trim().split('\n');
  assert.equal(csvLines[0], 'seq,time,type,session,statement,subject,connection,decision,hash,prev_hash,event');
  assert.ok(csvLines.length >= 4 && csvLines.slice(1).every((l) => /^\d+,2025-03-01T12:00:05/.test(l)), csv.out);
  assert.equal((await audit(['verify', '-c', 'x.yaml'])).code, 0);
});

test('a bad audit: section is reported by key, never with the value', async () => {
  const r = await runCli((io) => auditCommand(() => ({ audit: { store: 'mysql://x:hunter2@h/db', results: { max_rows: -1 } } }), io), ['verify', '-c', 'x.yaml']);
  assert.equal(r.code, 3);
  assert.match(r.err, /audit\.store: must be sqlite:PATH or a postgres:\/\/ URL/);
  assert.match(r.err, /audit\.results\.max_rows/);
  assert.ok(!r.err.includes('hunter2'));
});
