/**
 * Recording end to end: psql and node-postgres sessions through the gateway to real PostgreSQL
 * produce the expected records (statements, decisions, parameters, result rows as the client
 * received them), `audit verify` passes, a SIGKILLed gateway loses no statement that reached
 * the database, and a store that cannot be written makes statements fail closed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, spawnGateway, type TestGateway } from '../helpers/gateway.js';
import { run } from '../helpers/run.js';
import { openStore } from '../../src/audit/open-store.js';
import { AuditQuery } from '../../src/audit/query.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { verifyStore } from '../../src/audit/verify.js';

let db: PgCluster;
let gw: TestGateway;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int);
                 INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 1500) g;`);
  gw = await startTestGateway(db, {
    keys: { analyst: ['analysts'] },
    policy: { preset: 'read-only' },
    extra: {},
  });
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

async function sessionsOf(subject: string) {
  const q = gw.gateway.recorder!.query;
  const page = await q.listSessions({ user: subject }, { limit: 50 });
  return Promise.all(page.items.map(async (s) => (await q.getSession(s.id, { limit: 100 }))!));
}

async function settle(): Promise<void> {
  // Results and session ends are written asynchronously (batched); give the batch a moment.
  await new Promise((r) => setTimeout(r, 300));
}

describe('what a session leaves in the record', () => {
  test('psql: statements, decisions, result rows, a refusal, and the session end', async () => {
    const r = await run('psql', ['-X', '-d', gw.url(), '-c', 'SELECT id, owner FROM accounts WHERE id <= 3 ORDER BY id', '-c', 'DELETE FROM accounts', '-c', 'SELECT count(*) FROM accounts'], {
      env: { ...gw.env(), PGAPPNAME: 'recorder-test' },
    });
    assert.match(r.stderr, /permission denied by Portcullis policy/);
    await settle();
    const sessions = (await sessionsOf('key:analyst')).filter((s) => s.start.client.applicationName === 'recorder-test');
    assert.equal(sessions.length, 1);
    const s = sessions[0]!;
    assert.equal(s.summary.connection, 'main');
    assert.deepEqual(s.summary.groups, ['analysts']);
    assert.ok(s.end, 'the session end is recorded');
    const [sel, del, count] = s.statements;
    assert.equal(sel!.statement.sql, 'SELECT id, owner FROM accounts WHERE id <= 3 ORDER BY id');
    assert.equal(sel!.statement.decision.action, 'allow');
    assert.deepEqual(sel!.result!.columns.map((c) => c.name), ['id', 'owner']);
    assert.deepEqual(sel!.result!.rows, [
      ['1', 'owner 1'],
      ['2', 'owner 2'],
      ['3', 'owner 3'],
    ]);
    assert.equal(sel!.result!.tag, 'SELECT 3');
    assert.equal(del!.statement.decision.action, 'deny');
    assert.equal(del!.result!.error?.sqlstate, '42501');
    assert.equal(count!.result!.rows[0]![0], '1500');
    assert.equal(await db.exec('SELECT count(*) FROM accounts').then((x) => x.trim()), '1500');
  });

  test('node-postgres: bind parameters of each execution, and results capped at 1,000 rows', async () => {
    const c = new pg.Client({ ...gw.pgConfig(), application_name: 'params-test' });
    await c.connect();
    for (const id of [7, 8]) await c.query({ name: 'by-id', text: 'SELECT owner FROM accounts WHERE id = $1', values: [id] });
    await c.query('SELECT * FROM accounts ORDER BY id');
    await c.end();
    await settle();
    const s = (await sessionsOf('key:analyst')).find((x) => x.start.client.applicationName === 'params-test')!;
    const executions = s.statements.filter((x) => x.statement.sql.startsWith('SELECT owner'));
    assert.deepEqual(
      executions.map((x) => x.statement.params),
      [['7'], ['8']],
    );
    assert.deepEqual(
      executions.map((x) => x.result!.rows),
      [[['owner 7']], [['owner 8']]],
    );
    const big = s.statements.find((x) => x.statement.sql === 'SELECT * FROM accounts ORDER BY id')!;
    assert.equal(big.result!.rows.length, 1000);
    assert.equal(big.result!.truncated, true);
    assert.equal(big.result!.rowCount, 1500);
  });

  test('the chain verifies', async () => {
    await gw.gateway.recorder!.store.flush();
    const report = await verifyStore(gw.gateway.recorder!.store);
    assert.equal(report.ok, true, JSON.stringify(report).slice(0, 500));
  });
});

describe('durability and failure', () => {
  test('SIGKILL of the gateway mid-session loses no statement that reached the database', { timeout: 120000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-kill-'));
    const store = `sqlite:${join(dir, 'audit.db')}`;
    await db.exec('CREATE TABLE IF NOT EXISTS marks (n int)');
    const child = await spawnGateway(db, { extra: { audit: { store } } });
    const c = new pg.Client({ host: '127.0.0.1', port: child.port, user: 'killer', database: 'main', password: child.key });
    c.on('error', () => {});
    await c.connect();
    for (let i = 1; i <= 25; i++) await c.query(`INSERT INTO marks VALUES (${i})`);
    child.child.kill('SIGKILL');
    await new Promise((r) => child.child.once('exit', r));
    const reached = Number((await db.exec('SELECT count(*) FROM marks')).trim());
    assert.equal(reached, 25);

    const cfg = parseAuditConfig({ store });
    const st = openStore(cfg, { readOnly: true });
    try {
      const q = new AuditQuery(st);
      const page = await q.listSessions({ user: 'key:tester' }, { limit: 10 });
      const detail = await q.getSession(page.items[0]!.id, { limit: 100 });
      const inserts = detail!.statements.filter((x) => x.statement.sql.startsWith('INSERT INTO marks'));
      assert.equal(inserts.length, reached, 'every statement that reached the database is recorded');
    } finally {
      await st.close();
    }
  });

  test('a store that cannot be written makes statements fail closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-ro-'));
    mkdirSync(join(dir, 'blocked'));
    // A file where the store's directory should be: the store cannot be created.
    writeFileSync(join(dir, 'blocked', 'sub'), 'not a directory');
    chmodSync(join(dir, 'blocked', 'sub'), 0o444);
    const g = await startTestGateway(db, { extra: { audit: { store: `sqlite:${join(dir, 'blocked', 'sub', 'audit.db')}` } } });
    try {
      const c = new pg.Client(g.pgConfig());
      await c.connect();
      await assert.rejects(c.query('SELECT 1'), (e: { code?: string; message: string }) => /ERR_AUDIT_UNAVAILABLE/.test(e.message));
      await c.end();
    } finally {
      await g.stop();
    }
  });
});
