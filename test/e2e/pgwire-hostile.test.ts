/**
 * Bad input at the PostgreSQL frontend: every case ends in a clean error or close, other
 * sessions keep working, and the gateway never crashes or hangs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RawClient, authenticated, errorOf } from '../helpers/raw-client.js';

let db: PgCluster;
let gw: TestGateway;
let key: string;

before(async () => {
  db = await startPostgres();
  gw = await startTestGateway(db, { extra: { limits: { max_connections: 40, max_message_bytes: 1024 * 1024, startup_timeout: 2 } } });
  key = gw.keys.tester!;
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

/** The canary: a normal session must still work after each attack. */
async function stillServing(): Promise<void> {
  const c = new pg.Client(gw.pgConfig());
  await c.connect();
  assert.equal((await c.query('SELECT 7 AS n')).rows[0].n, 7);
  await c.end();
}

describe('startup phase', () => {
  test('a startup packet without a user gets FATAL 28000', async () => {
    const c = await RawClient.open(gw.port);
    c.startup({ database: 'main' });
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.severity, 'FATAL');
    assert.equal(e?.code, '28000');
    assert.match(e!.message, /no PostgreSQL user name/);
  });

  test('a wrong key gets FATAL 28P01 with no detail', async () => {
    const c = await RawClient.open(gw.port);
    c.startup({ user: 'mallory', database: 'main' });
    assert.equal((await c.next())?.code, 'R');
    c.password('pcs_' + 'x'.repeat(43));
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '28P01');
    assert.equal(e?.message, 'password authentication failed for user "mallory" [ERR_AUTH_FAILED]');
    assert.equal(e?.detail, undefined);
  });

  test('an unknown database gets FATAL 3D000 only after authentication', async () => {
    const c = await RawClient.open(gw.port);
    c.startup({ user: 'u', database: 'nope' });
    assert.equal((await c.next())?.code, 'R');
    c.password(key);
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '3D000');
    assert.match(e!.message, /database "nope" does not exist/);
  });

  test('SSLRequest on a listener without TLS is answered N and startup continues', async () => {
    const c = await RawClient.open(gw.port);
    c.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
    assert.equal(await c.byte(), 'N');
    c.startup({ user: 'u', database: 'main' });
    assert.equal((await c.next())?.code, 'R');
    c.close();
  });

  test('the startup "options" parameter is refused: it would set server GUCs unseen', async () => {
    const c = await RawClient.open(gw.port);
    c.startup({ user: 'u', database: 'main', options: '-c default_transaction_read_only=off' });
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '0A000');
  });

  for (const [name, bytes] of [
    ['a length near 2^31', Buffer.from([0x7f, 0xff, 0xff, 0xf0, 0, 3, 0, 0])],
    ['a negative length', Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 3, 0, 0])],
    ['a length below the minimum', Buffer.from([0, 0, 0, 4])],
    ['an unterminated parameter list', Buffer.from([0, 0, 0, 13, 0, 3, 0, 0, 0x75, 0x73, 0x65, 0x72, 0])],
    ['a protocol version 2 startup', Buffer.from([0, 0, 0, 9, 0, 2, 0, 0, 0])],
    ['random garbage', randomBytes(64)],
  ] as const) {
    test(`${name} ends in a clean error or close`, async () => {
      const c = await RawClient.open(gw.port);
      c.write(bytes);
      const msgs = await c.untilClosed(4000);
      for (const m of msgs) assert.equal(m.code, 'E');
      await stillServing();
    });
  }

  test('a truncated startup packet followed by silence is closed at the startup timeout', async () => {
    const c = await RawClient.open(gw.port);
    c.write(Buffer.from([0, 0, 0, 40, 0, 3, 0]));
    const started = Date.now();
    await c.untilClosed(5000);
    assert.ok(Date.now() - started < 4000);
  });

  test('a client that never authenticates is closed at the startup timeout', async () => {
    const c = await RawClient.open(gw.port);
    c.startup({ user: 'u', database: 'main' });
    assert.equal((await c.next())?.code, 'R');
    await c.untilClosed(5000);
    assert.ok(c.closed);
  });
});

describe('after authentication', () => {
  test('an unknown message type gets FATAL 08P01', async () => {
    const c = await authenticated(gw.port, key);
    c.write(Buffer.from([0x01, 0, 0, 0, 4]));
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '08P01');
    await stillServing();
  });

  test('a message over limits.max_message_bytes is refused', async () => {
    const c = await authenticated(gw.port, key);
    const big = Buffer.alloc(5);
    big[0] = 0x51;
    big.writeInt32BE(2 * 1024 * 1024, 1);
    c.write(big);
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '08P01');
    assert.match(e!.message, /exceeds the limit/);
  });

  test('a Query whose string is not NUL-terminated is a protocol violation', async () => {
    const c = await authenticated(gw.port, key);
    c.write(Buffer.from([0x51, 0, 0, 0, 8, 0x61, 0x62, 0x63, 0x64]));
    const e = errorOf(await c.untilClosed());
    assert.equal(e?.code, '08P01');
  });

  test('FunctionCall is refused with a clear error and the session stays usable', async () => {
    const c = await authenticated(gw.port, key);
    // FunctionCall of oid 1 with no arguments.
    c.write(Buffer.from([0x46, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
    const msgs = await c.untilReady();
    const e = errorOf(msgs);
    assert.equal(e?.code, '0A000');
    assert.match(e!.message, /FunctionCall/);
    c.query('SELECT 1');
    const ok = await c.untilReady();
    assert.ok(ok.some((m) => m.code === 'D'));
    c.close();
  });

  test('random bytes after authentication never crash the gateway', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await authenticated(gw.port, key);
      c.write(randomBytes(1 + Math.floor(Math.random() * 300)));
      try {
        await c.untilClosed(3000);
      } catch {
        // A random prefix can be a valid partial message the gateway waits on; that is fine.
      }
      c.close();
    }
    await stillServing();
  });

  test('a client that disappears mid-result releases its upstream backend', async () => {
    const before = Number(await db.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'portcullis:%'"));
    const c = await authenticated(gw.port, key);
    c.query('SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 2000000) g');
    await c.next();
    c.close();
    const deadline = Date.now() + 10000;
    let now = -1;
    while (Date.now() < deadline) {
      now = Number(await db.exec("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'portcullis:%'"));
      if (now <= before) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(now <= before, `upstream backends left: ${now} (was ${before})`);
    await stillServing();
  });

  test('an upstream that dies mid-session ends that session with FATAL 08006; others keep working', async () => {
    const victim = new pg.Client({ ...gw.pgConfig(), application_name: 'victim' });
    victim.on('error', () => {});
    await victim.connect();
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const failed = victim.query('SELECT pg_sleep(10)').then(
      () => 'completed',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 200));
    await db.exec(`SELECT pg_terminate_backend(${pid})`);
    assert.match(await failed, /terminating connection due to administrator command|connection .*lost|Connection terminated/);
    await stillServing();
  });

  test('the connection limit answers 53300 and frees up when clients leave', async () => {
    const held: RawClient[] = [];
    for (let i = 0; i < 40; i++) held.push(await RawClient.open(gw.port));
    await new Promise((r) => setTimeout(r, 100));
    const over = await RawClient.open(gw.port);
    const e = errorOf(await over.untilClosed());
    assert.equal(e?.code, '53300');
    for (const h of held) h.close();
    await new Promise((r) => setTimeout(r, 200));
    await stillServing();
  });
});
