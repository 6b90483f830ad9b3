/**
 * The driver-path conformance suite (STYLE.md §6): the same cases against every connector that
 * implements `query()` — a real PostgreSQL through `PostgresConnector` and PGlite through
 * `EmbeddedConnector`. Cases a connector cannot meet are skipped with the reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connector, QueryRequest } from '../../src/connectors/connector.js';
import { PostgresConnector } from '../../src/connectors/postgres/postgres-connector.js';
import { EmbeddedConnector } from '../../src/connectors/embedded/embedded-connector.js';
import { StatementError } from '../../src/connectors/postgres/statement-error.js';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';

interface Subject {
  readonly name: string;
  make(): Promise<Connector>;
  /** Why a case cannot apply to this connector; absent when it must pass. */
  readonly skip?: Partial<Record<'timeout' | 'applicationName' | 'sessionReset' | 'abort', string>>;
}

let cluster: PgCluster | undefined;
const subjects: Subject[] = [
  {
    name: 'postgres',
    async make() {
      cluster = await startPostgres({ auth: 'scram-sha-256' });
      const { Secret } = await import('../../src/config/secret.js');
      return new PostgresConnector('main', { type: 'postgres', url: `postgres://postgres@127.0.0.1:${cluster.port}/postgres`, password: new Secret(cluster.password, 'test'), connect_timeout: 5 });
    },
  },
  {
    name: 'embedded',
    async make() {
      const c = new EmbeddedConnector('demo', { type: 'embedded', seed: 'empty' });
      await c.start();
      return c;
    },
    skip: {
      timeout: 'PGlite runs statements on the JavaScript thread; nothing can interrupt one',
      abort: 'PGlite runs statements on the JavaScript thread; nothing can interrupt one',
      applicationName: 'the single PGlite backend is shared by every session; the driver path leaves its settings alone',
      sessionReset: 'the single PGlite backend is shared by every session, so SET is shared by design',
    },
  },
];

const req = (sql: string, over: Partial<QueryRequest> = {}): QueryRequest => ({ sql, maxRows: 1000, applicationName: 'portcullis:alice', ...over });

after(async () => {
  await cluster?.stop();
});

for (const s of subjects) {
  describe(`driver path: ${s.name}`, () => {
    let c: Connector;
    const q = (sql: string, over: Partial<QueryRequest> = {}) => c.query!(req(sql, over));

    before(async () => {
      c = await s.make();
      await q('CREATE TABLE dq_items (id int PRIMARY KEY, label text, price numeric(6,2), flag bool, tags text[], doc jsonb, note text)');
      await q("INSERT INTO dq_items SELECT g, 'item ' || g, g + 0.5, g % 2 = 0, ARRAY['a', 'b'], jsonb_build_object('k', g), NULL FROM generate_series(1, 50) g");
    });
    after(async () => {
      await c?.close();
    });

    test('values arrive in PostgreSQL text form, NULL as null', async () => {
      const r = await q('SELECT id, label, price, flag, tags, doc, note, 1.5::float8 AS f FROM dq_items WHERE id = $1', { params: ['1'] });
      assert.deepEqual(r.rows, [['1', 'item 1', '1.50', 'f', '{a,b}', '{"k": 1}', null, '1.5']]);
      assert.equal(r.command, 'SELECT 1');
      assert.equal(r.rowCount, 1);
      assert.equal(r.truncated, false);
    });

    test('columns carry type, source table and attribute number', async () => {
      const oid = Number((await q("SELECT 'dq_items'::regclass::oid")).rows[0]![0]);
      const r = await q('SELECT label, id, price * 2 AS doubled FROM dq_items LIMIT 1');
      assert.deepEqual(r.columns, [
        { name: 'label', typeOid: 25, tableOid: oid, attnum: 2 },
        { name: 'id', typeOid: 23, tableOid: oid, attnum: 1 },
        { name: 'doubled', typeOid: 1700, tableOid: 0, attnum: 0 },
      ]);
    });

    test('at most maxRows rows, and truncation is stated', async () => {
      const cut = await q('SELECT id FROM dq_items ORDER BY id', { maxRows: 10 });
      assert.equal(cut.rows.length, 10);
      assert.equal(cut.truncated, true);
      assert.equal(cut.rowCount, 10);
      assert.deepEqual(cut.rows.at(-1), ['10']);
      const exact = await q('SELECT id FROM dq_items', { maxRows: 50 });
      assert.equal(exact.truncated, false);
      assert.equal(exact.command, 'SELECT 50');
      const none = await q('SELECT id FROM dq_items', { maxRows: 0 });
      assert.deepEqual([none.rows.length, none.truncated], [0, true]);
    });

    test('a cap never reads the whole result', async () => {
      const started = performance.now();
      // 50^4 rows from a nested loop that streams (a set-returning function would be
      // materialized by PostgreSQL itself before the first row).
      const r = await q('SELECT a.id FROM dq_items a, dq_items b, dq_items c, dq_items d', { maxRows: 3 });
      assert.equal(r.rows.length, 3);
      assert.equal(r.truncated, true);
      assert.ok(performance.now() - started < 2000, 'six million rows were not read');
    });

    test('parameters in text form, NULL included', async () => {
      const r = await q('SELECT $1::int + 1, $2::text IS NULL', { params: ['41', null] });
      assert.deepEqual(r.rows, [['42', 't']]);
    });

    test('writes report their tag and count', async () => {
      const r = await q("INSERT INTO dq_items (id, label) VALUES (1000, 'new')");
      assert.equal(r.command, 'INSERT 0 1');
      assert.equal(r.rowCount, 1);
      assert.deepEqual([r.columns, r.rows], [[], []]);
      const u = await q('UPDATE dq_items SET note = $1 WHERE id >= 1000 RETURNING id', { params: ['x'] });
      assert.deepEqual([u.command, u.rows], ['UPDATE 1', [['1000']]]);
    });

    test("the database's errors carry SQLSTATE; the next statement runs normally", async () => {
      await assert.rejects(q('SELECT * FROM no_such_table'), (e: unknown) => e instanceof StatementError && e.sqlstate === '42P01' && /no_such_table/.test(e.message));
      await assert.rejects(q('SELECT 1; SELECT 2'), (e: unknown) => e instanceof StatementError && e.sqlstate === '42601');
      assert.deepEqual((await q('SELECT 2')).rows, [['2']]);
    });

    test('notices are returned with the result', async () => {
      const r = await q("DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$");
      assert.deepEqual(r.notices, ['NOTICE: hello from plpgsql']);
    });

    test('a transaction left open is rolled back, not carried into the next request', async () => {
      await q('BEGIN');
      await q("INSERT INTO dq_items (id, label) VALUES (2000, 'ghost')");
      const again = await q('BEGIN');
      assert.deepEqual(again.notices, [], 'no "already a transaction in progress" warning');
      await q('ROLLBACK');
      assert.deepEqual((await q('SELECT count(*) FROM dq_items WHERE id = 2000')).rows, [['1']], 'the insert committed on its own');
    });

    test('statement_timeout from the decision', { skip: s.skip?.timeout }, async () => {
      await assert.rejects(q('SELECT pg_sleep(5)', { timeoutMs: 150 }), (e: unknown) => e instanceof StatementError && e.sqlstate === '57014');
      assert.deepEqual((await q("SELECT current_setting('statement_timeout')")).rows, [['0']]);
    });

    test('application_name names the calling identity', { skip: s.skip?.applicationName }, async () => {
      const r = await q("SELECT current_setting('application_name')", { applicationName: 'portcullis:bob/agent' });
      assert.deepEqual(r.rows, [['portcullis:bob/agent']]);
    });

    test('session settings do not leak to the next request on a pooled session', { skip: s.skip?.sessionReset }, async () => {
      const before = (await q('SHOW search_path')).rows;
      await q('SET search_path TO nowhere');
      await q('PREPARE leaked AS SELECT 1');
      assert.deepEqual((await q('SHOW search_path')).rows, before);
      await assert.rejects(q('EXECUTE leaked'), (e: unknown) => e instanceof StatementError && e.sqlstate === '26000');
    });

    test('an aborted request cancels the statement upstream', { skip: s.skip?.abort }, async () => {
      const ac = new AbortController();
      const started = performance.now();
      setTimeout(() => ac.abort(), 150);
      await assert.rejects(q('SELECT pg_sleep(10)', { signal: ac.signal }));
      assert.ok(performance.now() - started < 3000);
      assert.deepEqual((await q('SELECT 1')).rows, [['1']]);
    });
  });
}
