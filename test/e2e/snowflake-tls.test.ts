/**
 * The Snowflake listener over TLS, as production deployments run it: a real snowflake-sdk in
 * its own process trusts the gateway's CA through NODE_EXTRA_CA_CERTS, logs in and queries.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { run } from '../helpers/run.js';

let db: PgCluster;
let gw: TestGateway;
let certs: TestCerts;
let port: number;

before(async () => {
  db = await startPostgres();
  await db.exec("CREATE TABLE customers (id int, ssn text); INSERT INTO customers VALUES (1, '123-45-6789');");
  certs = await makeTestCerts();
  gw = await startTestGateway(db, {
    keys: { agent: ['agents'] },
    policy: { preset: 'read-only' },
    extra: {
      listen: { postgres: { host: '127.0.0.1', port: 0 }, snowflake: { host: '127.0.0.1', port: 0, tls: { cert: certs.serverCert, key: certs.serverKey } } },
      masking: { columns: [{ match: 'public.customers.ssn', strategy: 'partial', keep_last: 4 }] },
    },
  });
  port = gw.gateway.listening.find((l) => l.frontend === 'snowflake')!.port;
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

const CLIENT = `
const sf = (await import('snowflake-sdk')).default;
sf.configure({ logLevel: 'OFF' });
const c = sf.createConnection({ account: 'main', accessUrl: process.env.URL, username: 'agent', password: process.env.KEY, sfRetryMaxLoginRetries: 0 });
await new Promise((ok, no) => c.connect((e) => (e ? no(e) : ok())));
const rows = await new Promise((ok, no) => c.execute({ sqlText: 'SELECT id, ssn FROM customers', complete: (e, _s, r) => (e ? no(e) : ok(r)) }));
console.log(JSON.stringify(rows));
await new Promise((ok) => c.destroy(() => ok()));
`;

test('snowflake-sdk over TLS: trusts the gateway CA, logs in, gets masked rows', async () => {
  const r = await run(process.execPath, ['--input-type=module', '-e', CLIENT], {
    cwd: process.cwd(),
    env: { ...process.env, SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', NODE_EXTRA_CA_CERTS: certs.caCert, URL: `https://localhost:${port}`, KEY: gw.keys['agent']! },
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), [{ id: 1, ssn: '***-**-6789' }]);
});

test('a client that does not trust the certificate is refused by its own TLS check', async () => {
  const r = await run(process.execPath, ['--input-type=module', '-e', CLIENT], {
    cwd: process.cwd(),
    env: { ...process.env, SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', URL: `https://localhost:${port}`, KEY: gw.keys['agent']! },
    timeoutMs: 60_000,
  });
  assert.notEqual(r.code, 0);
  assert.doesNotMatch(r.stdout, /6789/);
});
