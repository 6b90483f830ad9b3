/**
 * With masking rules configured, catalog reads still answer in the clear — metadata is not
 * masked whole for want of lineage — while system tables that hold data or secrets stay
 * unknown, and so masked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let db: PgCluster;
let gw: TestGateway;
let client: Client;

before(async () => {
  db = await startPostgres();
  // Repeated values so ANALYZE samples them into pg_statistic / pg_stats.most_common_vals.
  await db.exec("CREATE TABLE customers (id int, ssn text); INSERT INTO customers SELECT g, CASE WHEN g % 2 = 0 THEN '123-45-6789' ELSE '987-65-4321' END FROM generate_series(1, 200) g; ANALYZE customers;");
  assert.match(await db.exec("SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'customers' AND attname = 'ssn'"), /123-45-6789/);
  gw = await startTestGateway(db, { http: true, policy: { preset: 'audit-only' }, extra: { masking: { columns: [{ match: 'public.customers.ssn', strategy: 'redact' }] } } });
  client = new Client({ name: 'catalog-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.httpUrl}/mcp`), { requestInit: { headers: { authorization: `Bearer ${gw.keys['tester']}` } } }));
});
after(async () => {
  await client?.close();
  await gw?.stop();
  await db?.stop();
});

test('list_tables and describe_table answer in the clear; the masked column is flagged', async () => {
  const tables = (await client.callTool({ name: 'list_tables', arguments: { connection: 'main' } })).structuredContent;
  assert.deepEqual(tables, { tables: [{ schema: 'public', name: 'customers', kind: 'table' }], truncated: false });
  const d = (await client.callTool({ name: 'describe_table', arguments: { connection: 'main', table: 'customers' } })).structuredContent as { columns: unknown[] };
  assert.deepEqual(d.columns, [
    { name: 'id', type: 'integer', nullable: true, masked: false },
    { name: 'ssn', type: 'text', nullable: true, masked: true },
  ]);
});

test('system tables holding sampled values or secrets keep unknown lineage: masked', async () => {
  const q = async (sql: string) => JSON.stringify((await client.callTool({ name: 'query', arguments: { connection: 'main', sql } })).structuredContent);
  const stats = await q("SELECT stavalues1::text AS v FROM pg_statistic WHERE starelid = 'customers'::regclass");
  assert.ok(!stats.includes('123-45-6789'), stats);
  const stats2 = await q("SELECT most_common_vals::text AS v, histogram_bounds::text AS h FROM pg_stats WHERE tablename = 'customers'");
  assert.ok(!stats2.includes('123-45-6789'), stats2);
  const auth = await q('SELECT rolname, rolpassword FROM pg_authid');
  assert.ok(!/SCRAM-SHA-256|md5[0-9a-f]{32}/.test(auth), auth);
});
