/**
 * MCP end to end with the real SDK client: Streamable HTTP at /mcp and stdio
 * (`portcullis mcp`), against a real PostgreSQL behind a real gateway, with service keys and
 * tokens from a real OpenID provider. Every tool call goes through the pipeline: policy
 * decides, refusals are error results with the reason, results are capped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { gatewayConfig, startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { AUDIENCE, startIdp, type Idp, forgeToken } from '../identity/oidc-harness.js';

let db: PgCluster;
let idp: Idp;
let gw: TestGateway;
let log = '';
const tokens: string[] = [];

const options = (issuer: string): TestGatewayOptions => ({
  http: true,
  keys: { 'agent-key': ['analysts'], 'intern-key': ['interns'] },
  identities: { oidc: [{ issuer, audience: AUDIENCE, groups_claim: 'groups', allow_http: true }] },
  policy: {
    rules: [
      { name: 'no-secrets', what: { tables: ['secrets', '*.secrets'] }, action: 'deny', reason: 'the secrets table is off limits for agents' },
      { name: 'analysts-read', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow' },
    ],
  },
});

before(async () => {
  db = await startPostgres();
  await db.exec(`
    CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text);
    INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 300) g;
    CREATE TABLE secrets (id int, payload text);
    CREATE SCHEMA hr;
    CREATE TABLE hr.salaries (employee text, amount numeric);
  `);
  idp = await startIdp();
  const sink = new Writable({
    write(chunk, _enc, cb) {
      log += chunk.toString();
      cb();
    },
  });
  gw = await startTestGateway(db, { ...options(idp.issuer), logger: pino({ level: 'trace' }, sink) });
});

after(async () => {
  await gw?.stop();
  await idp?.stop();
  await db?.stop();
});

async function httpClient(credential: string): Promise<Client> {
  const client = new Client({ name: 'portcullis-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${credential}` } } }));
  return client;
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function forge(claims: Record<string, unknown>, expiresInSeconds: number): Promise<string> {
  return forgeToken(idp, claims, expiresInSeconds);
}

/** The cases every transport must pass, given a connected client whose identity is in "analysts". */
function sharedCases(connect: () => Promise<Client>): void {
  let client: Client;
  before(async () => {
    client = await connect();
  });
  after(async () => {
    await client?.close();
  });

  test('tools are listed with schemas and annotations', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    assert.deepEqual([...byName.keys()].sort(), ['approval_status', 'describe_table', 'explain_policy', 'list_connections', 'list_tables', 'query', 'wait_for_approval']);
    assert.equal(byName.get('list_tables')!.annotations?.readOnlyHint, true);
    assert.equal(byName.get('query')!.annotations?.destructiveHint, true);
    assert.ok(byName.get('query')!.outputSchema, 'query has an output schema');
    assert.deepEqual(byName.get('query')!.inputSchema.required, ['connection', 'sql']);
    assert.match(byName.get('wait_for_approval')!.description!, /approvals are not enabled/);
  });

  test('list_connections', async () => {
    const r = await call(client, 'list_connections', {});
    assert.deepEqual(r.structuredContent, { connections: [{ name: 'main', type: 'postgres' }] });
  });

  test('list_tables shows only what policy lets the caller read', async () => {
    const r = await call(client, 'list_tables', { connection: 'main' });
    assert.ok(!r.isError, text(r));
    const names = (r.structuredContent as { tables: { schema: string; name: string }[] }).tables.map((t) => `${t.schema}.${t.name}`);
    assert.deepEqual(names, ['hr.salaries', 'public.customers']);
    const hr = await call(client, 'list_tables', { connection: 'main', schema: 'hr' });
    assert.deepEqual((hr.structuredContent as { tables: unknown[] }).tables, [{ schema: 'hr', name: 'salaries', kind: 'table' }]);
  });

  test('describe_table', async () => {
    const r = await call(client, 'describe_table', { connection: 'main', table: 'customers' });
    assert.deepEqual(r.structuredContent, {
      schema: 'public',
      name: 'customers',
      columns: [
        { name: 'id', type: 'integer', nullable: false, masked: false },
        { name: 'name', type: 'text', nullable: false, masked: false },
        { name: 'email', type: 'text', nullable: true, masked: false },
      ],
    });
    const denied = await call(client, 'describe_table', { connection: 'main', table: 'public.secrets' });
    assert.equal(denied.isError, true);
    assert.match(text(denied), /does not let .* read public\.secrets.*ERR_POLICY_DENIED/);
    const missing = await call(client, 'describe_table', { connection: 'main', table: 'nope' });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /SQLSTATE 42P01/);
  });

  test('query returns text values, the decision and the row count', async () => {
    const r = await call(client, 'query', { connection: 'main', sql: 'SELECT id, name, email IS NULL AS no_email FROM customers WHERE id = $1', params: [7] });
    assert.ok(!r.isError, text(r));
    assert.deepEqual(r.structuredContent, {
      status: 'ok',
      columns: [
        { name: 'id', type_oid: 23 },
        { name: 'name', type_oid: 25 },
        { name: 'no_email', type_oid: 16 },
      ],
      rows: [['7', 'customer 7', 'f']],
      row_count: 1,
      command: 'SELECT 1',
      truncated: false,
      decision: { action: 'allow', rule: 'analysts-read' },
      notices: [],
    });
    assert.deepEqual(JSON.parse(text(r)), r.structuredContent, 'the text content carries the same result for clients without structured output');
  });

  test('a denied query is an error result with the reason, and nothing runs', async () => {
    const del = await call(client, 'query', { connection: 'main', sql: 'DELETE FROM customers' });
    assert.equal(del.isError, true);
    assert.match(text(del), /Denied by Portcullis policy .*no policy rule allows.*\[ERR_POLICY_DENIED\]/s);
    const secret = await call(client, 'query', { connection: 'main', sql: 'SELECT * FROM secrets' });
    assert.equal(secret.isError, true);
    assert.match(text(secret), /rule "no-secrets".*the secrets table is off limits for agents/);
    assert.equal((await db.exec('SELECT count(*) FROM customers')).trim(), '300');
  });

  test('results are capped by rows and by bytes, and say so', async () => {
    const all = await call(client, 'query', { connection: 'main', sql: 'SELECT * FROM customers ORDER BY id' });
    const s = all.structuredContent as { rows: string[][]; truncated: boolean; truncated_by: string; row_count: number };
    assert.deepEqual([s.rows.length, s.truncated, s.truncated_by, s.row_count], [200, true, 'rows', 200]);
    const five = (await call(client, 'query', { connection: 'main', sql: 'SELECT id FROM customers ORDER BY id', max_rows: 5 })).structuredContent as { rows: string[][]; truncated: boolean };
    assert.deepEqual([five.rows.length, five.truncated], [5, true]);
    const wide = (await call(client, 'query', { connection: 'main', sql: "SELECT repeat('x', 1000) FROM customers" })).structuredContent as { rows: string[][]; truncated_by: string };
    assert.equal(wide.truncated_by, 'bytes');
    assert.ok(wide.rows.length > 50 && JSON.stringify(wide.rows).length <= 64 * 1024, `${wide.rows.length} rows`);
  });

  test('bad arguments are error results naming the problem', async () => {
    const noSql = await call(client, 'query', { connection: 'main' });
    assert.equal(noSql.isError, true);
    assert.match(text(noSql), /Input validation error.*sql/s);
    const tooMany = await call(client, 'query', { connection: 'main', sql: 'SELECT 1', max_rows: 100000 });
    assert.equal(tooMany.isError, true);
    const unknown = await call(client, 'query', { connection: 'elsewhere', sql: 'SELECT 1' });
    assert.equal(unknown.isError, true);
    assert.match(text(unknown), /no connection named "elsewhere".*ERR_UNKNOWN_CONNECTION/);
    const syntax = await call(client, 'query', { connection: 'main', sql: 'SELEC 1' });
    assert.equal(syntax.isError, true);
  });

  test('explain_policy gives facts and decision without running the statement', async () => {
    const r = await call(client, 'explain_policy', { connection: 'main', sql: 'DELETE FROM customers WHERE id = 1' });
    assert.ok(!r.isError, text(r));
    const s = r.structuredContent as { decision: { action: string; rule: string }; facts: { kind: string; writes: string[] } };
    assert.equal(s.decision.action, 'deny');
    assert.equal(s.facts.kind, 'write');
    assert.deepEqual(s.facts.writes, ['customers']);
    assert.equal((await db.exec('SELECT count(*) FROM customers')).trim(), '300');
  });

  test('approval tools say honestly that approvals are not enabled', async () => {
    for (const name of ['approval_status', 'wait_for_approval']) {
      const r = await call(client, name, { request_id: 'r-1' });
      assert.equal(r.isError, true);
      assert.match(text(r), /approvals are not enabled on this gateway/);
    }
  });
}

describe('MCP over Streamable HTTP with a service key', () => {
  sharedCases(() => httpClient(gw.keys['agent-key']!));
});

describe('MCP over stdio (portcullis mcp)', () => {
  sharedCases(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-mcp-'));
    const cfg = gatewayConfig(db, { ...options(idp.issuer), http: false }, gw.keys);
    // Secrets go through the environment, as in production.
    (cfg.identities as { keys: { name: string; secret: unknown }[] }).keys.forEach((k) => (k.secret = `\${env:KEY_${k.name.replace('-', '_').toUpperCase()}}`));
    writeFileSync(join(dir, 'portcullis.yaml'), JSON.stringify(cfg));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    const client = new Client({ name: 'portcullis-test', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [join(import.meta.dirname, '../../bin/portcullis.js'), 'mcp', '--config', join(dir, 'portcullis.yaml')],
        env: { ...env, PORTCULLIS_TOKEN: gw.keys['agent-key']!, KEY_AGENT_KEY: gw.keys['agent-key']!, KEY_INTERN_KEY: gw.keys['intern-key']!, PORTCULLIS_LOG_LEVEL: 'warn' },
        stderr: 'pipe',
      }),
    );
    return client;
  });
});

describe('MCP authorization', () => {
  test('no credential: 401 pointing at the protected-resource metadata, which names the IdP', async () => {
    const res = await fetch(`${gw.httpUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    assert.equal(res.status, 401);
    const challenge = res.headers.get('www-authenticate')!;
    const url = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(url, `${gw.httpUrl}/.well-known/oauth-protected-resource/mcp`);
    const meta = (await (await fetch(url!)).json()) as Record<string, unknown>;
    assert.equal(meta.resource, `${gw.httpUrl}/mcp`);
    assert.deepEqual(meta.authorization_servers, [idp.issuer]);
    const root = (await (await fetch(`${gw.httpUrl}/.well-known/oauth-protected-resource`)).json()) as Record<string, unknown>;
    assert.deepEqual(root.authorization_servers, [idp.issuer]);
  });

  test('the SDK client without a credential is refused', async () => {
    const client = new Client({ name: 'anonymous', version: '1.0.0' });
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`))), (e: { code?: number; message: string }) => e.code === 401 && /ERR_AUTH_REQUIRED/.test(e.message));
  });

  test('an OIDC access token from the provider works; policy follows its groups', async () => {
    const token = await idp.token();
    tokens.push(token);
    const client = await httpClient(token);
    try {
      const r = await call(client, 'query', { connection: 'main', sql: 'SELECT count(*) FROM customers' });
      assert.deepEqual((r.structuredContent as { rows: unknown }).rows, [['300']]);
    } finally {
      await client.close();
    }
  });

  test('a service key outside the allowed groups is refused statement by statement', async () => {
    const client = await httpClient(gw.keys['intern-key']!);
    try {
      const r = await call(client, 'query', { connection: 'main', sql: 'SELECT 1' });
      assert.equal(r.isError, true);
      assert.match(text(r), /ERR_POLICY_DENIED/);
    } finally {
      await client.close();
    }
  });

  test('an expired token gets 401 invalid_token', async () => {
    const expired = await forge({}, -120);
    tokens.push(expired);
    const res = await fetch(`${gw.httpUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${expired}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'ERR_AUTH_FAILED');
    const client = new Client({ name: 'expired', version: '1.0.0' });
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${expired}` } } })));
  });

  test('a page from another origin cannot drive /mcp; GET has no stream to offer', async () => {
    const res = await fetch(`${gw.httpUrl}/mcp`, { method: 'POST', headers: { origin: 'http://evil.example', authorization: `Bearer ${gw.keys['agent-key']}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 403);
    const get = await fetch(`${gw.httpUrl}/mcp`, { headers: { authorization: `Bearer ${gw.keys['agent-key']}` } });
    assert.equal(get.status, 405);
  });

  test('no token or key appears in the gateway log', () => {
    assert.ok(log.includes('authentication failed'), 'failures were logged');
    for (const t of [...tokens, ...Object.values(gw.keys)]) {
      assert.ok(!log.includes(t), 'a credential leaked into the log');
      for (const part of t.split('.')) if (part.length > 16) assert.ok(!log.includes(part), 'part of a token leaked into the log');
    }
  });
});
