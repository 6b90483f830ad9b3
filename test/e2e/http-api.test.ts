/**
 * The HTTP query API end to end with fetch, against a real PostgreSQL behind a real gateway:
 * the same cases as the MCP tests — query, refusal with the reason, row cap, bad input, no
 * credential, an expired token from a real OpenID provider — plus the OpenAPI document.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AUDIENCE, startIdp, type Idp } from '../identity/oidc-harness.js';

let db: PgCluster;
let idp: Idp;
let gw: TestGateway;

before(async () => {
  db = await startPostgres();
  await db.exec(`
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
    INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 3000) g;
    CREATE TABLE secrets (id int, payload text);
  `);
  idp = await startIdp();
  gw = await startTestGateway(db, {
    http: true,
    keys: { 'agent-key': ['analysts'], 'intern-key': ['interns'] },
    identities: { oidc: [{ issuer: idp.issuer, audience: AUDIENCE, groups_claim: 'groups', allow_http: true }] },
    policy: {
      rules: [
        { name: 'no-secrets', what: { tables: ['secrets', '*.secrets'] }, action: 'deny', reason: 'the secrets table is off limits for agents' },
        { name: 'analysts-read', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow' },
        { name: 'inserts-need-review', who: { groups: ['analysts'] }, what: { kinds: ['write'] }, action: 'review', reason: 'writes are checked by a person' },
      ],
    },
  });
});

after(async () => {
  await gw?.stop();
  await idp?.stop();
  await db?.stop();
});

function post(body: unknown, credential: string | undefined = gw.keys['agent-key'], raw = false): Promise<Response> {
  return fetch(`${gw.httpUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}

test('POST /api/v1/query runs a statement with parameters', async () => {
  const res = await post({ connection: 'main', sql: 'SELECT id, name FROM customers WHERE id = $1 OR name = $2 ORDER BY id', params: [7, 'customer 9'] });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /application\/json/);
  assert.deepEqual(await res.json(), {
    columns: [
      { name: 'id', type_oid: 23 },
      { name: 'name', type_oid: 25 },
    ],
    rows: [
      ['7', 'customer 7'],
      ['9', 'customer 9'],
    ],
    row_count: 2,
    command: 'SELECT 2',
    truncated: false,
    decision: { action: 'allow', rule: 'analysts-read' },
    notices: [],
  });
});

test('a denied statement is 403 with the code, the reason and the rule; nothing runs', async () => {
  const res = await post({ connection: 'main', sql: 'DROP TABLE customers' });
  assert.equal(res.status, 403);
  const body = (await res.json()) as { error: { code: string; message: string }; decision: { action: string; rule: string } };
  assert.equal(body.error.code, 'ERR_POLICY_DENIED');
  assert.match(body.error.message, /no policy rule allows/);
  assert.equal(body.decision.action, 'deny');
  const secret = (await (await post({ connection: 'main', sql: 'SELECT * FROM secrets' })).json()) as { error: { message: string }; decision: { rule: string } };
  assert.equal(secret.decision.rule, 'no-secrets');
  assert.match(secret.error.message, /off limits/);
  assert.equal((await db.exec("SELECT to_regclass('customers') IS NOT NULL")).trim(), 't');
});

test('a statement under review is refused with ERR_APPROVAL_REQUIRED while approvals are off', async () => {
  const res = await post({ connection: 'main', sql: "INSERT INTO customers VALUES (5000, 'x')" });
  assert.equal(res.status, 403);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'ERR_APPROVAL_REQUIRED');
  assert.match(body.error.message, /approvals are not configured on this gateway.*writes are checked by a person/);
  assert.equal((await db.exec('SELECT count(*) FROM customers WHERE id = 5000')).trim(), '0');
});

test('rows are capped by max_rows (default 1000) and truncation is stated', async () => {
  const def = (await (await post({ connection: 'main', sql: 'SELECT id FROM customers' })).json()) as { rows: unknown[]; truncated: boolean };
  assert.deepEqual([def.rows.length, def.truncated], [1000, true]);
  const few = (await (await post({ connection: 'main', sql: 'SELECT id FROM customers ORDER BY id', max_rows: 3 })).json()) as { rows: unknown[]; truncated: boolean; row_count: number };
  assert.deepEqual([few.rows, few.truncated, few.row_count], [[['1'], ['2'], ['3']], true, 3]);
});

test('bad input: 400 for invalid JSON or fields, 404 for an unknown connection, 422 for a database error, 413 for a huge body', async () => {
  const bad = await post('{"connection": ', gw.keys['agent-key'], true);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'ERR_PROTOCOL_VIOLATION');
  const fields = await post({ connection: 'main', sql: 'SELECT 1', max_rows: -1, extra: true });
  assert.equal(fields.status, 400);
  assert.match(((await fields.json()) as { error: { message: string } }).error.message, /max_rows.*extra|extra.*max_rows/s);
  const unknown = await post({ connection: 'nowhere', sql: 'SELECT 1' });
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'ERR_UNKNOWN_CONNECTION');
  const failed = await post({ connection: 'main', sql: 'SELECT * FROM no_such_table' });
  assert.equal(failed.status, 422);
  assert.deepEqual(((await failed.json()) as { error: unknown }).error, { code: 'ERR_STATEMENT_FAILED', message: 'relation "no_such_table" does not exist', sqlstate: '42P01' });
  const huge = await post({ connection: 'main', sql: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'` });
  assert.equal(huge.status, 413);
  const text = await fetch(`${gw.httpUrl}/api/v1/query`, { method: 'POST', headers: { authorization: `Bearer ${gw.keys['agent-key']}`, 'content-type': 'text/plain' }, body: 'SELECT 1' });
  assert.equal(text.status, 400);
  const method = await fetch(`${gw.httpUrl}/api/v1/query`, { headers: { authorization: `Bearer ${gw.keys['agent-key']}` } });
  assert.equal(method.status, 405);
  assert.equal(method.headers.get('allow'), 'POST');
});

test('no credential: 401 with WWW-Authenticate pointing at the resource metadata', async () => {
  const res = await post({ connection: 'main', sql: 'SELECT 1' }, '');
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), `Bearer resource_metadata="${gw.httpUrl}/.well-known/oauth-protected-resource"`);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_AUTH_REQUIRED');
  const wrong = await post({ connection: 'main', sql: 'SELECT 1' }, 'pcs_not-a-real-key');
  assert.equal(wrong.status, 401);
  assert.match(wrong.headers.get('www-authenticate')!, /error="invalid_token"/);
  const list = await fetch(`${gw.httpUrl}/api/v1/connections`);
  assert.equal(list.status, 401);
});

test('an OIDC access token works; an expired one gets 401', async () => {
  const token = await idp.token();
  const ok = await post({ connection: 'main', sql: 'SELECT count(*) FROM customers' }, token);
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as { rows: unknown }).rows, [['3000']]);
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ groups: ['analysts'] })
    .setProtectedHeader({ alg: 'RS256', kid: idp.key.kid })
    .setIssuer(idp.issuer)
    .setAudience(AUDIENCE)
    .setSubject('expired-agent')
    .setIssuedAt(now - 600)
    .setExpirationTime(now - 120)
    .sign(idp.key.privateKey);
  const res = await post({ connection: 'main', sql: 'SELECT 1' }, expired);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate')!, /invalid_token/);
});

test('GET /api/v1/connections, /healthz and /api/openapi.json', async () => {
  const list = await fetch(`${gw.httpUrl}/api/v1/connections`, { headers: { authorization: `Bearer ${gw.keys['intern-key']}` } });
  assert.deepEqual(await list.json(), { connections: [{ name: 'main', type: 'postgres' }] });
  const health = await fetch(`${gw.httpUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
  const doc = (await (await fetch(`${gw.httpUrl}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown>; servers: { url: string }[] };
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp', '/api/v1/connections', '/api/v1/query', '/api/v1/sessions', '/api/v1/sessions/{id}', '/healthz']);
  assert.equal(doc.servers[0]!.url, gw.httpUrl);
  const missing = await fetch(`${gw.httpUrl}/nope`);
  assert.equal(missing.status, 404);
});

test('a caller that goes away has its statement cancelled upstream', async () => {
  const ac = new AbortController();
  const res = fetch(`${gw.httpUrl}/api/v1/query`, {
    method: 'POST',
    signal: ac.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.keys['agent-key']}` },
    body: JSON.stringify({ connection: 'main', sql: 'SELECT pg_sleep(30), 1 AS marker' }),
  }).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 300));
  ac.abort();
  await res;
  const deadline = Date.now() + 5000;
  for (;;) {
    const n = (await db.exec("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30), 1 AS marker%'")).trim();
    if (n === '0') break;
    assert.ok(Date.now() < deadline, 'the abandoned statement is still running upstream');
    await new Promise((r) => setTimeout(r, 100));
  }
});
