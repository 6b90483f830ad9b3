/**
 * Just-in-time approval in hold mode, end to end: psql and node-postgres → gateway → real
 * PostgreSQL, reviewers on the HTTP API. The waiting client hears the request id at once in a
 * NOTICE, then gets its rows on approval, or 42501 with the reviewer's reason on denial or
 * timeout, and its connection stays usable. Also: who may decide, two-person rules, the
 * signed webhook, and the approval on the statement's audit event.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { run } from '../helpers/run.js';
import { signature } from '../../src/approvals/webhooks.js';
import { api, pendingFor, vote } from '../approvals/harness.js';

const KEYS = { agent: ['agents'], alice: ['dba'], bob: ['dba'], mallory: ['analysts'], selfish: ['agents', 'dba'] };
const SECRET = 'whsec-test-0123456789';

const POLICY = {
  preset: 'read-only',
  rules: [
    { name: 'ledger-quick', what: { kinds: ['write'], tables: ['ledger'] }, action: 'review', review: { approvers: ['dba'], timeout: '1500ms' } },
    { name: 'two-person', what: { kinds: ['write'], tables: ['transfers'] }, action: 'review', review: { approvers: ['dba'], approvals: 2 } },
    { name: 'hold-writes', what: { kinds: ['write'] }, action: 'review', reason: 'writes need a DBA', review: { approvers: ['dba'], mode: 'hold', timeout: '60s' } },
  ],
};

let db: PgCluster;
let gw: TestGateway;
let direct: pg.Client;
let receiver: Server;
const deliveries: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL);
                 INSERT INTO accounts SELECT g, g * 10 FROM generate_series(1, 50) g;
                 CREATE TABLE ledger (id serial PRIMARY KEY, note text);
                 CREATE TABLE transfers (id serial PRIMARY KEY, amount int);`);
  direct = new pg.Client({ connectionString: db.url() });
  await direct.connect();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  gw = await startTestGateway(db, {
    http: true,
    keys: KEYS,
    policy: POLICY,
    extra: { approvals: {}, notifications: { webhooks: [{ url: hook, secret: SECRET, format: 'json' }] } },
  });
});

after(async () => {
  await direct?.end();
  await gw?.stop();
  await new Promise((r) => receiver?.close(r));
  await db?.stop();
});

function psql(key: keyof typeof KEYS, sql: string) {
  return run('psql', ['-X', '-v', 'VERBOSITY=verbose', '-v', 'ON_ERROR_STOP=0', '-A', '-t', '-d', gw.url(), '-c', sql, '-c', 'SELECT 42'], { env: gw.env(key), timeoutMs: 60_000 });
}

async function client(key: keyof typeof KEYS): Promise<pg.Client & { notices: string[] }> {
  const c = Object.assign(new pg.Client(gw.pgConfig(key)), { notices: [] as string[] });
  c.on('error', () => undefined);
  c.on('notice', (n) => c.notices.push(n.message ?? ''));
  await c.connect();
  return c;
}

async function balance(id: number): Promise<number> {
  return (await direct.query('SELECT balance FROM accounts WHERE id = $1', [id])).rows[0].balance;
}

test('psql: hold, then approve — the waiting client gets its rows and the session goes on', async () => {
  const sql = 'UPDATE accounts SET balance = 0 WHERE id = 1 RETURNING id, balance';
  const running = psql('agent', sql);
  const req = await pendingFor(gw, 'alice', sql);
  assert.equal(req.requester.subject, 'key:agent');
  assert.deepEqual(req.requester.groups, ['agents']);
  assert.equal(req.rule, 'hold-writes');
  assert.equal(req.facts.kind, 'write');
  assert.deepEqual(req.facts.tables, ['accounts']);
  assert.equal(req.requester.application_name, 'psql');
  // Nothing ran while it waited.
  assert.equal(await balance(1), 10);
  await gw.gateway.approvals!.settle();
  assert.equal((await api(gw, 'alice', `/api/approvals/${req.id}`)).json.estimated_rows, 1);

  const voted = await vote(gw, 'alice', req.id, 'approve', 'ticket OPS-1');
  assert.equal(voted.status, 200);
  const r = await running;
  assert.equal(r.stdout.trim(), '1|0\nUPDATE 1\n42');
  assert.match(r.stderr, new RegExp(`NOTICE: {2}01000: awaiting approval: request ${req.id} at http://127\\.0\\.0\\.1:\\d+/api/approvals/${req.id}`));
  assert.equal(await balance(1), 0);
  assert.equal((await api(gw, 'alice', `/api/approvals/${req.id}`)).json.status, 'used');

  // The statement's audit event carries who approved it.
  await gw.gateway.recorder!.store.flush();
  const rows = await gw.gateway.recorder!.store.scan(0, 10_000);
  const ev = rows.map((x) => JSON.parse(x.body)).find((e) => e.type === 'statement' && e.sql === sql);
  assert.equal(ev.decision.action, 'allow');
  assert.deepEqual({ approver: ev.approval.approver, decision: ev.approval.decision }, { approver: 'key:alice', decision: 'approved' });
  assert.match(ev.approval.comment, new RegExp(`request ${req.id}: ticket OPS-1`));
  // The result records how long the statement waited for the reviewer.
  const result = rows.map((x) => JSON.parse(x.body)).find((e) => e.type === 'statement.result' && e.statement === ev.statement && e.session === ev.session);
  assert.ok(result.timings.approvalWaitMs > 0, `approval wait recorded: ${result.timings.approvalWaitMs}`);
});

test('pg: hold, then deny — 42501 with the reviewer\'s reason; the connection stays healthy', async () => {
  const c = await client('agent');
  try {
    const sql = 'DELETE FROM accounts WHERE id = $1';
    const pending = c.query(sql, [2]).then(
      () => assert.fail('the denied statement ran'),
      (e: { code?: string; message: string }) => e,
    );
    const req = await pendingFor(gw, 'bob', sql);
    // The reviewer decides on the values the statement would run with.
    assert.deepEqual(req.params, ['2']);
    assert.match(c.notices.join('\n'), new RegExp(`awaiting approval: request ${req.id}`));
    assert.equal((await vote(gw, 'bob', req.id, 'deny', 'not during business hours')).status, 200);
    const e = await pending;
    assert.equal(e.code, '42501');
    assert.match(e.message, new RegExp(`request ${req.id} was denied by key:bob: not during business hours`));
    assert.equal((await c.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n, 50);
    // A denied request cannot be approved later.
    const late = await vote(gw, 'alice', req.id, 'approve');
    assert.equal(late.status, 409);
    assert.match(late.json.error.message, /is denied; only pending requests can be decided/);
  } finally {
    await c.end();
  }
});

test('hold timeout: 42501 saying nobody approved in time; the request is expired', async () => {
  const sql = "INSERT INTO ledger (note) VALUES ('waits too long')";
  const r = await psql('agent', sql);
  assert.match(r.stderr, /ERROR: {2}42501: refused by Portcullis: request [0-9a-f-]{36} was not approved within 2 s \(0 of 1 approval\); the statement did not run/);
  assert.equal(r.stdout.trim(), '42');
  assert.equal((await direct.query('SELECT count(*)::int AS n FROM ledger')).rows[0].n, 0);
  const expired = (await api(gw, 'alice', '/api/approvals?status=expired')).json.approvals.find((a: { sql: string }) => a.sql === sql);
  assert.ok(expired);
  assert.equal((await vote(gw, 'alice', expired.id, 'approve')).status, 409);
});

test('nobody approves their own request; approvers must be in an approver group', async () => {
  const c = await client('selfish');
  try {
    const sql = 'UPDATE accounts SET balance = 7 WHERE id = 3';
    const pending = c.query(sql);
    const req = await pendingFor(gw, 'alice', sql);
    const self = await vote(gw, 'selfish', req.id, 'approve');
    assert.equal(self.status, 403);
    assert.match(self.json.error.message, /cannot decide your own request/);
    const outsider = await vote(gw, 'mallory', req.id, 'approve');
    assert.equal(outsider.status, 403);
    assert.match(outsider.json.error.message, /only members of dba may decide/);
    // Outsiders do not see the request at all.
    assert.equal((await api(gw, 'mallory', `/api/approvals/${req.id}`)).status, 404);
    assert.equal((await api(gw, 'mallory', '/api/approvals')).json.approvals.length, 0);
    assert.equal(await balance(3), 30);
    await vote(gw, 'alice', req.id, 'approve');
    assert.equal((await pending).rowCount, 1);
    assert.equal(await balance(3), 7);
  } finally {
    await c.end();
  }
});

test('two approvals required: one vote keeps it waiting, a second approver releases it', async () => {
  const c = await client('agent');
  try {
    const sql = 'INSERT INTO transfers (amount) VALUES (500)';
    let done = false;
    const pending = c.query(sql).finally(() => (done = true));
    const req = await pendingFor(gw, 'alice', sql);
    assert.equal((await vote(gw, 'alice', req.id, 'approve')).json.status, 'pending');
    // The same person twice is still one vote.
    assert.equal((await vote(gw, 'alice', req.id, 'approve')).json.status, 'pending');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(done, false);
    // A held statement spends its grant the moment it is released.
    assert.equal((await vote(gw, 'bob', req.id, 'approve')).json.status, 'used');
    assert.equal((await pending).rowCount, 1);
    assert.equal((await direct.query('SELECT count(*)::int AS n FROM transfers')).rows[0].n, 1);
  } finally {
    await c.end();
  }
});

test('a cancel withdraws the held request', async () => {
  const c = await client('agent');
  try {
    const sql = 'UPDATE accounts SET balance = 1 WHERE id = 4';
    const pending = c.query(sql).then(
      () => assert.fail('ran'),
      (e: { code?: string; message: string }) => e,
    );
    const req = await pendingFor(gw, 'alice', sql);
    await sendCancel(c);
    const e = await pending;
    assert.equal(e.code, '42501');
    assert.match(e.message, /withdrawn: the client cancelled/);
    assert.equal((await api(gw, 'alice', `/api/approvals/${req.id}`)).json.status, 'withdrawn');
    assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    await c.end();
  }
});

test('the webhook receives the request, signed with HMAC-SHA256 over timestamp and body', async () => {
  await gw.gateway.approvals!.settle();
  const d = deliveries.find((x) => x.headers['x-portcullis-event'] === 'approval.requested' && JSON.parse(x.body).request.summary.sql.startsWith('UPDATE accounts SET balance = 0'));
  assert.ok(d, 'no delivery for the first request');
  const ts = d.headers['x-portcullis-timestamp'] as string;
  assert.equal(d.headers['x-portcullis-signature'], signature(SECRET, ts, d.body));
  const body = JSON.parse(d.body);
  assert.equal(body.event, 'approval.requested');
  assert.equal(body.request.summary.estimatedRows, 1);
  assert.match(body.url, /\/api\/approvals\/[0-9a-f-]{36}$/);
  assert.equal(body.request.fingerprint, undefined);
  assert.ok(deliveries.some((x) => x.headers['x-portcullis-event'] === 'approval.denied'));
});

/** A CancelRequest for this client's session, as libpq would send it. */
async function sendCancel(c: pg.Client): Promise<void> {
  const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
  const net = await import('node:net');
  const buf = Buffer.alloc(16);
  buf.writeInt32BE(16, 0);
  buf.writeInt32BE(80877102, 4);
  buf.writeInt32BE(processID, 8);
  buf.writeInt32BE(secretKey, 12);
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(gw.port, '127.0.0.1', () => s.end(buf));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}
