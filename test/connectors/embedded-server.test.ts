import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/connectors/embedded/embedded-server.js';
import { EmbeddedConnector } from '../../src/connectors/embedded/embedded-connector.js';
import { buildDemoData } from '../../src/connectors/embedded/demo-data.js';

const run = promisify(execFile);
const SSN_FORMAT = /^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/;

function luhnValid(pan: string): boolean {
  let sum = 0;
  for (let i = 0; i < pan.length; i++) {
    let d = Number(pan[pan.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return pan.length >= 12 && sum % 10 === 0;
}
const IDLE_HOLDER_MS = 1500;

/** Rejects if `p` takes longer than `ms`: a hung session must fail the test, not stall it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('embedded server (demo seed)', () => {
  let server: EmbeddedServer;
  let startMs = 0;
  const clients: pg.Client[] = [];
  const client = async (extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> => {
    const c = new pg.Client({ host: server.host, port: server.port, user: 'postgres', database: 'postgres', ...extra });
    c.on('error', () => {});
    clients.push(c);
    await c.connect();
    return c;
  };

  before(async () => {
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    server = await startEmbeddedServer({ seed: 'demo', idleHolderTimeoutMs: IDLE_HOLDER_MS });
    const total = (startMs = performance.now() - started);
    const rss = process.memoryUsage().rss;
    console.log(
      `# embedded: boot ${server.timings.bootMs.toFixed(0)} ms, seed ${server.timings.seedMs.toFixed(0)} ms, total ${total.toFixed(0)} ms; ` +
        `rss +${((rss - rssBefore) / 1e6).toFixed(0)} MB (now ${(rss / 1e6).toFixed(0)} MB)`,
    );
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
    await server?.stop();
  });

  // Timing is reported above, not asserted: the machines are noisy and timing stays out of tests.
  test('boots and seeds, reporting its timings', () => {
    assert.ok(startMs > 0);
    assert.ok(server.timings.seedMs > 0);
  });

  test('listens on loopback only and reports startup like a server', async () => {
    assert.equal(server.host, '127.0.0.1');
    const c = await client({ application_name: 'embedded-test' });
    assert.ok((c as unknown as { processID: number }).processID > 0, 'BackendKeyData carried a pid');
    const r = await c.query<{ v: string; app: string }>("SELECT version() AS v, current_setting('server_version') AS app");
    assert.match(r.rows[0]!.v, /PostgreSQL/);
  });

  test('holds the demo data with the expected sizes, comments and view', async () => {
    const c = await client();
    const expected = buildDemoData().counts;
    for (const [table, n] of Object.entries(expected)) {
      const r = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      assert.equal(r.rows[0]!.n, n, table);
    }
    const comments = await c.query<{ t: string | null; col: string | null }>(
      "SELECT obj_description('customers'::regclass, 'pg_class') AS t, col_description('customers'::regclass, 5) AS col",
    );
    assert.match(comments.rows[0]!.t ?? '', /personal data/);
    assert.match(comments.rows[0]!.col ?? '', /Social Security/);
    const summary = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_summary WHERE order_count > 0');
    assert.ok(summary.rows[0]!.n > 400);
  });

  test('cards pass Luhn, SSNs are valid, foreign keys all resolve', async () => {
    const c = await client();
    const cards = await c.query<{ card_number: string }>('SELECT card_number FROM customers WHERE card_number IS NOT NULL UNION ALL SELECT card_number FROM payments WHERE card_number IS NOT NULL');
    assert.ok(cards.rows.length > 1500);
    for (const { card_number } of cards.rows) assert.ok(luhnValid(card_number), card_number);
    const last4 = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM payments WHERE card_number IS NOT NULL AND right(card_number, 4) <> card_last4');
    assert.equal(last4.rows[0]!.n, 0);
    const ssns = await c.query<{ ssn: string; country: string }>('SELECT ssn, country FROM customers WHERE ssn IS NOT NULL');
    assert.ok(ssns.rows.length > 200);
    for (const { ssn, country } of ssns.rows) {
      assert.match(ssn, SSN_FORMAT);
      assert.equal(country, 'US');
    }
    const orphans = await c.query<{ n: number }>(`
      SELECT (SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL)
           + (SELECT count(*) FROM payments p LEFT JOIN orders o ON o.id = p.order_id WHERE o.id IS NULL)
           + (SELECT count(*) FROM order_items i LEFT JOIN products p ON p.id = i.product_id WHERE p.id IS NULL)
           + (SELECT count(*) FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.manager_id IS NOT NULL AND m.id IS NULL)
           + (SELECT count(*) FROM support_tickets t LEFT JOIN customers c ON c.id = t.customer_id WHERE c.id IS NULL) AS n`);
    assert.equal(Number(orphans.rows[0]!.n), 0);
    const totals = await c.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders o WHERE o.total_cents <> (SELECT sum(quantity * unit_price_cents) FROM order_items i WHERE i.order_id = o.id)',
    );
    assert.equal(totals.rows[0]!.n, 0);
    const pii = await c.query<{ id: number; body: string }>('SELECT id, body FROM support_tickets ORDER BY id');
    const truth = buildDemoData().ticketPii;
    for (const { id, body } of pii.rows) {
      const kinds = truth.get(id) ?? [];
      if (kinds.includes('ssn')) assert.match(body, /\b\d{3}-\d{2}-\d{4}\b/);
      if (kinds.includes('email')) assert.match(body, /@/);
      if (kinds.length === 0) assert.doesNotMatch(body, /@|\d{3}-\d{2}-\d{4}/);
    }
    // New rows get ids after the seeded ones.
    await c.query('BEGIN');
    const ins = await c.query<{ id: number }>("INSERT INTO products (sku, name, category, price_cents) VALUES ('SKU-T', 'Test', 'Test', 1) RETURNING id");
    assert.equal(ins.rows[0]!.id, buildDemoData().counts.products + 1);
    await c.query('ROLLBACK');
  });

  test('three concurrent pg clients and a postgres.js pool each get their own results', async () => {
    const [a, b, c] = await Promise.all([client(), client(), client()]);
    await a.query('CREATE TABLE IF NOT EXISTS conc (id int PRIMARY KEY, who text)');
    const problems: string[] = [];
    const A = (async () => {
      for (let k = 0; k < 20; k++) {
        await a.query('BEGIN');
        await a.query('INSERT INTO conc VALUES ($1, $2)', [k, 'a']);
        await new Promise((r) => setTimeout(r, 3));
        const r = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM conc WHERE id = $1', [k]);
        if (r.rows[0]!.n !== 1) problems.push(`A sees ${r.rows[0]!.n} rows for ${k}`);
        await a.query(k % 2 ? 'COMMIT' : 'ROLLBACK');
      }
    })();
    const B = (async () => {
      for (let k = 0; k < 200; k++) {
        const r = await b.query<{ x: string }>('SELECT $1::text AS x', ['b' + k]);
        if (r.rows[0]!.x !== 'b' + k) problems.push(`B got ${r.rows[0]!.x} for b${k}`);
        // An uncommitted row of A must never be visible: A's transaction holds the backend.
        const seen = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM conc WHERE id % 2 = 0');
        if (seen.rows[0]!.n !== 0) problems.push('B saw an uncommitted (later rolled back) row');
      }
    })();
    const C = (async () => {
      for (let k = 0; k < 100; k++) {
        try {
          await c.query('SELECT 1 / $1::int AS x', [k % 2]);
          if (k % 2 === 0) problems.push('C: division by zero did not fail');
        } catch (e) {
          if (k % 2 === 1) problems.push(`C: unexpected ${(e as Error).message}`);
        }
      }
    })();
    // postgres.js names its prepared statements per connection: the pool's connections would
    // collide in PGlite's single backend without per-session scoping.
    const sql = postgres({ host: server.host, port: server.port, user: 'postgres', database: 'postgres', max: 3, onnotice: () => {} });
    const D = Promise.all(
      Array.from({ length: 150 }, (_, k) =>
        sql<{ x: string; n: number }[]>`SELECT ${'d' + k}::text AS x, ${k}::int AS n`.then((r) => {
          if (r[0]!.x !== 'd' + k || r[0]!.n !== k) problems.push(`D got ${JSON.stringify(r[0])} for ${k}`);
        }),
      ),
    );
    try {
      await within(Promise.all([A, B, C, D]), 60_000, 'concurrent clients');
    } finally {
      await sql.end({ timeout: 5 });
    }
    assert.deepEqual(problems, []);
    const committed = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM conc');
    assert.equal(committed.rows[0]!.n, 10);
    await b.query('DROP TABLE conc');
  });

  test('a client that disconnects mid-transaction is rolled back and frees the backend', async () => {
    const a = await client();
    const b = await client();
    await a.query('BEGIN');
    await a.query('CREATE TABLE gone (x int)');
    const waiting = b.query<{ t: string | null }>("SELECT to_regclass('gone')::text AS t");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.stats().waiting, 1, 'b waits while a is inside its transaction');
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const r = await within(waiting, 5000, 'query after the holder disconnected');
    assert.equal(r.rows[0]!.t, null);
  });

  test('an idle transaction that blocks others is ended with 25P03', async () => {
    const a = await client();
    const b = await client();
    const aError = new Promise<Error>((resolve) => a.once('error', resolve));
    await a.query('BEGIN');
    const started = performance.now();
    const r = await within(b.query<{ one: number }>('SELECT 1 AS one'), IDLE_HOLDER_MS + 5000, 'waiting behind an idle transaction');
    assert.equal(r.rows[0]!.one, 1);
    assert.ok(performance.now() - started >= IDLE_HOLDER_MS - 100);
    const err = (await within(aError, 2000, 'error on the idle session')) as Error & { code?: string };
    assert.equal(err.code, '25P03');
  });

  test('COPY FROM STDIN is refused with 0A000 instead of crashing PGlite; COPY TO STDOUT works', async () => {
    const c = await client();
    await assert.rejects(c.query('COPY products FROM STDIN'), (e: Error & { code?: string }) => e.code === '0A000');
    await assert.rejects(c.query('copy/**/products from   STDIN', []), (e: Error & { code?: string }) => e.code === '0A000');
    await c.query('BEGIN');
    await assert.rejects(c.query('COPY products FROM STDIN'), (e: Error & { code?: string }) => e.code === '0A000');
    await c.query('ROLLBACK');
    const { stdout } = await run('/usr/bin/psql', ['-X', '-h', server.host, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', 'COPY (SELECT id, sku FROM products ORDER BY id LIMIT 2) TO STDOUT'], {
      env: { ...process.env, PGSSLMODE: 'disable' },
      timeout: 20_000,
    });
    assert.equal(stdout, '1\tSKU-1000\n2\tSKU-1007\n');
    const r = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM products');
    assert.equal(r.rows[0]!.n, 40);
  });

  test('refuses other databases and roles with the right SQLSTATE', async () => {
    await assert.rejects(client({ database: 'nope' }), (e: Error & { code?: string }) => e.code === '3D000');
    await assert.rejects(client({ user: 'alice' }), (e: Error & { code?: string }) => e.code === '28000');
  });

  test('psql connects (after its SSLRequest is refused) and describes a table', async () => {
    const { stdout } = await run('/usr/bin/psql', ['-X', '-h', server.host, '-p', String(server.port), '-U', 'postgres', '-d', 'postgres', '-c', '\\d customers', '-c', '\\d+ customer_summary'], {
      env: { ...process.env, PGSSLMODE: 'prefer', PGCONNECT_TIMEOUT: '5' },
      timeout: 20_000,
    });
    assert.match(stdout, /Table "public\.customers"/);
    assert.match(stdout, /card_number/);
    assert.match(stdout, /View "public\.customer_summary"/);
  });

  test('stop() closes sessions and frees the port', async () => {
    const c = await client();
    await c.query('BEGIN');
    const port = server.port;
    const closed = new Promise<void>((resolve) => c.once('end', () => resolve()));
    await within(server.stop(), 10_000, 'stop');
    await within(closed, 5000, 'client noticing the stop');
    assert.ok(await portIsFree(port));
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      }),
    );
  });
});

describe('EmbeddedConnector', () => {
  test('starts once, opens wire sessions through the upstream handshake, reports health, closes', async () => {
    const conn = new EmbeddedConnector('demo', { type: 'embedded', seed: 'empty' });
    try {
      await Promise.all([conn.start(), conn.start()]);
      const { port } = await conn.address();
      await conn.start();
      assert.equal((await conn.address()).port, port);

      const up = await conn.openWire({ applicationName: 'portcullis:test', parameters: new Map([['DateStyle', 'ISO']]) });
      assert.ok(up.backendPid > 0);
      assert.match(up.parameters.get('server_version') ?? '', /^\d+/);
      assert.equal(up.parameters.get('application_name'), 'portcullis:test');
      // Relay a simple query by hand: Query('SELECT 41+1'), read until ReadyForQuery.
      const q = Buffer.from('QSELECT 41+1\0', 'latin1');
      const msg = Buffer.concat([q.subarray(0, 1), Buffer.alloc(4), q.subarray(1)]);
      msg.writeInt32BE(msg.length - 1, 1);
      const reply = await within(
        new Promise<Buffer>((resolve) => {
          let acc = up.leftover ?? Buffer.alloc(0);
          up.socket.on('data', (d: Buffer) => {
            acc = Buffer.concat([acc, d]);
            if (acc.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))) resolve(acc);
          });
          up.socket.resume();
          up.socket.write(msg);
        }),
        5000,
        'relayed query',
      );
      assert.ok(reply.includes(Buffer.from('42')));
      await up.cancel(); // accepted and ignored: nothing to interrupt
      up.socket.destroy();

      const ms = await conn.health();
      assert.ok(ms >= 0 && ms < 5000);
    } finally {
      await conn.close();
    }
    await conn.close();
  });
});
