/**
 * Approvals kept in PostgreSQL (`approvals.store: postgres://…`), end to end: a return-mode
 * request lands in the database and its approved retry runs once; two gateways sharing the
 * store see each other's requests — a statement held on one is released by a vote on the
 * other, a grant approved on one is spent once on either; a restart abandons the held
 * requests its predecessor left; and an unreachable store refuses review statements.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { api, pendingFor, UUID, vote } from '../approvals/harness.js';

let db: PgCluster;

function options(instance: string, store = db.url('gwstate')): TestGatewayOptions {
  return {
    http: true,
    keys: { agent: ['agents'], alice: ['dba'] },
    policy: {
      preset: 'read-only',
      rules: [
        { name: 'return-orders', what: { kinds: ['write'], tables: ['orders'] }, action: 'review', review: { approvers: ['dba'], mode: 'return' } },
        { name: 'hold-writes', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'], mode: 'hold' } },
      ],
    },
    extra: { approvals: { store, instance } },
  };
}

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE orders (id int PRIMARY KEY, state text NOT NULL);
                 INSERT INTO orders SELECT g, 'open' FROM generate_series(1, 10) g;
                 CREATE TABLE notes (id serial PRIMARY KEY, body text);`);
  await db.exec('CREATE DATABASE gwstate');
});

after(async () => {
  await db?.stop();
});

/** What the approvals database itself says about a request. */
async function stored(id: string): Promise<string> {
  return (await db.exec(`SELECT status || '|' || mode || '|' || gateway FROM portcullis.approval_requests WHERE id = '${id}'`, 'gwstate')).trim();
}

function query(gw: TestGateway, sql: string): Promise<{ status: number; json: any }> {
  return fetch(`${gw.httpUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.keys.agent}` },
    body: JSON.stringify({ connection: 'main', sql }),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
}

/** Sends a statement over the PostgreSQL wire; resolves 'ran' or the error message. */
async function hold(gw: TestGateway, sql: string): Promise<{ done: Promise<string>; client: pg.Client }> {
  const client = new pg.Client(gw.pgConfig('agent'));
  client.on('error', () => undefined);
  await client.connect();
  const done = client.query(sql).then(
    () => 'ran',
    (e: { message: string }) => e.message,
  );
  return { done, client };
}

async function state(id: number): Promise<string> {
  return (await db.exec(`SELECT state FROM orders WHERE id = ${id}`)).trim();
}

test('a return-mode request is stored in PostgreSQL; approved over the HTTP API, the retry runs once', async () => {
  const gw = await startTestGateway(db, options('gw-solo'));
  try {
    const sql = "UPDATE orders SET state = 'shipped' WHERE id = 1";
    const first = await query(gw, sql);
    assert.equal(first.status, 202);
    const id = first.json.request_id as string;
    assert.match(id, UUID);
    assert.equal(await stored(id), 'pending|return|gw-solo');
    assert.equal((await vote(gw, 'alice', id, 'approve', 'ticket OPS-7')).json.status, 'approved');
    const retry = await query(gw, sql);
    assert.equal(retry.status, 200, JSON.stringify(retry.json));
    assert.equal(retry.json.row_count, 1);
    assert.equal(await state(1), 'shipped');
    assert.equal(await stored(id), 'used|return|gw-solo');
    const again = await query(gw, sql);
    assert.equal(again.status, 202);
    assert.notEqual(again.json.request_id, id);
  } finally {
    await gw.stop();
  }
});

test('two gateways share the store: a vote on one releases a statement held on the other; a grant is spent once on either', async () => {
  const a = await startTestGateway(db, options('gw-a'));
  const b = await startTestGateway(db, options('gw-b'));
  try {
    const heldSql = "INSERT INTO notes (body) VALUES ('approved on the other gateway')";
    const held = await hold(a, heldSql);
    try {
      const req = await pendingFor(b, 'alice', heldSql);
      assert.equal(await stored(req.id), 'pending|hold|gw-a');
      assert.equal((await vote(b, 'alice', req.id, 'approve')).json.status, 'approved');
      // Gateway a hears of it on its next re-read of the held requests (once a second).
      assert.equal(await held.done, 'ran');
      assert.equal((await db.exec("SELECT count(*) FROM notes WHERE body = 'approved on the other gateway'")).trim(), '1');
      assert.equal((await api(a, 'alice', `/api/approvals/${req.id}`)).json.status, 'used');
    } finally {
      await held.client.end();
    }

    const sql = "UPDATE orders SET state = 'void' WHERE id = 2";
    const asked = await query(a, sql);
    assert.equal(asked.status, 202);
    const id = asked.json.request_id as string;
    await vote(b, 'alice', id, 'approve');
    const [onA, onB] = await Promise.all([query(a, sql), query(b, sql)]);
    assert.deepEqual([onA.status, onB.status].sort(), [200, 202], 'exactly one gateway spends the grant');
    assert.equal(await stored(id), 'used|return|gw-a');
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('restart: held requests are abandoned (on shutdown, and on the next start after a crash); return-mode requests survive', async () => {
  const heldSql = "INSERT INTO notes (body) VALUES ('held across a restart')";
  const returnSql = "UPDATE orders SET state = 'closed' WHERE id = 3";
  const first = await startTestGateway(db, options('gw-r'));
  const held = await hold(first, heldSql);
  const holdReq = await pendingFor(first, 'alice', heldSql);
  const refused = await query(first, returnSql);
  const returnId = refused.json.request_id as string;
  await first.stop();
  assert.notEqual(await held.done, 'ran');
  await held.client.end().catch(() => undefined);
  assert.equal(await stored(holdReq.id), 'abandoned|hold|gw-r');
  // A crash leaves the held request pending: nobody ran the shutdown above.
  await db.exec(`UPDATE portcullis.approval_requests SET status = 'pending', decided_ms = NULL WHERE id = '${holdReq.id}'`, 'gwstate');

  const second = await startTestGateway(db, options('gw-r'));
  try {
    assert.equal((await api(second, 'alice', `/api/approvals/${holdReq.id}`)).json.status, 'abandoned');
    assert.equal((await vote(second, 'alice', holdReq.id, 'approve')).status, 409);
    assert.equal((await api(second, 'alice', `/api/approvals/${returnId}`)).json.status, 'pending');
    await vote(second, 'alice', returnId, 'approve');
    const retry = await query(second, returnSql);
    assert.equal(retry.status, 200, JSON.stringify(retry.json));
    assert.equal(await state(3), 'closed');
  } finally {
    await second.stop();
  }
});

test('an unreachable approvals store refuses statements that need review, never runs them; others still run', async () => {
  const gw = await startTestGateway(db, options('gw-down', 'postgres://postgres@127.0.0.1:1/nowhere'));
  try {
    const c = new pg.Client(gw.pgConfig('agent'));
    await c.connect();
    try {
      const [before] = (await c.query('SELECT count(*)::int AS n FROM notes')).rows as { n: number }[];
      await assert.rejects(c.query("INSERT INTO notes (body) VALUES ('must not run')"), (e: { code?: string; message: string }) => {
        assert.equal(e.code, '42501');
        assert.match(e.message, /the approvals store is unavailable, so no approval request could be made or checked and the statement did not run/);
        return true;
      });
      await assert.rejects(c.query("UPDATE orders SET state = 'lost' WHERE id = 4"), /approvals store is unavailable/);
      const [after] = (await c.query('SELECT count(*)::int AS n FROM notes')).rows as { n: number }[];
      assert.equal(after!.n, before!.n);
    } finally {
      await c.end();
    }
    assert.equal(await state(4), 'open');
    const listed = await api(gw, 'alice', '/api/approvals');
    assert.equal(listed.status, 503);
    assert.equal(listed.json.error.code, 'ERR_APPROVALS_UNAVAILABLE');
    assert.ok(!JSON.stringify(listed.json).includes(db.password));
  } finally {
    await gw.stop();
  }
});
