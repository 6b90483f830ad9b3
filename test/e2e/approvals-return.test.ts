/**
 * Return mode, end to end: the statement is refused at once with the request id; once a
 * reviewer approves, the identical statement (same principal, connection, SQL and parameters)
 * runs exactly once — from a new connection too, since agents reconnect — while a second retry
 * or a changed statement is refused. Over pgwire with node-postgres and over the HTTP query API.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { api, UUID, vote } from '../approvals/harness.js';

const KEYS = { agent: ['agents'], other: ['agents'], alice: ['dba'] };

let db: PgCluster;
let gw: TestGateway;
let direct: pg.Client;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE orders (id int PRIMARY KEY, state text NOT NULL);
                 INSERT INTO orders SELECT g, 'open' FROM generate_series(1, 10) g;`);
  direct = new pg.Client({ connectionString: db.url() });
  await direct.connect();
  gw = await startTestGateway(db, {
    http: true,
    keys: KEYS,
    policy: {
      preset: 'read-only',
      rules: [{ name: 'orders-review', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'], mode: 'return', expires: '5m' } }],
    },
    extra: { approvals: {} },
  });
});

after(async () => {
  await direct?.end();
  await gw?.stop();
  await db?.stop();
});

async function attempt(key: keyof typeof KEYS, sql: string, params?: unknown[]): Promise<{ code?: string; message: string; rowCount?: number | null }> {
  const c = new pg.Client(gw.pgConfig(key));
  c.on('error', () => undefined);
  await c.connect();
  try {
    const r = await c.query(sql, params);
    return { message: 'ran', rowCount: r.rowCount };
  } catch (e) {
    return e as { code?: string; message: string };
  } finally {
    await c.end();
  }
}

async function state(id: number): Promise<string> {
  return (await direct.query('SELECT state FROM orders WHERE id = $1', [id])).rows[0].state;
}

test('pg: refused at once with the request id; once approved the identical statement runs exactly once', async () => {
  const sql = "UPDATE orders SET state = 'shipped' WHERE id = 1";
  const first = await attempt('agent', sql);
  assert.equal(first.code, '42501');
  assert.match(first.message, /Approval requested: request [0-9a-f-]{36} at http:\/\/127\.0\.0\.1:\d+\/api\/approvals\//);
  assert.match(first.message, /send the identical statement again on connection "main" — it will run once/);
  const id = UUID.exec(first.message)![0];

  // Before approval: still refused, the same request.
  const early = await attempt('agent', sql);
  assert.match(early.message, new RegExp(`approval request ${id} for this statement is still pending \\(0 of 1 approval\\)`));
  assert.equal((await api(gw, 'alice', '/api/approvals?status=pending')).json.approvals.filter((a: { sql: string }) => a.sql === sql).length, 1);

  assert.equal((await vote(gw, 'alice', id, 'approve')).json.status, 'approved');
  // A changed statement and another principal do not get the grant.
  assert.equal((await attempt('agent', sql.replace('id = 1', 'id = 2'))).code, '42501');
  assert.equal((await attempt('agent', `${sql} `)).code, '42501');
  assert.equal((await attempt('other', sql)).code, '42501');
  assert.equal(await state(1), 'open');

  const retry = await attempt('agent', sql);
  assert.equal(retry.rowCount, 1);
  assert.equal(await state(1), 'shipped');
  assert.equal((await api(gw, 'alice', `/api/approvals/${id}`)).json.status, 'used');

  const again = await attempt('agent', sql);
  assert.equal(again.code, '42501');
  assert.match(again.message, /Approval requested: request/);
  assert.notEqual(UUID.exec(again.message)![0], id);
});

test('pg: bind parameters are not known when the wire decides, so they cannot be approved for a retry', async () => {
  const r = await attempt('agent', "UPDATE orders SET state = 'lost' WHERE id = $1", [3]);
  assert.equal(r.code, '42501');
  assert.match(r.message, /has bind parameters whose values are not known when it is decided/);
  assert.equal(await state(3), 'open');
});

test('HTTP query API: the same statement, approved, runs once; a changed statement is refused', async () => {
  const post = (sql: string) =>
    fetch(`${gw.httpUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.keys.agent}` },
      body: JSON.stringify({ connection: 'main', sql }),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
  const sql = "UPDATE orders SET state = 'void' WHERE id = 5";
  const first = await post(sql);
  assert.equal(first.status, 403);
  assert.equal(first.json.error.code, 'ERR_APPROVAL_REQUIRED');
  const id = UUID.exec(first.json.error.message)![0];
  const shown = (await api(gw, 'alice', `/api/approvals/${id}`)).json;
  assert.equal(shown.requester.subject, 'key:agent');
  assert.equal(shown.mode, 'return');
  assert.equal(shown.estimated_rows === null || shown.estimated_rows === 1, true);
  await vote(gw, 'alice', id, 'approve', 'fine');
  assert.equal((await post("UPDATE orders SET state = 'void' WHERE id = 6")).status, 403);
  const retry = await post(sql);
  assert.equal(retry.status, 200);
  assert.equal(retry.json.row_count, 1);
  assert.equal(await state(5), 'void');
  assert.equal((await post(sql)).status, 403);
  assert.equal(await state(6), 'open');
});
