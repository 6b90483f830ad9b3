/**
 * Real clients (psql, pgbench, node-postgres, postgres.js) through the gateway to a real,
 * throwaway PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import pg from 'pg';
import postgres from 'postgres';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { run } from '../helpers/run.js';

let db: PgCluster;
let gw: TestGateway;

before(async () => {
  db = await startPostgres({ auth: 'scram-sha-256' });
  await db.exec(`CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
                 INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 100) g;`);
  gw = await startTestGateway(db);
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

function psql(args: string[], input?: string) {
  return run('psql', ['-X', '-v', 'ON_ERROR_STOP=0', '-d', gw.url(), ...args], { env: gw.env(), input, timeoutMs: 30000 });
}

describe('psql', () => {
  test('simple query, multi-statement string and server errors', async () => {
    const r = await psql(['-A', '-t', '-c', 'SELECT count(*) FROM items; SELECT name FROM items WHERE id = 7']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '100\nitem 7');
    const e = await psql(['-c', 'SELECT * FROM no_such_table']);
    assert.match(e.stderr, /relation "no_such_table" does not exist/);
    const after = await psql(['-A', '-t', '-c', 'SELECT 41 + 1']);
    assert.equal(after.stdout.trim(), '42');
  });

  test('\\d describes tables through the catalog queries psql sends', async () => {
    const r = await psql(['-c', '\\d items']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Table "public\.items"/);
    assert.match(r.stdout, /items_pkey/);
  });

  test('\\copy in (COPY FROM STDIN) and out (COPY TO STDOUT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-copy-'));
    const src = join(dir, 'in.csv');
    // Backslashes and non-ASCII text in the data: COPY data never waits behind the relay's
    // checks for SQL text that could be misread (relay.ts #mustWait).
    writeFileSync(src, Array.from({ length: 5000 }, (_, i) => `${i},row \\ é ${i}`).join('\n') + '\n');
    const r = await psql(['-c', 'CREATE TABLE copied (id int, label text)', '-c', `\\copy copied FROM '${src}' WITH (FORMAT csv)`, '-c', `\\copy copied TO '${join(dir, 'out.csv')}' WITH (FORMAT csv)`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /COPY 5000/);
    assert.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), readFileSync(src, 'utf8'));
  });

  test('a transaction with an error is rolled back and the session recovers', async () => {
    await psql(['-c', 'CREATE TABLE tx_t (v int)']);
    const r = await psql([], `BEGIN;\nINSERT INTO tx_t VALUES (1);\nSELECT 1/0;\nCOMMIT;\nSELECT count(*) AS n FROM tx_t;\n`);
    assert.match(r.stderr, /division by zero/);
    assert.match(r.stdout, /ROLLBACK/);
    assert.match(r.stdout, /\n\s+0\n/);
  });

  test('application_name shows the gateway and the calling identity upstream', async () => {
    const r = await run('psql', ['-X', '-A', '-t', '-d', gw.url(), '-c', "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"], {
      env: { ...gw.env(), PGAPPNAME: 'my-agent' },
    });
    assert.equal(r.stdout.trim(), 'portcullis:key:tester/my-agent');
  });
});

describe('node-postgres (pg)', () => {
  test('simple, parameterized and named prepared statements', async () => {
    const c = new pg.Client(gw.pgConfig());
    await c.connect();
    try {
      assert.equal((await c.query('SELECT count(*)::int AS n FROM items')).rows[0].n, 100);
      const p = await c.query('SELECT name, price FROM items WHERE id = $1 AND name LIKE $2', [3, 'item%']);
      assert.deepEqual(p.rows, [{ name: 'item 3', price: '4.50' }]);
      for (const id of [10, 20, 30]) {
        const r = await c.query({ name: 'by-id', text: 'SELECT name FROM items WHERE id = $1', values: [id] });
        assert.equal(r.rows[0].name, `item ${id}`);
      }
      await assert.rejects(c.query('SELECT $1::int', ['not a number']), /invalid input syntax/);
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await c.end();
    }
  });

  test('a pool of concurrent clients', async () => {
    const pool = new pg.Pool({ ...gw.pgConfig(), max: 8 });
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query('SELECT $1::int * 2 AS v, pg_backend_pid() AS pid', [i])));
      results.forEach((r, i) => assert.equal(r.rows[0].v, i * 2));
    } finally {
      await pool.end();
    }
  });
});

describe('asynchronous messages', () => {
  test('NoticeResponse and NotificationResponse reach the client', async () => {
    const listener = new pg.Client(gw.pgConfig());
    const notifier = new pg.Client(gw.pgConfig());
    await listener.connect();
    await notifier.connect();
    try {
      const notices: string[] = [];
      listener.on('notice', (n) => notices.push(n.message ?? ''));
      const got = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(`${n.channel}:${n.payload}`)));
      await listener.query('LISTEN portcullis_test');
      await listener.query("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$");
      await notifier.query("NOTIFY portcullis_test, 'ping'");
      assert.equal(await got, 'portcullis_test:ping');
      assert.deepEqual(notices, ['hello from plpgsql']);
    } finally {
      await listener.end();
      await notifier.end();
    }
  });

  test('ParameterStatus follows SET and the client sees it', async () => {
    const sql = postgres(gw.url(), { password: gw.keys.tester, max: 1, onnotice: () => {} });
    try {
      await sql`SET TimeZone = 'Asia/Tokyo'`;
      assert.equal(sql.parameters.TimeZone, 'Asia/Tokyo');
    } finally {
      await sql.end();
    }
  });
});

describe('postgres.js', () => {
  test('pipelined and prepared queries', async () => {
    const sql = postgres(gw.url(), { password: gw.keys.tester, max: 1, prepare: true, onnotice: () => {} });
    try {
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => sql`SELECT ${i}::int AS i, name FROM items WHERE id = ${i + 1}`));
      many.forEach((rows, i) => {
        assert.equal(rows[0]!.i, i);
        assert.equal(rows[0]!.name, `item ${i + 1}`);
      });
      const [{ total }] = await sql`SELECT sum(price)::text AS total FROM items`;
      assert.equal(total, '7575.00');
      await assert.rejects(sql`SELECT * FROM missing_table`, /does not exist/);
      const [{ ok }] = await sql`SELECT true AS ok`;
      assert.equal(ok, true);
    } finally {
      await sql.end();
    }
  });
});

describe('pgbench', () => {
  test('initialize, then simple, extended and prepared modes with several clients and no failures', async () => {
    const env = gw.env();
    const init = await run('pgbench', ['-i', '-s', '1', '-q', gw.url()], { env, timeoutMs: 120000 });
    assert.equal(init.code, 0, init.stderr);
    for (const mode of ['simple', 'extended', 'prepared']) {
      const r = await run('pgbench', ['-M', mode, '-c', '4', '-j', '2', '-t', '50', '-n', gw.url()], { env, timeoutMs: 120000 });
      assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
      assert.match(r.stdout, /number of transactions actually processed: 200\/200/, mode);
      assert.match(r.stdout, /number of failed transactions: 0 /, mode);
    }
  });
});

describe('cancel', () => {
  test('a CancelRequest ends pg_sleep(30) in under a second, and a wrong key cancels nothing', async () => {
    const c = new pg.Client(gw.pgConfig());
    await c.connect();
    try {
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      const started = Date.now();
      const outcome = c.query('SELECT pg_sleep(30)').then(
        () => 'completed',
        (e: Error) => e.message,
      );
      await new Promise((r) => setTimeout(r, 300));
      await sendCancel(gw.port, processID, secretKey ^ 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await Promise.race([outcome, 'still running']), 'still running');
      await sendCancel(gw.port, processID, secretKey);
      assert.match(await outcome, /canceling statement due to user request/);
      assert.ok(Date.now() - started < 1900, `took ${Date.now() - started} ms`);
      assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1);
    } finally {
      await c.end();
    }
  });
});

/** A CancelRequest packet on a fresh connection, exactly as libpq sends it. */
function sendCancel(port: number, pid: number, secret: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      const b = Buffer.alloc(16);
      b.writeInt32BE(16, 0);
      b.writeInt32BE(80877102, 4);
      b.writeInt32BE(pid, 8);
      b.writeInt32BE(secret | 0, 12);
      s.end(b);
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
}
