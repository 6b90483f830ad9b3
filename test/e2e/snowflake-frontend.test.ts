/**
 * The Snowflake frontend end to end: the real snowflake-sdk driver (and plain fetch for the SQL
 * API and the attacks) → the gateway's Snowflake listener → the one pipeline → a real
 * PostgreSQL. Connection setup lives in `startTarget` alone, so the same cases can later run
 * against a Snowflake connection.
 */
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = 'true';

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { AUDIENCE, forgeToken, startIdp, type Idp } from '../identity/oidc-harness.js';
import { pendingFor, vote } from '../approvals/harness.js';
import { SnowflakeFrontend } from '../../src/frontends/snowflake/server.js';

type Sdk = typeof import('snowflake-sdk');
type Conn = ReturnType<Sdk['createConnection']>;

let sdk: Sdk;
let t: Target;
const logLines: string[] = [];

const PEOPLE = [
  { id: 1, name: 'Alice Archer', email: 'alice.archer@example.com', ssn: '123-45-6789', salary: 91000 },
  { id: 2, name: 'Bob Baker', email: 'bob.baker@example.org', ssn: '234-56-7890', salary: 82000 },
];

interface Target {
  readonly db: PgCluster;
  readonly idp: Idp;
  readonly gw: TestGateway;
  /** `http://127.0.0.1:PORT` of the Snowflake listener. */
  readonly url: string;
  /** The connection name a driver passes as its account. */
  readonly account: string;
  stop(): Promise<void>;
}

/**
 * The one place that knows what is behind the gateway: a throwaway PostgreSQL with the test
 * tables, an OpenID provider, and a gateway with the Snowflake listener, masking, approvals
 * and a policy. Everything else talks only to `url` and `account`.
 */
async function startTarget(): Promise<Target> {
  const db = await startPostgres();
  await db.exec(`
    CREATE TABLE customers (id int PRIMARY KEY, name text, email text, ssn text, salary int, born date);
    ${PEOPLE.map((p) => `INSERT INTO customers VALUES (${p.id}, '${p.name}', '${p.email}', '${p.ssn}', ${p.salary}, '1990-01-0${p.id}');`).join('\n')}
    CREATE TABLE secrets (id int, payload text);
    CREATE TABLE ledger (id serial PRIMARY KEY, note text);
    CREATE TABLE capped (id int);
    INSERT INTO capped SELECT generate_series(1, 5);
  `);
  const idp = await startIdp();
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }));
  const gw = await startTestGateway(db, {
    http: true,
    logger,
    keys: { agent: ['agents'], other: ['agents'], dba: ['dba'], capper: ['cappers'] },
    identities: { oidc: [{ issuer: idp.issuer, audience: AUDIENCE, groups_claim: 'groups', allow_http: true }] },
    policy: {
      rules: [
        { name: 'no-secrets', what: { tables: ['secrets', '*.secrets'] }, action: 'deny', reason: 'the secrets table is off limits for agents' },
        { name: 'cappers-capped', who: { groups: ['cappers'] }, what: { kinds: ['read'] }, action: 'allow', max_rows: 2 },
        { name: 'agents-read', who: { groups: ['agents', 'analysts'] }, what: { kinds: ['read'] }, action: 'allow' },
        { name: 'ledger-held', who: { groups: ['agents'] }, what: { kinds: ['write'], tables: ['ledger'] }, action: 'review', reason: 'ledger writes need a DBA', review: { approvers: ['dba'], mode: 'hold', timeout: '30s' } },
      ],
    },
    extra: {
      listen: { postgres: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, snowflake: { host: '127.0.0.1', port: 0 } },
      approvals: {},
      masking: {
        hash_key: 'test-hash-key-0123456789',
        detectors: ['ssn', 'email'],
        columns: [
          { match: 'public.customers.ssn', strategy: 'partial', keep_last: 4 },
          { match: 'public.customers.email', strategy: 'hash' },
          { match: 'public.customers.salary', strategy: 'redact' },
        ],
      },
    },
  });
  const l = gw.gateway.listening.find((x) => x.frontend === 'snowflake')!;
  return {
    db,
    idp,
    gw,
    url: `http://127.0.0.1:${l.port}`,
    account: 'main',
    stop: async () => {
      await gw.stop();
      await idp.stop();
      await db.stop();
    },
  };
}

before(async () => {
  sdk = (await import('snowflake-sdk')).default as unknown as Sdk;
  sdk.configure({ logLevel: 'OFF' } as never);
  t = await startTarget();
});
after(async () => {
  await t?.stop();
});

async function open(o: { key?: string; token?: string; url?: string } = {}): Promise<Conn> {
  const c = sdk.createConnection({
    account: t.account,
    accessUrl: o.url ?? t.url,
    username: 'agent',
    ...(o.token !== undefined ? { authenticator: 'OAUTH', token: o.token } : { password: o.key ?? t.gw.keys.agent! }),
    sfRetryMaxLoginRetries: 0,
  } as never);
  // connectAsync reports a refused login only to its callback; connect() is the reliable form.
  await new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
  return c;
}

function exec(c: Conn, sqlText: string, binds?: unknown[]): Promise<{ rows: Record<string, unknown>[]; stmt: { getColumns(): { getType(): string; getName(): string }[]; getNumUpdatedRows(): number; getQueryId(): string } }> {
  return new Promise((resolve, reject) => {
    c.execute({ sqlText, binds: binds as never, complete: (err, stmt, rows) => (err ? reject(err) : resolve({ rows: (rows ?? []) as Record<string, unknown>[], stmt: stmt as never })) });
  });
}

function close(c: Conn): Promise<void> {
  return new Promise((resolve, reject) => c.destroy((err) => (err ? reject(err) : resolve())));
}

/** Raw driver-protocol calls for the cases a well-behaved driver never makes. */
async function rawLogin(credential = t.gw.keys.agent!, url = t.url): Promise<{ token: string; masterToken: string; body: any }> {
  const res = await fetch(`${url}/session/v1/login-request?databaseName=main`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { ACCOUNT_NAME: t.account, LOGIN_NAME: 'agent', PASSWORD: credential } }) });
  const body = (await res.json()) as any;
  return { token: body.data?.token, masterToken: body.data?.masterToken, body };
}

function raw(path: string, token: string | undefined, body?: unknown, init: RequestInit = {}, url = t.url): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: body === undefined && init.method === undefined ? 'GET' : (init.method ?? 'POST'),
    ...init,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Snowflake Token="${token}"` } : {}), ...(init.headers as Record<string, string> | undefined) },
    ...(body === undefined ? {} : { body: typeof body === 'string' || body instanceof Uint8Array ? (body as never) : JSON.stringify(body) }),
  });
}

describe('snowflake-sdk through the gateway', () => {
  test('connect with a service key, query with bindings, typed values come back', async () => {
    const c = await open();
    try {
      const { rows, stmt } = await exec(c, 'SELECT id, name, born FROM customers WHERE id = ? OR name = ? ORDER BY id', [1, 'Bob Baker']);
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.id, 1);
      assert.equal(rows[1]!.name, 'Bob Baker');
      assert.ok(rows[0]!.born instanceof Date);
      assert.equal((rows[0]!.born as Date).toISOString().slice(0, 10), '1990-01-01');
      assert.deepEqual(stmt.getColumns().map((col) => col.getType()), ['fixed', 'text', 'date']);
      assert.match(stmt.getQueryId(), /^[0-9a-f-]{36}$/);
    } finally {
      await close(c);
    }
  });

  test('connect with an OIDC access token (AUTHENTICATOR OAUTH)', async () => {
    const token = await forgeToken(t.idp, { groups: ['analysts'], sub: 'oauth-user' }, 300);
    const c = await open({ token });
    try {
      const { rows } = await exec(c, 'SELECT count(*) AS n FROM customers');
      assert.equal(rows[0]!.N ?? rows[0]!.n, 2);
    } finally {
      await close(c);
    }
  });

  test('a wrong credential is refused with 390100 and says nothing about why', async () => {
    await assert.rejects(open({ key: 'pcs_not-a-real-key' }), (e: { code?: string; message: string }) => {
      assert.equal(String(e.code), '390100');
      assert.doesNotMatch(e.message, /pcs_not-a-real-key/);
      return true;
    });
  });

  test('a statement error from the database carries its SQLSTATE and a Snowflake code', async () => {
    const c = await open();
    try {
      await assert.rejects(exec(c, 'SELECT * FROM no_such_table'), (e: { code?: string; sqlState?: string; message: string }) => {
        assert.equal(e.sqlState, '42P01');
        assert.equal(String(e.code), '002003');
        assert.match(e.message, /no_such_table/);
        return true;
      });
      // The session goes on.
      assert.equal((await exec(c, 'SELECT 1 AS one')).rows[0]!.one, 1);
    } finally {
      await close(c);
    }
  });

  test('a denied statement: success false, 42501, the rule and the reason; nothing runs', async () => {
    const c = await open();
    try {
      await assert.rejects(exec(c, 'SELECT * FROM secrets'), (e: { code?: string; sqlState?: string; message: string }) => {
        assert.equal(e.sqlState, '42501');
        assert.equal(String(e.code), '003001');
        assert.match(e.message, /no-secrets/);
        assert.match(e.message, /off limits/);
        return true;
      });
      await assert.rejects(exec(c, 'DROP TABLE customers'), (e: { sqlState?: string }) => e.sqlState === '42501');
      assert.equal((await t.db.exec('SELECT count(*) FROM customers')).trim(), '2');
    } finally {
      await close(c);
    }
  });

  test('masked PII: rules replace values, and a masked number becomes text', async () => {
    const c = await open();
    try {
      const { rows, stmt } = await exec(c, 'SELECT id, email, ssn, salary FROM customers ORDER BY id');
      const types = Object.fromEntries(stmt.getColumns().map((col) => [col.getName(), col.getType()]));
      assert.equal(types.id, 'fixed');
      assert.equal(types.salary, 'text');
      for (const [i, p] of PEOPLE.entries()) {
        const r = rows[i]!;
        assert.notEqual(r.email, p.email);
        assert.notEqual(r.ssn, p.ssn);
        assert.match(String(r.ssn), /6789$|7890$/);
        assert.notEqual(String(r.salary), String(p.salary));
      }
      const all = JSON.stringify(rows);
      for (const p of PEOPLE) for (const v of [p.email, p.ssn]) assert.ok(!all.includes(v), `raw ${v} leaked`);
    } finally {
      await close(c);
    }
  });

  test('statements are recorded in the audit store under the Snowflake frontend', async () => {
    const c = await open();
    const marker = `select 'audit-marker-${Date.now()}' AS m`;
    try {
      await exec(c, marker);
      await assert.rejects(exec(c, 'SELECT payload FROM secrets'));
    } finally {
      await close(c);
    }
    await new Promise((r) => setTimeout(r, 400));
    const q = t.gw.gateway.recorder!.query;
    const page = await q.listSessions({ user: 'key:agent' }, { limit: 50 });
    const details = await Promise.all(page.items.map(async (s) => (await q.getSession(s.id, { limit: 100 }))!));
    const mine = details.find((s) => s.statements.some((st) => st.statement.sql === marker));
    assert.ok(mine, 'the session with the marker statement is recorded');
    assert.equal(mine.summary.connection, 'main');
    const [sel, denied] = mine.statements;
    assert.equal(sel!.statement.decision.action, 'allow');
    assert.equal(denied!.statement.decision.action, 'deny');
    assert.ok(mine.end, 'logout ends the recorded session');
  });

  test('session tokens are the gateway\'s own: random, never a credential or anything upstream', async () => {
    // Every byte the driver receives passes a tap, so the tokens are read as the client got them.
    const received: Buffer[] = [];
    const port = Number(new URL(t.url).port);
    const tap = createServer((client) => {
      const up = connect(port, '127.0.0.1');
      client.pipe(up);
      up.on('data', (d: Buffer) => received.push(Buffer.from(d)));
      up.pipe(client);
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
    const c = await open({ url: `http://127.0.0.1:${(tap.address() as AddressInfo).port}` });
    try {
      await exec(c, 'SELECT 1 AS one');
    } finally {
      await close(c);
      tap.close();
    }
    const text = Buffer.concat(received).toString('utf8');
    const token = /"token":"([^"]+)"/.exec(text)?.[1];
    const masterToken = /"masterToken":"([^"]+)"/.exec(text)?.[1];
    assert.match(token ?? '', /^pcsfs_[A-Za-z0-9_-]{43}$/);
    assert.match(masterToken ?? '', /^pcsfm_[A-Za-z0-9_-]{43}$/);
    for (const secret of [...Object.values(t.gw.keys), t.db.password]) assert.ok(!text.includes(secret), 'a credential reached the client');
    const again = await rawLogin();
    assert.notEqual(again.token, token);
    assert.notEqual(again.masterToken, masterToken);
  });

  test('100,000 rows stream through in one inline, chunked JSON response', async () => {
    const c = await open();
    try {
      const { rows } = await exec(c, 'SELECT generate_series(1, 100000) AS n');
      assert.equal(rows.length, 100_000);
      assert.equal(rows[0]!.n, 1);
      assert.equal(rows[99_999]!.n, 100_000);
    } finally {
      await close(c);
    }
    // On the wire: chunked, no Content-Length, no chunk URLs, and the gateway's heap stays small.
    const { token } = await rawLogin();
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    // ~100 MB of rows: a gateway that held the result would show it in its heap (same process).
    const res = await raw('/queries/v1/query-request?requestId=big-1', token, { sqlText: "SELECT n, repeat('x', 1000) AS pad FROM generate_series(1, 100000) AS n" });
    assert.equal(res.headers.get('content-length'), null);
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    let head = '';
    let tail = '';
    let bytes = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      const chunk = Buffer.from(value).toString('latin1');
      if (head.length < 4096) head += chunk.slice(0, 4096);
      tail = (tail + chunk).slice(-4096);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    assert.ok(bytes > 100_000_000, `${bytes} bytes`);
    assert.match(head, /"success"\s*:\s*true|"rowtype"/);
    assert.match(tail, /"total"\s*:\s*100000/);
    assert.ok(!head.includes('"chunks"') && !tail.includes('"chunks"'), 'no chunk URLs');
    assert.ok(peak - before < 64 * 1024 * 1024, `heap grew by ${Math.round((peak - before) / 1e6)} MB`);
  });

  test('writes report their row count; hold mode waits for a reviewer, then runs', async () => {
    const c = await open();
    try {
      const sql = "INSERT INTO ledger (note) VALUES ('approved by a person')";
      const running = exec(c, sql);
      const req = await pendingFor(t.gw, 'dba', sql);
      assert.equal(req.requester.subject, 'key:agent');
      assert.equal((await t.db.exec('SELECT count(*) FROM ledger')).trim(), '0');
      assert.equal((await vote(t.gw, 'dba', req.id, 'approve')).status, 200);
      const { stmt } = await running;
      assert.equal(stmt.getNumUpdatedRows(), 1);
      assert.equal((await t.db.exec('SELECT count(*) FROM ledger')).trim(), '1');

      const denied = "INSERT INTO ledger (note) VALUES ('denied')";
      const waiting = exec(c, denied);
      const req2 = await pendingFor(t.gw, 'dba', denied);
      await vote(t.gw, 'dba', req2.id, 'deny', 'not today');
      await assert.rejects(waiting, (e: { sqlState?: string; message: string }) => e.sqlState === '42501');
    } finally {
      await close(c);
    }
  });

  test('logout ends the session; its token is then refused with 390104', async () => {
    const { token } = await rawLogin();
    const out = await raw('/session?delete=true', token, {});
    assert.equal(((await out.json()) as any).success, true);
    const after = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1' })).json()) as any;
    assert.equal(after.success, false);
    assert.equal(after.code, '390104');
  });
});

describe('describeOnly (JDBC prepareStatement, driver describe)', () => {
  test('a read policy allows is described with its columns and no rows; a write is described without running; a refused read is refused', async () => {
    const { token } = await rawLogin();
    const d = (await (await raw('/queries/v1/query-request', token, { sqlText: 'SELECT id, name, ssn FROM customers', describeOnly: true })).json()) as any;
    assert.equal(d.success, true, JSON.stringify(d));
    assert.deepEqual(d.data.rowtype.map((c: { name: string }) => c.name.toLowerCase()), ['id', 'name', 'ssn']);
    assert.equal(d.data.rowtype[2].type, 'text');
    assert.deepEqual(d.data.rowset, []);
    const before = Number((await t.db.exec('SELECT count(*) FROM ledger')).trim());
    const w = (await (await raw('/queries/v1/query-request', token, { sqlText: "INSERT INTO ledger (note) VALUES ('described, never run')", describeOnly: true })).json()) as any;
    assert.equal(w.success, true, JSON.stringify(w));
    assert.equal(Number((await t.db.exec('SELECT count(*) FROM ledger')).trim()), before, 'describing a write runs nothing (nor asks a reviewer)');
    const denied = (await (await raw('/queries/v1/query-request', token, { sqlText: 'SELECT * FROM secrets', describeOnly: true })).json()) as any;
    assert.equal(denied.success, false);
    assert.equal(denied.data.sqlState, '42501');
  });
});

describe('held statements and long ones are polled', () => {
  test('the client hears 333334 at once with the approval request and URL, then polls', async () => {
    const { token } = await rawLogin();
    const sql = "INSERT INTO ledger (note) VALUES ('polled')";
    const first = (await (await raw('/queries/v1/query-request?requestId=held-1', token, { sqlText: sql })).json()) as any;
    assert.equal(first.code, '333334');
    assert.equal(first.success, true);
    assert.match(first.message, /awaiting approval: request [0-9a-f-]{36} at http/);
    assert.equal(first.data.getResultUrl, `/queries/${first.data.queryId}/result`);
    const status = (await (await raw(`/monitoring/queries/${first.data.queryId}`, token)).json()) as any;
    assert.equal(status.data.queries[0].status, 'RUNNING');
    // A retry of the same request id attaches to the same statement instead of running it twice.
    const retry = (await (await raw('/queries/v1/query-request?requestId=held-1', token, { sqlText: sql })).json()) as any;
    assert.equal(retry.data.queryId, first.data.queryId);
    const req = await pendingFor(t.gw, 'dba', sql);
    await vote(t.gw, 'dba', req.id, 'approve');
    const result = (await (await raw(first.data.getResultUrl, token)).json()) as any;
    assert.equal(result.success, true, JSON.stringify(result));
    assert.equal(result.data.rowset[0][0], '1', JSON.stringify(result));
    assert.equal((await t.db.exec("SELECT count(*) FROM ledger WHERE note = 'polled'")).trim(), '1');
  });

  test('abort-request withdraws a held statement', async () => {
    const { token } = await rawLogin();
    const sql = "INSERT INTO ledger (note) VALUES ('withdrawn')";
    const first = (await (await raw('/queries/v1/query-request?requestId=held-2', token, { sqlText: sql })).json()) as any;
    assert.equal(first.code, '333334');
    const abort = (await (await raw('/queries/v1/abort-request', token, { requestId: 'held-2' })).json()) as any;
    assert.equal(abort.success, true);
    const result = (await (await raw(first.data.getResultUrl, token)).json()) as any;
    assert.equal(result.success, false);
    assert.equal(result.code, '000604');
    assert.equal((await t.db.exec("SELECT count(*) FROM ledger WHERE note = 'withdrawn'")).trim(), '0');
  });

  test('a statement longer than the request wait answers 333334 and the driver polls to its rows', async () => {
    const fe = await sideListener({ syncWaitMs: 200 });
    try {
      const c = await open({ url: fe.url });
      try {
        const { rows } = await exec(c, 'SELECT pg_sleep(0.8), 42 AS answer');
        assert.equal(rows[0]!.answer, 42);
      } finally {
        await close(c);
      }
    } finally {
      await fe.close();
    }
  });
});

describe('SQL API v2 with fetch', () => {
  function post(body: unknown, credential = t.gw.keys.agent!, qs = ''): Promise<Response> {
    return fetch(`${t.url}/api/v2/statements${qs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}`, 'x-snowflake-authorization-token-type': 'KEYPAIR_JWT' },
      body: JSON.stringify(body),
    });
  }

  test('a statement with bindings returns jsonv2 rows and metadata', async () => {
    const res = await post({ statement: 'SELECT id, name FROM customers WHERE id = ?', bindings: { '1': { type: 'FIXED', value: '2' } }, database: 'main' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.equal(body.code, '090001');
    assert.equal(body.sqlState, '00000');
    assert.deepEqual(body.data, [['2', 'Bob Baker']]);
    assert.equal(body.resultSetMetaData.numRows, 1);
    assert.equal(body.resultSetMetaData.format, 'jsonv2');
    assert.deepEqual(body.resultSetMetaData.rowType.map((r: { name: string; type: string }) => [r.name, r.type]), [['id', 'fixed'], ['name', 'text']]);
    assert.match(body.statementHandle, /^[0-9a-f-]{36}$/);
    // The handle can be fetched again by its owner, and by nobody else.
    const again = await fetch(`${t.url}/api/v2/statements/${body.statementHandle}`, { headers: { authorization: `Bearer ${t.gw.keys.agent}` } });
    assert.equal(again.status, 200);
    const other = await fetch(`${t.url}/api/v2/statements/${body.statementHandle}`, { headers: { authorization: `Bearer ${t.gw.keys.other}` } });
    assert.equal(other.status, 404);
  });

  test('a result cut by a policy row limit says so in the message, and in the driver protocol too', async () => {
    const res = await post({ statement: 'SELECT id FROM capped ORDER BY id', database: 'main' }, t.gw.keys.capper!);
    assert.equal(res.status, 200);
    const body = (await res.json()) as any;
    assert.deepEqual(body.data, [['1'], ['2']]);
    assert.equal(body.code, '090001');
    assert.match(body.message, /cut to 2 rows by Portcullis policy rule "cappers-capped" \(max_rows\)/);
    const whole = (await (await post({ statement: 'SELECT id FROM capped', database: 'main' })).json()) as any;
    assert.equal(whole.message, 'Statement executed successfully.');
    assert.equal(whole.data.length, 5);
    const c = await open({ key: t.gw.keys.capper! });
    try {
      assert.deepEqual((await exec(c, 'SELECT id FROM capped ORDER BY id')).rows.map((r) => r.id), [1, 2]);
    } finally {
      await close(c);
    }
  });

  test('a denial is 422 with 42501, the rule and the handle', async () => {
    const res = await post({ statement: 'SELECT * FROM secrets' });
    assert.equal(res.status, 422);
    const body = (await res.json()) as any;
    assert.equal(body.sqlState, '42501');
    assert.equal(body.code, '003001');
    assert.match(body.message, /no-secrets/);
    assert.match(body.statementHandle, /^[0-9a-f-]{36}$/);
  });

  test('async=true answers 202 with a status URL; the result follows', async () => {
    const res = await post({ statement: 'SELECT 7 AS seven' }, undefined, '?async=true');
    assert.equal(res.status, 202);
    const body = (await res.json()) as any;
    assert.equal(body.code, '333334');
    const done = await fetch(`${t.url}${body.statementStatusUrl}`, { headers: { authorization: `Bearer ${t.gw.keys.agent}` } });
    assert.equal(done.status, 200);
    assert.deepEqual(((await done.json()) as any).data, [['7']]);
  });

  test('a bad credential is 401; QUERY_TAG is refused', async () => {
    assert.equal((await post({ statement: 'select 1' }, 'pcs_wrong')).status, 401);
    const tag = await post({ statement: 'select 1', parameters: { query_tag: 'forged' } });
    assert.equal(tag.status, 403);
    assert.match(((await tag.json()) as any).message, /QUERY_TAG|query_tag/);
  });
});

describe('attacks', () => {
  test('malformed JSON, a gzip bomb and an oversized body are refused cleanly', async () => {
    const { token } = await rawLogin();
    const bad = (await (await raw('/queries/v1/query-request', token, '{"sqlText": ')).json()) as any;
    assert.equal(bad.success, false);
    assert.match(bad.message, /not valid JSON/);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    const b = (await (await raw('/queries/v1/query-request', token, bomb, { headers: { 'content-encoding': 'gzip' } })).json()) as any;
    assert.equal(b.success, false);
    assert.match(b.message, /larger than/);
    const huge = await raw('/queries/v1/query-request', token, JSON.stringify({ sqlText: 'select 1', pad: 'x'.repeat(9 * 1024 * 1024) }));
    assert.equal(((await huge.json()) as any).success, false);
  });

  test('unknown, forged and another session\'s tokens reach nothing', async () => {
    for (const token of ['pcsfs_' + 'A'.repeat(43), 'ver:1-hint:2-ETMsDgAA', '"><script>']) {
      const r = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1' })).json()) as any;
      assert.equal(r.code, '390104');
    }
    const none = (await (await raw('/queries/v1/query-request', undefined, { sqlText: 'select 1' })).json()) as any;
    assert.equal(none.code, '390104');
    // A query id of one session is unknown to another.
    const a = await rawLogin();
    const b = await rawLogin(t.gw.keys.other!);
    const q = (await (await raw('/queries/v1/query-request?requestId=x1', a.token, { sqlText: 'select 1 AS one', asyncExec: true })).json()) as any;
    const stolen = (await (await raw(`/queries/${q.data.queryId}/result`, b.token)).json()) as any;
    assert.equal(stolen.success, false);
    assert.equal(stolen.code, '000709');
    const mine = (await (await raw(`/queries/${q.data.queryId}/result`, a.token)).json()) as any;
    assert.equal(mine.success, true);
    // A master token is not a session token, and a session token does not renew.
    assert.equal(((await (await raw('/queries/v1/query-request', a.masterToken, { sqlText: 'select 1' })).json()) as any).code, '390104');
    assert.equal(((await (await raw('/session/token-request', a.token, { requestType: 'RENEW' })).json()) as any).code, '390104');
  });

  test('path traversal and odd ids in URLs are not found', async () => {
    const { token } = await rawLogin();
    for (const p of ['/queries/../session/result', '/queries/%2e%2e%2fsession/result', '/monitoring/queries/..%2F..%2Fetc%2Fpasswd', '/api/v2/statements/../../etc', '/queries/00000000-0000-0000-0000-00000000000g/result']) {
      const res = await raw(p, token);
      const body = (await res.json()) as any;
      assert.equal(body.success ?? false, false, p);
      assert.doesNotMatch(JSON.stringify(body), /root:|Error: |at [A-Za-z]+ \(/);
    }
  });

  test('huge and malformed bindings are refused before anything runs', async () => {
    const { token } = await rawLogin();
    const bindings: Record<string, unknown> = {};
    for (let i = 1; i <= 70_000; i++) bindings[String(i)] = { type: 'TEXT', value: 'x' };
    const many = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1', bindings })).json()) as any;
    assert.equal(many.success, false);
    assert.match(many.message, /bind/);
    const gap = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select ?', bindings: { '7': { type: 'TEXT', value: 'x' } } })).json()) as any;
    assert.equal(gap.success, false);
    const array = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select ?', bindings: { '1': { type: 'TEXT', value: ['a', 'b'] } } })).json()) as any;
    assert.match(array.message, /array binds/);
  });

  test('clients cannot set QUERY_TAG or MULTI_STATEMENT_COUNT; output formats pass', async () => {
    const { token } = await rawLogin();
    for (const name of ['QUERY_TAG', 'MULTI_STATEMENT_COUNT', 'query_tag']) {
      const r = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1', parameters: { [name]: 'x' } })).json()) as any;
      assert.equal(r.success, false);
      assert.match(r.message, new RegExp(name, 'i'));
      assert.match(r.message, /ERR_PARAMETER_REFUSED/);
    }
    const ok = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1 AS one', parameters: { DATE_OUTPUT_FORMAT: 'YYYY-MM-DD' } })).json()) as any;
    assert.equal(ok.success, true);
    const login = await fetch(`${t.url}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { ACCOUNT_NAME: 'main', PASSWORD: t.gw.keys.agent, SESSION_PARAMETERS: { QUERY_TAG: 'forged' } } }) });
    assert.equal(((await login.json()) as any).success, false);
  });

  test('an expired session token gets 390112 and the driver renews it with the master token', async () => {
    const fe = await sideListener({ sessions: { sessionValidityMs: 300 } });
    try {
      const { token } = await rawLogin(undefined, fe.url);
      await new Promise((r) => setTimeout(r, 400));
      const expired = (await (await raw('/queries/v1/query-request', token, { sqlText: 'select 1' }, {}, fe.url)).json()) as any;
      assert.equal(expired.code, '390112');
      const c = await open({ url: fe.url });
      try {
        await new Promise((r) => setTimeout(r, 400));
        assert.equal((await exec(c, 'SELECT 5 AS five')).rows[0]!.five, 5);
      } finally {
        await close(c);
      }
    } finally {
      await fe.close();
    }
  });

  test('slow senders are cut off (slowloris)', async () => {
    const fe = await sideListener({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    try {
      const port = Number(new URL(fe.url).port);
      const closedAfter = await new Promise<number>((resolve) => {
        const started = Date.now();
        const s = connect(port, '127.0.0.1', () => s.write('POST /session/v1/login-request HTTP/1.1\r\nHost: x\r\n'));
        s.on('data', () => {});
        s.on('error', () => {});
        s.on('close', () => resolve(Date.now() - started));
      });
      assert.ok(closedAfter < 5000, `closed after ${closedAfter} ms`);
    } finally {
      await fe.close();
    }
  });

  test('which connection: the account names it; an unknown one is refused naming the choices', async () => {
    const res = await fetch(`${t.url}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { ACCOUNT_NAME: 'nope', PASSWORD: t.gw.keys.agent } }) });
    const body = (await res.json()) as any;
    // A single-connection gateway serves any account name.
    assert.equal(body.success, true);
  });

  test('no credential or issued token ever appears in a response or the log', async () => {
    const { token, masterToken, body } = await rawLogin();
    const bad = await rawLogin('pcs_secret-looking-wrong-key');
    const text = logLines.join('');
    for (const secret of [...Object.values(t.gw.keys), token, masterToken, 'pcs_secret-looking-wrong-key', t.db.password]) {
      assert.ok(!text.includes(secret), 'a secret reached the log');
    }
    assert.ok(!JSON.stringify(bad.body).includes('pcs_secret-looking-wrong-key'));
    assert.ok(!JSON.stringify(body).includes(t.gw.keys.agent!));
  });
});

/** A second Snowflake listener on the same gateway with short limits, for timing cases. */
async function sideListener(o: Partial<ConstructorParameters<typeof SnowflakeFrontend>[0]>): Promise<{ url: string; close(): Promise<void> }> {
  const fe = new SnowflakeFrontend({
    host: '127.0.0.1',
    port: 0,
    pipeline: t.gw.gateway.pipeline,
    connectors: t.gw.gateway.connectors,
    allowInsecureLoopback: true,
    maxConnections: 100,
    logger: pino({ level: 'silent' }),
    version: 'test',
    ...o,
  });
  const addr = await fe.listen();
  return { url: `http://127.0.0.1:${addr.port}`, close: () => fe.close() };
}
