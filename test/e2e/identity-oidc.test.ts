/**
 * OIDC end to end: a real OpenID provider issues client_credentials JWTs with a groups claim;
 * psql and node-postgres connect with them over TLS; policy decides by group; a session ends
 * when its token expires; no token or key ever reaches the gateway log.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { run } from '../helpers/run.js';
import { AUDIENCE, startIdp, type Idp, forgeToken } from '../identity/oidc-harness.js';

let db: PgCluster;
let idp: Idp;
let certs: TestCerts;
let gw: TestGateway;
let log = '';

before(async () => {
  db = await startPostgres();
  await db.exec('CREATE TABLE reports (id int, title text); INSERT INTO reports VALUES (1, $$q3$$)');
  idp = await startIdp();
  certs = await makeTestCerts();
  const sink = new Writable({
    write(chunk, _enc, cb) {
      log += chunk.toString();
      cb();
    },
  });
  gw = await startTestGateway(db, {
    keys: { 'ci-bot': ['interns'] },
    listenTls: { cert: certs.serverCert, key: certs.serverKey },
    logger: pino({ level: 'trace' }, sink),
    extra: {
      security: { allow_insecure_loopback: false },
    },
    identities: { oidc: [{ issuer: idp.issuer, audience: AUDIENCE, groups_claim: 'groups', allow_http: true }] },
    policy: { rules: [{ name: 'analysts-read', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow' }] },
  });
});
after(async () => {
  await gw?.stop();
  await idp?.stop();
  await db?.stop();
});

function tls(): pg.ClientConfig['ssl'] {
  return { ca: readFileSync(certs.caCert, 'utf8'), servername: 'localhost' };
}

function forge(claims: Record<string, unknown>, expiresInSeconds: number): Promise<string> {
  return forgeToken(idp, claims, expiresInSeconds);
}

const tokens: string[] = [];

test('psql connects with a real access token over verify-full TLS and reads as an analyst', async () => {
  const token = await idp.token();
  tokens.push(token);
  const url = `postgresql://agent@localhost:${gw.port}/main?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caCert)}`;
  const r = await run('psql', ['-X', '-A', '-t', '-d', url, '-c', 'SELECT title FROM reports', '-c', "SELECT split_part(application_name, '/', 1) FROM pg_stat_activity WHERE pid = pg_backend_pid()"], {
    env: { ...process.env, PGPASSWORD: token },
  });
  assert.equal(r.code, 0, r.stderr);
  const [title, app] = r.stdout.trim().split('\n');
  assert.equal(title, 'q3');
  assert.match(app!, /^portcullis:\S+/);
});

test('node-postgres with a token over TLS; writes are outside the analysts rule', async () => {
  const token = await idp.token();
  tokens.push(token);
  const c = new pg.Client({ ...gw.pgConfig(), password: token, ssl: tls() });
  await c.connect();
  try {
    assert.equal((await c.query('SELECT count(*)::int AS n FROM reports')).rows[0].n, 1);
    await assert.rejects(c.query("INSERT INTO reports VALUES (2, 'x')"), (e: { code?: string; message: string }) => e.code === '42501' && /no policy rule allows/.test(e.message));
  } finally {
    await c.end();
  }
  assert.equal((await db.exec('SELECT count(*) FROM reports')).trim(), '1');
});

test('policy by group: a service key in "interns" authenticates but may not read', async () => {
  const c = new pg.Client({ ...gw.pgConfig('ci-bot'), password: gw.keys['ci-bot'], ssl: tls() });
  await c.connect();
  try {
    await assert.rejects(c.query('SELECT * FROM reports'), (e: { code?: string }) => e.code === '42501');
  } finally {
    await c.end();
  }
});

test('a token of a group without rules is refused statement by statement', async () => {
  const token = await forge({ groups: ['visitors'] }, 120);
  tokens.push(token);
  const c = new pg.Client({ ...gw.pgConfig(), password: token, ssl: tls() });
  await c.connect();
  try {
    await assert.rejects(c.query('SELECT 1'), (e: { code?: string }) => e.code === '42501');
  } finally {
    await c.end();
  }
});

test('an expired token gets 28P01; a session ends with FATAL when its token expires', async () => {
  const expired = await forge({}, -120);
  tokens.push(expired);
  const bad = new pg.Client({ ...gw.pgConfig(), password: expired, ssl: tls() });
  await assert.rejects(bad.connect(), (e: { code?: string }) => e.code === '28P01');

  const shortLived = await forge({}, 2);
  tokens.push(shortLived);
  const c = new pg.Client({ ...gw.pgConfig(), password: shortLived, ssl: tls() });
  const ended = new Promise<string>((resolve) => c.on('error', (e) => resolve(e.message)));
  await c.connect();
  assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1);
  const msg = await Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('still open'), 8000))]);
  assert.match(msg, /token has expired/);
});

test('no token or key appears in the gateway log', () => {
  assert.ok(log.length > 0, 'the log captured something');
  assert.ok(log.includes('session started'));
  for (const t of [...tokens, gw.keys['ci-bot']!]) {
    assert.ok(!log.includes(t), 'a credential leaked into the log');
    for (const part of t.split('.')) if (part.length > 16) assert.ok(!log.includes(part), 'part of a token leaked into the log');
  }
});
