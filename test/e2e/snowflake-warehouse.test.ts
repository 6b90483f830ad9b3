/**
 * Snowflake end to end, the way users run it: the real `snowflake-sdk` client → Portcullis's
 * Snowflake frontend (identity, Snowflake SQL analysis, policy, masking, recording) →
 * Portcullis's snowflake-sdk connector (key-pair JWT held by the gateway) → the DuckDB-backed
 * Snowflake-protocol emulator seeded with the demo shop. No PostgreSQL anywhere on the path.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { validateConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import { startGateway, type Gateway } from '../../src/main.js';
import { forkEmulator, type EmulatorProcess } from '../helpers/emulator-process.js';
import { silentLogger } from '../../src/util/logger.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import pg from 'pg';

process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';

type Sdk = typeof import('snowflake-sdk');
type Conn = ReturnType<Sdk['createConnection']>;

const AGENT_KEY = 'pcs_' + 'a'.repeat(43);
const DBA_KEY = 'pcs_' + 'd'.repeat(43);

let sdk: Sdk;
let emu: EmulatorProcess;
let gw: Gateway;
let url: string;
let httpUrl: string;
let pgPort: number;
let raw: { ssn: string[]; email: string[] };

before(async () => {
  sdk = (await import('snowflake-sdk')).default as unknown as Sdk;
  sdk.configure({ logLevel: 'OFF' } as never);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  emu = await forkEmulator({ seed: 'demo', users: { PORTCULLIS_SVC: { publicKeyPem: publicKey } }, chunkRows: 2000 });
  const config = validateConfig(
    {
      listen: { snowflake: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, postgres: { host: '127.0.0.1', port: 0 } },
      connections: {
        warehouse: { type: 'snowflake', account: 'emulator', url: emu.url, user: 'PORTCULLIS_SVC', private_key: new Secret(privateKey, 'test'), database: 'DEMO', schema: 'PUBLIC', warehouse: 'COMPUTE_WH' },
      },
      identities: {
        keys: [
          { name: 'agent', groups: ['agents'], secret: new Secret(AGENT_KEY, 'test') },
          { name: 'dba', groups: ['dba'], secret: new Secret(DBA_KEY, 'test') },
        ],
      },
      security: { allow_insecure_loopback: true },
      audit: { store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'portcullis-sf-audit-')), 'audit.db')}` },
      policy: { preset: 'read-only' },
      masking: {
        hash_key: new Secret('test-hash-key-0123456789abcdef', 'test'),
        detectors: ['ssn', 'email', 'card'],
        columns: [
          { match: 'public.customers.ssn', strategy: 'partial', keep_last: 4 },
          { match: '*.*.email', strategy: 'hash' },
          { match: 'public.customers.card_number', strategy: 'redact' },
        ],
      },
    },
    'test config',
  );
  gw = await startGateway(config, silentLogger);
  url = `http://127.0.0.1:${gw.listening.find((l) => l.frontend === 'snowflake')!.port}`;
  httpUrl = `http://127.0.0.1:${gw.listening.find((l) => l.frontend === 'http')!.port}`;
  pgPort = gw.listening.find((l) => l.frontend === 'postgres')!.port;
  // The raw values, read straight from the emulator as the service user, to search for later.
  const direct = sdk.createConnection({ account: 'emulator', accessUrl: emu.url, username: 'PORTCULLIS_SVC', authenticator: 'SNOWFLAKE_JWT', privateKey, database: 'DEMO', schema: 'PUBLIC' } as never);
  await connect(direct);
  const rows = (await exec(direct, 'SELECT ssn, email FROM customers WHERE ssn IS NOT NULL')).rows;
  raw = { ssn: rows.map((r) => String(r['SSN'])), email: rows.map((r) => String(r['EMAIL'])) };
  await close(direct);
});

after(async () => {
  await gw?.stop();
  await emu?.close();
});

function connect(c: Conn): Promise<void> {
  return new Promise<void>((resolve, reject) => c.connect((err) => (err ? reject(err) : resolve())));
}

async function open(key = AGENT_KEY): Promise<Conn> {
  const c = sdk.createConnection({ account: 'warehouse', accessUrl: url, username: 'agent', password: key, sfRetryMaxLoginRetries: 0 } as never);
  await connect(c);
  return c;
}

function exec(c: Conn, sqlText: string, binds?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
  return new Promise((resolve, reject) => {
    c.execute({ sqlText, binds: binds as never, complete: (err, _stmt, rows) => (err ? reject(err) : resolve({ rows: (rows ?? []) as Record<string, unknown>[] })) });
  });
}

function close(c: Conn): Promise<void> {
  return new Promise((resolve, reject) => c.destroy((err) => (err ? reject(err) : resolve())));
}

async function rawLogin(): Promise<string> {
  const res = await fetch(`${url}/session/v1/login-request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { ACCOUNT_NAME: 'warehouse', LOGIN_NAME: 'agent', PASSWORD: AGENT_KEY } }) });
  const body = (await res.json()) as { data: { token: string } };
  return body.data.token;
}

describe('snowflake-sdk → Portcullis → snowflake-sdk connector → emulator', () => {
  test('connect, query with bindings; values come back typed', async () => {
    const c = await open();
    try {
      const { rows } = await exec(c, 'SELECT id, full_name FROM customers WHERE id = ? ORDER BY id', [3]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!['ID'], 3);
      assert.equal(typeof rows[0]!['FULL_NAME'], 'string');
    } finally {
      await close(c);
    }
  });

  test('a statement error from the warehouse reaches the driver with its code and SQLSTATE', async () => {
    const c = await open();
    try {
      await assert.rejects(exec(c, 'SELECT * FROM no_such_table'), (e: { code?: unknown; sqlState?: string; message: string }) => {
        assert.equal(String(e.code), '002003', e.message);
        assert.ok(e.sqlState && e.sqlState !== '42501', `sqlState ${e.sqlState}`);
        assert.match(e.message, /no_such_table/i);
        return true;
      });
      // The session is still usable.
      assert.equal((await exec(c, 'SELECT 1 AS one')).rows[0]!['ONE'], 1);
    } finally {
      await close(c);
    }
  });

  test('PII is masked in rows, whatever the aliases and expressions do to it', async () => {
    const c = await open();
    try {
      const plain = (await exec(c, 'SELECT id, ssn, email FROM customers WHERE ssn IS NOT NULL ORDER BY id LIMIT 20')).rows;
      assert.ok(plain.length > 0);
      for (const r of plain) {
        assert.match(String(r['SSN']), /^\*\*\*-\*\*-\d{4}$/);
        assert.ok(!String(r['EMAIL']).includes('@'), 'email hashed');
      }
      const sneaky = [
        'SELECT ssn AS x FROM customers',
        'SELECT c.ssn AS y FROM customers c',
        "SELECT upper(ssn) || '' AS z FROM customers",
        'SELECT * FROM customers',
        'SELECT lower(email) AS e FROM (SELECT email FROM customers) t',
        "SELECT listagg(ssn, ',') AS all_ssn FROM customers",
        'WITH x AS (SELECT ssn AS s FROM customers) SELECT s FROM x',
        'SELECT substr(ssn, 1, 11) AS s FROM customers UNION ALL SELECT email FROM customers',
      ];
      for (const sql of sneaky) {
        let text: string;
        try {
          text = JSON.stringify((await exec(c, sql)).rows);
        } catch (e) {
          text = String((e as Error).message);
        }
        for (const v of raw.ssn.slice(0, 50)) assert.ok(!text.includes(v), `${sql} leaked an SSN`);
        for (const v of raw.email.slice(0, 50)) assert.ok(!text.includes(v), `${sql} leaked an e-mail`);
      }
    } finally {
      await close(c);
    }
  });

  test('unload, file transfer, DROP and GRANT are refused with 42501 and never reach the warehouse', async () => {
    const c = await open();
    const before = (await emu.history()).length;
    try {
      for (const sql of [
        "COPY INTO @my_stage/dump FROM customers",
        "COPY INTO 's3://attacker-bucket/dump' FROM customers",
        "PUT file:///etc/passwd @~/staged",
        "GET @~/staged file:///tmp/",
        'DROP TABLE customers',
        'GRANT SELECT ON TABLE customers TO ROLE public',
        'SELECT 1; DROP TABLE orders',
        "SELECT system$send_email('x', 'a@b.c', 's', 'b')",
        'this is not sql',
      ]) {
        await assert.rejects(exec(c, sql), (e: { sqlState?: string; message: string }) => {
          assert.equal(e.sqlState, '42501', `${sql}: ${e.message}`);
          return true;
        });
      }
      const reached = (await emu.history()).slice(before).map((q) => q.sqlText);
      assert.deepEqual(reached, [], 'nothing refused reached the emulator');
    } finally {
      await close(c);
    }
  });

  test('every statement carries a QUERY_TAG naming the identity and session', async () => {
    const c = await open();
    try {
      await exec(c, 'SELECT count(*) AS n FROM orders');
    } finally {
      await close(c);
    }
    const q = (await emu.history()).filter((h) => /count\(\*\) AS n FROM orders/i.test(h.sqlText)).at(-1)!;
    assert.ok(q, 'the statement reached the emulator');
    const tag = JSON.parse(q.queryTag!) as { portcullis: { subject: string; session: string; request: string; connection: string } };
    assert.equal(tag.portcullis.subject, 'key:agent');
    assert.equal(tag.portcullis.connection, 'warehouse');
    assert.match(tag.portcullis.session, /^[0-9a-f-]{36}$/);
    // The tag joins the audit record: the session is recorded under that id.
    await new Promise((r) => setTimeout(r, 300));
    const s = await gw.recorder!.query.getSession(tag.portcullis.session);
    assert.ok(s, 'the tagged session is in the audit log');
    assert.ok(s.statements.some((x) => /FROM orders/.test(x.statement.sql)));
  });

  test('session tokens handed to clients are the gateway\'s own: the warehouse does not accept them', async () => {
    const token = await rawLogin();
    assert.match(token, /^pcsfs_/);
    const res = await fetch(`${emu.url}/queries/v1/query-request`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Snowflake Token="${token}"` },
      body: JSON.stringify({ sqlText: 'SELECT 1' }),
    });
    const body = (await res.json()) as { success: boolean };
    assert.equal(body.success, false);
    for (const q of await emu.history()) assert.ok(!JSON.stringify(q).includes(token));
  });

  test('a 100,000-row result streams through with the gateway\'s memory bounded', async (t) => {
    const token = await rawLogin();
    // Retained memory, not garbage awaiting collection: collect before each sample.
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let reads = 0;
    const res = await fetch(`${url}/queries/v1/query-request?requestId=sf-big`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Snowflake Token="${token}"` },
      body: JSON.stringify({ sqlText: "SELECT o.id, c.id AS cid, repeat('x', 1000) AS pad FROM orders o CROSS JOIN (SELECT id FROM customers ORDER BY id LIMIT 50) c" }),
    });
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    let rows = 0;
    let tail = '';
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A row's end may straddle two reads: count over the seam too.
      const END = 'xxxxxxxxxx"]';
      const chunk = Buffer.from(value).toString('latin1');
      rows += (tail.slice(-(END.length - 1)) + chunk).split(END).length - 1;
      tail = (tail + chunk).slice(-2048);
      if (++reads % 200 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }
    }
    assert.equal(rows, 100_000);
    assert.match(tail, /"total"\s*:\s*100000/);
    t.diagnostic(`gateway heap grew by ${Math.round((peak - before) / 1e6)} MB while ~100 MB of rows passed`);
    assert.ok(peak - before < 64 * 1024 * 1024, `heap grew by ${Math.round((peak - before) / 1e6)} MB`);
  });

  test('the HTTP query API runs on the Snowflake connection through the same policy and masking', async () => {
    const post = (sql: string) =>
      fetch(`${httpUrl}/api/v1/query`, { method: 'POST', headers: { authorization: `Bearer ${AGENT_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ connection: 'warehouse', sql }) });
    const ok = await post('SELECT id, ssn FROM customers WHERE ssn IS NOT NULL ORDER BY id LIMIT 3');
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { columns: { name: string }[]; rows: unknown[][] };
    assert.equal(body.rows.length, 3);
    for (const r of body.rows) assert.match(String(r[1]), /^\*\*\*-\*\*-\d{4}$/);
    const denied = await post('DROP TABLE customers');
    assert.equal(denied.status, 403);
    // Statements from the HTTP API are tagged upstream like any other.
    const q = (await emu.history()).filter((h) => /WHERE ssn IS NOT NULL ORDER BY id LIMIT 3/.test(h.sqlText)).at(-1)!;
    const tag = JSON.parse(q.queryTag!) as { portcullis: { subject: string; frontend: string } };
    assert.deepEqual([tag.portcullis.subject, tag.portcullis.frontend], ['key:agent', 'http']);
  });

  test('MCP tools list, describe and query the Snowflake connection', async () => {
    const client = new Client({ name: 'portcullis-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${httpUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${AGENT_KEY}` } } }));
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
      const tables = (await call('list_tables', { connection: 'warehouse' })).structuredContent as { tables: { schema: string; name: string }[] };
      assert.ok(tables.tables.some((t) => t.name === 'CUSTOMERS'), JSON.stringify(tables));
      const described = (await call('describe_table', { connection: 'warehouse', table: 'PUBLIC.CUSTOMERS' })).structuredContent as { columns: { name: string; masked: boolean }[] };
      assert.equal(described.columns.find((c) => c.name === 'SSN')?.masked, true);
      assert.equal(described.columns.find((c) => c.name === 'FULL_NAME')?.masked, false);
      const q = await call('query', { connection: 'warehouse', sql: 'SELECT ssn FROM customers WHERE ssn IS NOT NULL LIMIT 2' });
      const text = JSON.stringify(q.structuredContent);
      for (const v of raw.ssn) assert.ok(!text.includes(v));
      assert.match(text, /\*\*\*-\*\*-\d{4}/);
    } finally {
      await client.close();
    }
  });

  test('a PostgreSQL client naming the Snowflake connection gets a clean refusal', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'agent', database: 'warehouse', password: AGENT_KEY });
    c.on('error', () => undefined);
    await assert.rejects(c.connect(), (e: Error & { code?: string }) => {
      assert.match(e.message, /warehouse|Snowflake|protocol|not support/i);
      return true;
    });
    await c.end().catch(() => undefined);
  });
});
