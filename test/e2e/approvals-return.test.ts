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
import { authenticated, errorOf } from '../helpers/raw-client.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';

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

test('pg: bound parameters are part of the request and the grant: the approved values run once, other values are refused', async () => {
  const sql = "UPDATE orders SET state = 'lost' WHERE id = $1";
  const first = await attempt('agent', sql, [3]);
  assert.equal(first.code, '42501');
  assert.match(first.message, /Approval requested: request [0-9a-f-]{36}/);
  const id = UUID.exec(first.message)![0];
  // The reviewer sees the values the statement would run with.
  const req = (await api(gw, 'alice', `/api/approvals/${id}`)).json;
  assert.deepEqual(req.params, ['3']);
  assert.equal((await vote(gw, 'alice', id, 'approve')).json.status, 'approved');
  // The same text with another value is another statement.
  assert.equal((await attempt('agent', sql, [4])).code, '42501');
  assert.equal(await state(4), 'open');
  const retry = await attempt('agent', sql, [3]);
  assert.equal(retry.rowCount, 1);
  assert.equal(await state(3), 'lost');
  assert.equal((await attempt('agent', sql, [3])).code, '42501', 'a grant is used once');
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
  assert.equal(first.status, 202);
  assert.equal(first.json.status, 'pending_approval');
  assert.equal(first.json.decision.code, 'ERR_APPROVAL_REQUIRED');
  const id = first.json.request_id as string;
  assert.match(id, UUID);
  const shown = (await api(gw, 'alice', `/api/approvals/${id}`)).json;
  assert.equal(shown.requester.subject, 'key:agent');
  assert.equal(shown.mode, 'return');
  assert.equal(shown.estimated_rows === null || shown.estimated_rows === 1, true);
  await vote(gw, 'alice', id, 'approve', 'fine');
  // A changed statement is not covered by the grant: it becomes a request of its own.
  const changed = await post("UPDATE orders SET state = 'void' WHERE id = 6");
  assert.equal(changed.status, 202);
  assert.notEqual(changed.json.request_id, id);
  const retry = await post(sql);
  assert.equal(retry.status, 200);
  assert.equal(retry.json.row_count, 1);
  assert.equal(await state(5), 'void');
  // The grant is spent: the same statement again needs a new approval.
  const again = await post(sql);
  assert.equal(again.status, 202);
  assert.notEqual(again.json.request_id, id);
  assert.equal(await state(6), 'open');
});

test('MCP: query returns pending_approval with the request id; after approval wait_for_approval runs it once and returns its rows', async () => {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const client = new Client({ name: 'approvals-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${gw.keys.agent}` } } }));
  try {
    const sql = "UPDATE orders SET state = 'void' WHERE id = 7 RETURNING id, state";
    const held = (await client.callTool({ name: 'query', arguments: { connection: 'main', sql } })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    assert.ok(!held.isError);
    assert.equal(held.structuredContent?.status, 'pending_approval');
    const id = held.structuredContent?.request_id as string;
    assert.match(id, UUID);
    const status = (await client.callTool({ name: 'approval_status', arguments: { request_id: id } })) as { structuredContent?: Record<string, unknown> };
    assert.equal(status.structuredContent?.status, 'pending_approval');
    assert.equal(await state(7), 'open');
    setTimeout(() => void vote(gw, 'alice', id, 'approve', 'ok for #7'), 300);
    const done = (await client.callTool({ name: 'wait_for_approval', arguments: { request_id: id, timeout_seconds: 20 } })) as { isError?: boolean; structuredContent?: Record<string, unknown> };
    assert.ok(!done.isError, JSON.stringify(done));
    assert.deepEqual(done.structuredContent?.rows, [['7', 'void']]);
    assert.equal(await state(7), 'void');
    const twice = (await client.callTool({ name: 'wait_for_approval', arguments: { request_id: id, timeout_seconds: 1 } })) as { isError?: boolean };
    assert.ok(twice.isError, 'a used grant does not run again');
  } finally {
    await client.close();
  }
});

test('the OpenAPI document describes the approvals API when approvals are configured', async () => {
  const doc = (await (await fetch(`${gw.httpUrl}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
  for (const p of ['/api/approvals', '/api/approvals/{id}', '/api/approvals/{id}/approve', '/api/approvals/{id}/deny']) assert.ok(p in doc.paths, p);
});

test('every request, vote and use is an action event in the audit log, and the chain verifies', async () => {
  const { verifyStore } = await import('../../src/audit/verify.js');
  const store = gw.gateway.recorder!.store;
  await store.flush();
  const rows = await store.scan(0, 100_000);
  const actions = rows.filter((r) => r.type === 'action').map((r) => JSON.parse(r.body) as { action: string; target: string; actor: { subject: string }; detail: Record<string, unknown> });
  const kinds = new Set(actions.map((a) => a.action));
  for (const k of ['approval.requested', 'approval.vote', 'approval.used']) assert.ok(kinds.has(k), `${k} recorded`);
  const vote = actions.find((a) => a.action === 'approval.vote')!;
  assert.equal(vote.actor.subject, 'key:alice');
  assert.equal(vote.detail.vote, 'approve');
  assert.equal((await verifyStore(store)).ok, true);
});

test('a write PREPAREd in SQL and approved once does not run again through a protocol Bind/Execute without a new approval', async () => {
  const c = await authenticated(gw.port, gw.keys.agent!);
  try {
    const prepare = "PREPARE upd AS UPDATE orders SET state = 'prepared' WHERE id = 9";
    c.query(prepare);
    const refused = errorOf(await c.untilReady());
    assert.equal(refused?.code, '42501');
    const id = UUID.exec(refused!.message)![0];
    assert.equal((await vote(gw, 'alice', id, 'approve')).json.status, 'approved');
    c.query(prepare);
    assert.equal(errorOf(await c.untilReady()), undefined, 'the approved PREPARE runs');
    // Executing the prepared UPDATE by name through the extended protocol is an EXECUTE of a write.
    const w = new MessageWriter();
    w.begin(0x42).cstring('').cstring('upd').int16(0).int16(0).int16(0).end();
    w.begin(0x45).cstring('').int32(0).end().begin(0x53).end();
    c.write(w.take());
    const e = errorOf(await c.untilReady());
    assert.equal(e?.code, '42501');
    assert.match(e!.message, /Approval requested/);
    assert.equal(await state(9), 'open');
  } finally {
    c.close();
  }
});

test('with recording off, a statement with bind parameters is still reviewed at Execute (never run unapproved)', async () => {
  const quiet = await startTestGateway(db, {
    keys: KEYS,
    policy: {
      preset: 'read-only',
      rules: [{ name: 'orders-review', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'], mode: 'return', expires: '5m' } }],
    },
    extra: { approvals: {}, audit: { enabled: false } },
  });
  try {
    const c = new pg.Client(quiet.pgConfig('agent'));
    c.on('error', () => undefined);
    await c.connect();
    try {
      await assert.rejects(c.query('UPDATE orders SET state = $1 WHERE id = $2', ['unreviewed', 8]), (e: { code?: string }) => e.code === '42501');
    } finally {
      await c.end();
    }
    assert.equal(await state(8), 'open');
  } finally {
    await quiet.stop();
  }
});
