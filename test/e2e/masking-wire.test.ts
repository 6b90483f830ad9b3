/**
 * Masking on the wire, end to end: hostile queries through real clients to real PostgreSQL
 * try to get a masked column out; every byte the client received is searched for every raw
 * sensitive value.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import pg from 'pg';
import postgres from 'postgres';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import type { TestGateway } from '../helpers/gateway.js';
import { createCustomers, PEOPLE, RAW, startMaskingGateway } from '../helpers/masking-fixture.js';
import { run } from '../helpers/run.js';
import { authenticated, errorOf } from '../helpers/raw-client.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';

let db: PgCluster;
let gw: TestGateway;
let tap: Server;
let tapPort = 0;
let received: Buffer[] = [];

before(async () => {
  db = await startPostgres();
  await createCustomers(db);
  gw = await startMaskingGateway(db, { http: true });
  // A byte tap between clients and the gateway: everything the gateway sends is kept.
  tap = createServer((c) => {
    const g = connect(gw.port, '127.0.0.1');
    c.pipe(g);
    g.on('data', (d: Buffer) => received.push(Buffer.from(d)));
    g.pipe(c);
    c.on('error', () => g.destroy());
    g.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => tap.listen(0, '127.0.0.1', r));
  tapPort = (tap.address() as { port: number }).port;
});
after(async () => {
  tap?.close();
  await gw?.stop();
  await db?.stop();
});

function assertNoRawValue(bytes: Buffer, context: string): void {
  const text = bytes.toString('latin1');
  for (const raw of RAW) assert.ok(!text.includes(raw), `${context}: the client received the raw value ${raw.slice(0, 3)}…`);
}

const HOSTILE = [
  'SELECT * FROM customers',
  'SELECT ssn FROM customers',
  'SELECT ssn AS x FROM customers',
  'SELECT c.ssn FROM customers c',
  'SELECT c.* FROM customers c',
  'SELECT customers.email FROM customers',
  'SELECT ssn || \'\' FROM customers',
  "SELECT ssn || '-' || email FROM customers",
  'SELECT substr(ssn, 1, 3), substr(ssn, 5, 2), substr(ssn, 8) FROM customers',
  'SELECT upper(email) FROM customers',
  'SELECT lower(email) FROM customers',
  "SELECT translate(ssn, '0123456789', 'abcdefghij') FROM customers",
  "SELECT replace(ssn, '-', '') FROM customers",
  'SELECT reverse(ssn) FROM customers',
  'SELECT ssn::text FROM customers',
  'SELECT CAST(card AS varchar) FROM customers',
  'SELECT row_to_json(c) FROM customers c',
  'SELECT to_jsonb(c.*) FROM customers c',
  'SELECT json_agg(c) FROM customers c',
  'SELECT c FROM customers c',
  "SELECT string_agg(email, ',') FROM customers",
  'SELECT array_agg(ssn) FROM customers',
  'SELECT array_to_string(array_agg(card), \';\') FROM customers',
  "SELECT encode(convert_to(ssn, 'UTF8'), 'base64') FROM customers",
  "SELECT encode(convert_to(email, 'UTF8'), 'hex') FROM customers",
  'SELECT md5(ssn) AS not_raw, ssn FROM customers',
  'SELECT (SELECT ssn FROM customers WHERE id = 1)',
  'SELECT x FROM (SELECT ssn AS x FROM customers) s',
  'WITH t AS (SELECT email AS e FROM customers) SELECT e FROM t',
  'WITH RECURSIVE r(v) AS (SELECT ssn FROM customers UNION ALL SELECT v FROM r WHERE false) SELECT v FROM r',
  'SELECT name FROM customers UNION ALL SELECT ssn FROM customers',
  'SELECT id FROM customers UNION SELECT 0 UNION SELECT NULL::int ORDER BY 1',
  'SELECT s.v FROM customers c, LATERAL (SELECT c.ssn AS v) s',
  'SELECT ssn, row_number() OVER (ORDER BY id) FROM customers',
  'SELECT first_value(card) OVER () FROM customers',
  'SELECT CASE WHEN id > 0 THEN ssn END FROM customers',
  'SELECT coalesce(NULL, email) FROM customers',
  'SELECT greatest(ssn, \'\') FROM customers',
  'SELECT * FROM customer_view',
  'SELECT tax_id, contact FROM customer_view',
  'SELECT v.* FROM customer_view v',
  'SELECT leak(ssn) FROM customers',
  'SELECT format(\'%s\', email) FROM customers',
  'SELECT concat(ssn) FROM customers',
  'SELECT concat_ws(\' \', name, card) FROM customers',
  'SELECT regexp_replace(card, \'(\\d)\', \'\\1 \', \'g\') FROM customers',
  'SELECT split_part(email, \'@\', 1), split_part(email, \'@\', 2) FROM customers',
  'SELECT left(ssn, 6), right(ssn, 5) FROM customers',
  'SELECT unnest(ARRAY[ssn, email]) FROM customers',
  'SELECT ARRAY[ssn] FROM customers',
  'SELECT (c).ssn FROM (SELECT c FROM customers c) x',
  'SELECT jsonb_build_object(\'s\', ssn) FROM customers',
  'SELECT xmlelement(name x, email) FROM customers',
  'SELECT body FROM tickets',
  'SELECT ssn FROM customers WHERE id = 1; SELECT email FROM customers WHERE id = 2',
  'TABLE customers',
  'SELECT DISTINCT ssn FROM customers',
  'SELECT min(ssn), max(email) FROM customers',
  'SELECT ssn FROM customers ORDER BY ssn LIMIT 1 OFFSET 1',
  'INSERT INTO tickets SELECT id, ssn FROM customers RETURNING body',
  'UPDATE tickets SET body = body WHERE id > 1 RETURNING body',
  'SELECT id, ssn COLLATE "C" FROM customers',
];

describe('hostile queries through node-postgres (text) and the byte tap', () => {
  test(`${HOSTILE.length} queries: no raw sensitive value ever reaches the client`, async () => {
    assert.ok(HOSTILE.length >= 60);
    const c = new pg.Client({ ...gw.pgConfig(), port: tapPort });
    await c.connect();
    const failed: string[] = [];
    try {
      for (const sql of HOSTILE) {
        received = [];
        await c.query(sql).catch((e: Error) => failed.push(`${sql}: ${e.message}`));
        assertNoRawValue(Buffer.concat(received), sql);
      }
      // The attack only counts if the query ran: masking, not refusal, must stop it.
      assert.deepEqual(failed, []);
    } finally {
      await c.end();
    }
  });

  test('the same with the extended protocol and binary results (postgres.js)', async () => {
    const sql = postgres({ host: '127.0.0.1', port: tapPort, user: 'agent', database: 'main', password: gw.keys.tester, max: 1, onnotice: () => {} });
    try {
      for (const q of HOSTILE.filter((h) => !h.includes(';'))) {
        received = [];
        await sql.unsafe(q).catch(() => {});
        assertNoRawValue(Buffer.concat(received), q);
      }
    } finally {
      await sql.end();
    }
  });

  test('values are masked by their strategies, not dropped', async () => {
    const c = new pg.Client(gw.pgConfig());
    await c.connect();
    try {
      const r = await c.query('SELECT name, ssn, card, email FROM customers ORDER BY id');
      assert.equal(r.rows[0].name, 'Alice Archer');
      assert.match(r.rows[0].ssn, /6789$/);
      assert.notEqual(r.rows[0].ssn, '123-45-6789');
      assert.ok(!/\d{12}/.test(r.rows[0].card));
      const again = await c.query('SELECT email FROM customers WHERE id = 1');
      assert.equal(again.rows[0].email, r.rows[0].email, 'hash is deterministic, so joins and GROUP BY still work');
    } finally {
      await c.end();
    }
  });

  test('an error message quoting a sensitive value is masked', async () => {
    const c = new pg.Client({ ...gw.pgConfig(), port: tapPort });
    await c.connect();
    try {
      received = [];
      await assert.rejects(c.query("INSERT INTO customers (id, email) VALUES (99, 'alice.archer@example.com')"), /duplicate key/);
      assertNoRawValue(Buffer.concat(received), 'unique violation');
    } finally {
      await c.end();
    }
  });

  test('COPY … TO STDOUT is masked', async () => {
    const r = await run('psql', ['-X', '-d', `postgresql://agent@127.0.0.1:${tapPort}/main?sslmode=disable`, '-c', 'COPY customers TO STDOUT', '-c', 'COPY (SELECT ssn, email FROM customers) TO STDOUT WITH (FORMAT csv)'], { env: gw.env() });
    assert.equal(r.code, 0, r.stderr);
    assertNoRawValue(Buffer.from(r.stdout), 'COPY output');
  });

  test('binary result format (node-postgres binary: true) is masked too', async () => {
    const c = new pg.Client({ ...gw.pgConfig(), port: tapPort });
    await c.connect();
    try {
      for (const text of ['SELECT ssn, email, card FROM customers', 'SELECT upper(email) AS e, ssn || \'\' AS s FROM customers']) {
        received = [];
        await c.query({ text, values: [], binary: true } as unknown as string);
        assertNoRawValue(Buffer.concat(received), `binary: ${text}`);
      }
    } finally {
      await c.end();
    }
  });

  test('the HTTP query API (driver path) masks with the same rules and lineage', async () => {
    for (const sql of HOSTILE.filter((h) => !h.includes(';') && !h.startsWith('INSERT') && !h.startsWith('UPDATE'))) {
      const res = await fetch(`${gw.httpUrl}/api/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.keys.tester}`, 'content-type': 'application/json' },
        body: JSON.stringify({ connection: 'main', sql }),
      });
      const body = Buffer.from(await res.arrayBuffer());
      assert.ok(res.status === 200 || res.status === 422, `${sql}: HTTP ${res.status} ${body.toString().slice(0, 200)}`);
      assertNoRawValue(body, `HTTP: ${sql}`);
    }
  });

  test('extended protocol without Describe: Parse, Bind, Execute and the rows still come back masked', async () => {
    // A driver may skip Describe (it knows the columns already); a hostile client may skip it
    // precisely so that no RowDescription passes the gateway before the rows do.
    const c = await authenticated(gw.port, gw.keys[Object.keys(gw.keys)[0]!]!);
    try {
      for (const sql of ['SELECT ssn, email, card FROM customers ORDER BY id', 'SELECT ssn || \'\' AS x FROM customers', 'SELECT * FROM customer_view']) {
        const w = new MessageWriter();
        w.begin(0x50).cstring('').cstring(sql).int16(0).end(); // Parse, unnamed
        w.begin(0x42).cstring('').cstring('').int16(0).int16(0).int16(0).end(); // Bind, text results
        w.begin(0x45).cstring('').int32(0).end(); // Execute, all rows
        w.begin(0x53).end(); // Sync
        c.write(w.take());
        const msgs = await c.untilReady();
        assert.equal(errorOf(msgs), undefined, sql);
        const rows = msgs.filter((m) => m.code === 'D');
        assert.equal(rows.length, PEOPLE.length, `${sql}: every row arrives`);
        assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), `${sql} (no Describe)`);
      }
      // Named statement prepared in one batch, executed in a later one, still without Describe.
      const w = new MessageWriter();
      w.begin(0x50).cstring('s1').cstring('SELECT email FROM customers WHERE id = $1').int16(0).end().begin(0x53).end();
      c.write(w.take());
      assert.equal(errorOf(await c.untilReady()), undefined);
      const x = new MessageWriter();
      x.begin(0x42).cstring('').cstring('s1').int16(0).int16(1).int32(1).bytes(Buffer.from('1')).int16(0).end();
      x.begin(0x45).cstring('').int32(0).end().begin(0x53).end();
      c.write(x.take());
      const msgs = await c.untilReady();
      assert.equal(msgs.filter((m) => m.code === 'D').length, 1);
      assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), 'named statement, later batch, no Describe');
    } finally {
      c.close();
    }
  });

  test('extended protocol: a Describe of another portal, a Describe in an earlier batch, a SQL PREPARE bound by name, a resumed portal — rows stay masked', async () => {
    const c = await authenticated(gw.port, gw.keys[Object.keys(gw.keys)[0]!]!);
    const rowsOf = (msgs: { code: string }[]) => msgs.filter((m) => m.code === 'D').length;
    try {
      // Portal a returns SSNs; portal b returns a constant. Both are described before a executes:
      // b's columns must not become a's plan.
      let w = new MessageWriter();
      w.begin(0x50).cstring('sa').cstring('SELECT ssn FROM customers').int16(0).end();
      w.begin(0x50).cstring('sb').cstring('SELECT 1 AS one').int16(0).end();
      w.begin(0x42).cstring('a').cstring('sa').int16(0).int16(0).int16(0).end();
      w.begin(0x42).cstring('b').cstring('sb').int16(0).int16(0).int16(0).end();
      w.begin(0x44).int8(0x50).cstring('a').end();
      w.begin(0x44).int8(0x50).cstring('b').end();
      w.begin(0x45).cstring('a').int32(0).end();
      w.begin(0x45).cstring('b').int32(0).end();
      w.begin(0x53).end();
      c.write(w.take());
      let msgs = await c.untilReady();
      assert.equal(errorOf(msgs), undefined);
      // The client gets exactly the answers it asked for: two RowDescriptions, not three or four.
      assert.equal(msgs.filter((m) => m.code === 'T').length, 2);
      assert.equal(rowsOf(msgs), PEOPLE.length + 1);
      assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), 'Describe a, Describe b, Execute a, Execute b');

      // Described in one batch, executed in the next, in chunks of one row (PortalSuspended), in a transaction so the portal survives.
      w = new MessageWriter();
      w.begin(0x51).cstring('BEGIN').end();
      c.write(w.take());
      await c.untilReady();
      w = new MessageWriter();
      w.begin(0x42).cstring('p').cstring('sa').int16(0).int16(0).int16(0).end();
      w.begin(0x44).int8(0x50).cstring('p').end();
      w.begin(0x53).end();
      c.write(w.take());
      assert.equal(errorOf(await c.untilReady()), undefined);
      for (let i = 0; i < PEOPLE.length; i++) {
        w = new MessageWriter();
        w.begin(0x45).cstring('p').int32(1).end().begin(0x53).end();
        c.write(w.take());
        msgs = await c.untilReady();
        assert.equal(errorOf(msgs), undefined);
        assert.equal(rowsOf(msgs), 1);
        assert.equal(msgs.filter((m) => m.code === 'T').length, 0, 'no RowDescription the client did not ask for');
        assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), `resumed portal, chunk ${i + 1}`);
      }
      c.query('COMMIT');
      await c.untilReady();

      // Binary results, and COPY … TO STDOUT, both through Parse/Bind/Execute with no Describe.
      w = new MessageWriter();
      w.begin(0x50).cstring('').cstring('SELECT ssn, email FROM customers').int16(0).end();
      w.begin(0x42).cstring('').cstring('').int16(0).int16(0).int16(1).int16(1).end(); // every result column binary
      w.begin(0x45).cstring('').int32(0).end().begin(0x53).end();
      c.write(w.take());
      msgs = await c.untilReady();
      assert.equal(errorOf(msgs), undefined);
      assert.equal(rowsOf(msgs), PEOPLE.length);
      assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), 'binary results, no Describe');
      w = new MessageWriter();
      w.begin(0x50).cstring('').cstring('COPY customers TO STDOUT').int16(0).end();
      w.begin(0x42).cstring('').cstring('').int16(0).int16(0).int16(0).end();
      w.begin(0x45).cstring('').int32(0).end().begin(0x53).end();
      c.write(w.take());
      msgs = await c.untilReady();
      assert.equal(errorOf(msgs), undefined);
      assert.equal(msgs.filter((m) => m.code === 'd').length, PEOPLE.length);
      assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), 'COPY TO STDOUT through the extended protocol');

      // A statement PREPAREd in SQL, then bound and executed through the protocol by its name.
      c.query('PREPARE leaky AS SELECT email, card FROM customers');
      assert.equal(errorOf(await c.untilReady()), undefined);
      w = new MessageWriter();
      w.begin(0x42).cstring('').cstring('leaky').int16(0).int16(0).int16(0).end();
      w.begin(0x45).cstring('').int32(0).end().begin(0x53).end();
      c.write(w.take());
      msgs = await c.untilReady();
      assert.equal(errorOf(msgs), undefined);
      assert.equal(rowsOf(msgs), PEOPLE.length);
      assertNoRawValue(Buffer.concat(msgs.map((m) => m.body)), 'SQL PREPARE bound by name, no Describe');
    } finally {
      c.close();
    }
  });

  test('recordings store masked values, never raw ones', async () => {
    await new Promise((r) => setTimeout(r, 300));
    await gw.gateway.recorder!.store.flush();
    const q = gw.gateway.recorder!.query;
    const page = await q.listSessions({}, { limit: 100 });
    for (const s of page.items) {
      const d = await q.getSession(s.id, { limit: 500 });
      const results = JSON.stringify(d!.statements.map((x) => x.result));
      for (const raw of RAW) assert.ok(!results.includes(raw), `recording holds a raw value ${raw.slice(0, 3)}…`);
    }
  });
});
