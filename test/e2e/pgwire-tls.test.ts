/**
 * TLS on the PostgreSQL listener: psql with sslmode=require and verify-full, cleartext refused
 * off-TLS, and the SSLRequest buffer-stuffing attack (CVE-2021-23214) refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { RawClient, errorOf } from '../helpers/raw-client.js';
import { run } from '../helpers/run.js';

let db: PgCluster;
let gw: TestGateway;
let certs: TestCerts;

before(async () => {
  db = await startPostgres();
  certs = await makeTestCerts();
  gw = await startTestGateway(db, { listenTls: { cert: certs.serverCert, key: certs.serverKey }, extra: { security: { allow_insecure_loopback: false } } });
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

test('psql connects with sslmode=verify-full against the dev CA and sees ssl in use', async () => {
  const url = `postgresql://agent@localhost:${gw.port}/main?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caCert)}`;
  const r = await run('psql', ['-X', '-A', '-t', '-d', url, '-c', 'SELECT 40 + 2', '-c', '\\conninfo'], { env: gw.env() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^42$/m);
  assert.match(r.stdout, /SSL connection \(protocol: TLSv1\.[23]/);
});

test('verify-full refuses a certificate issued for another host name', async () => {
  const url = `postgresql://agent@wrong.example:${gw.port}/main?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caCert)}`;
  const r = await run('psql', ['-X', '-d', url, '-c', 'SELECT 1'], { env: gw.env() });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not match host name|certificate/);
});

test('sslmode=require works', async () => {
  const r = await run('psql', ['-X', '-A', '-t', '-d', `postgresql://agent@127.0.0.1:${gw.port}/main?sslmode=require`, '-c', 'SELECT 1'], { env: gw.env() });
  assert.equal(r.code, 0, r.stderr);
});

test('without TLS the password is never asked for: FATAL 28000 before authentication', async () => {
  const c = await RawClient.open(gw.port);
  c.startup({ user: 'u', database: 'main' });
  const msgs = await c.untilClosed();
  assert.ok(!msgs.some((m) => m.code === 'R'), 'no authentication request in cleartext');
  const e = errorOf(msgs);
  assert.equal(e?.code, '28000');
  assert.match(e!.message, /TLS/);
});

test('bytes smuggled after an SSLRequest, before the handshake, are refused', async () => {
  const c = await RawClient.open(gw.port);
  const startup = Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0]);
  c.write(Buffer.concat([SSL_REQUEST, startup]));
  const msgs = await c.untilClosed();
  const e = errorOf(msgs);
  assert.equal(e?.code, '08P01');
  assert.match(e!.message, /unencrypted data after SSL request/);
});
