// The live catalog snapshot of a PostgreSQL upstream, read by the connector over its own session.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { freePort } from '../helpers/net.js';
import { PostgresConnector } from '../../src/connectors/postgres/postgres-connector.js';
import { CATALOG_SESSION, loadPostgresCatalog } from '../../src/connectors/postgres/catalog-query.js';
import { CATALOG_LIMITS, CatalogSnapshot, type CatalogRows } from '../../src/connectors/catalog-snapshot.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';
import { sqlLineage } from '../../src/masking/index.js';

const SCHEMA = `
CREATE EXTENSION citext;
CREATE SCHEMA app;
CREATE SCHEMA crm;
CREATE SCHEMA "Odd Name";
CREATE TABLE crm.customers (id int PRIMARY KEY, name text, scratch text, email text, ssn text);
ALTER TABLE crm.customers DROP COLUMN scratch;
CREATE TABLE app.orders (id int, customer_id int, total numeric);
CREATE TABLE public.orders (legacy int);
CREATE TABLE public.pg_class (shadowed int);
CREATE TABLE "Odd Name"."Mixed Case" ("A b" int);
CREATE VIEW app.customer_emails AS SELECT c.id, c.email AS contact FROM crm.customers c JOIN app.orders o ON o.customer_id = c.id;
CREATE MATERIALIZED VIEW crm.customer_ids AS SELECT id FROM crm.customers;
CREATE TABLE app.events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE app.events_2024 PARTITION OF app.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE SEQUENCE app.notes;
CREATE TABLE crm.notes (body text);
CREATE FUNCTION app.shout(t text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT upper(t)';
CREATE FUNCTION app.pick() RETURNS text VOLATILE LANGUAGE sql AS 'SELECT ssn FROM crm.customers LIMIT 1';
CREATE FUNCTION crm.pick(n int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT n';
INSERT INTO crm.customers VALUES (1, 'Ada', 'ada@example.com', '123-45-6789');
INSERT INTO app.orders VALUES (10, 1, 5);
ALTER DATABASE cat SET search_path = app, crm, "$user", public, nosuchschema;
`;

describe('catalog snapshot of a PostgreSQL upstream', () => {
  let server: PgCluster;
  let connector: PostgresConnector;
  let snap: CatalogSnapshot;

  before(async () => {
    server = await startPostgres();
    await server.exec('CREATE DATABASE cat;');
    await server.exec(SCHEMA, 'cat');
    connector = new PostgresConnector('main', { type: 'postgres', url: server.url('cat'), connect_timeout: 5 });
    snap = await connector.catalog();
  });
  after(async () => {
    await connector?.close();
    await server?.stop();
  });

  it('reports the database default search path, $user expanded and missing schemas dropped', () => {
    assert.equal(snap.complete, true);
    assert.deepEqual(snap.searchPath, ['app', 'crm', 'public']);
    assert.equal(snap.defaultSchema, 'app');
  });

  it('lists columns in attribute order without dropped ones, for tables, views and matviews', () => {
    assert.deepEqual(snap.relation('crm', 'customers'), { schema: 'crm', name: 'customers', columns: ['id', 'name', 'email', 'ssn'] });
    assert.deepEqual(snap.relation('crm', 'customer_ids')?.columns, ['id']);
    assert.deepEqual(snap.relation('app', 'events')?.columns, ['id', 'at']);
    assert.deepEqual(snap.relation('app', 'events_2024')?.columns, ['id', 'at']);
    assert.deepEqual(snap.relation('Odd Name', 'Mixed Case')?.columns, ['A b']);
    const view = snap.relation('app', 'customer_emails');
    assert.deepEqual(view?.columns, ['id', 'contact']);
    // Deparsed under a path of pg_catalog alone, so every table is schema-qualified.
    assert.match(view?.viewQuery ?? '', /FROM \(?crm\.customers c/);
    assert.match(view?.viewQuery ?? '', /JOIN app\.orders o/);
  });

  it('resolves unqualified names along the search path, pg_catalog first', () => {
    assert.equal(snap.relation(undefined, 'orders')?.schema, 'app');
    assert.deepEqual(snap.relation('public', 'orders')?.columns, ['legacy']);
    assert.equal(snap.relation(undefined, 'customers')?.schema, 'crm');
    // public.pg_class exists but pg_catalog.pg_class wins: a metadata table, known to lineage.
    assert.equal(snap.relation(undefined, 'pg_class')?.schema, 'pg_catalog');
    assert.ok(snap.relation(undefined, 'pg_class')?.columns.includes('relname'));
    assert.deepEqual(snap.relation('public', 'pg_class')?.columns, ['shadowed']);
    // System relations that hold data or secrets stay unknown.
    assert.equal(snap.relation('pg_catalog', 'pg_stats'), undefined);
    assert.equal(snap.relation('pg_catalog', 'pg_statistic'), undefined);
    assert.equal(snap.relation('pg_catalog', 'pg_authid'), undefined);
    // The sequence app.notes comes first on the path and hides the table crm.notes.
    assert.equal(snap.relation(undefined, 'notes'), undefined);
    assert.deepEqual(snap.relation('crm', 'notes')?.columns, ['body']);
    assert.equal(snap.relation(undefined, 'nothing_here'), undefined);
    assert.equal(snap.relation('nosuchschema', 'orders'), undefined);
  });

  it('honours an explicit pg_catalog position and another session path', () => {
    const late = snap.withSearchPath(['public', 'pg_catalog']);
    assert.deepEqual(late.relation(undefined, 'pg_class')?.columns, ['shadowed']);
    assert.equal(late.relation(undefined, 'orders')?.schema, 'public');
    assert.equal(late.defaultSchema, 'public');
    assert.equal(snap.withSearchPath(['crm']).relation(undefined, 'notes')?.schema, 'crm');
  });

  it('traces lineage through a view under any path', () => {
    for (const cat of [snap, snap.withSearchPath(['public'])]) {
      const [lin] = sqlLineage('SELECT contact FROM app.customer_emails', cat);
      const col = lin?.columns[0];
      assert.deepEqual(col?.sources, ['app.customer_emails.contact', 'crm.customers.email'], JSON.stringify(lin));
      assert.equal(col?.unknown, undefined);
    }
  });

  it('treats user functions as pure only when IMMUTABLE and written in C or by an extension', () => {
    assert.equal(snap.functionIsPure('app', 'shout'), false, 'IMMUTABLE SQL can read tables');
    assert.equal(snap.functionIsPure('app', 'pick'), false);
    assert.equal(snap.functionIsPure(undefined, 'pick'), false, 'any overload on the path may be called');
    assert.equal(snap.functionIsPure('public', 'citext_cmp'), true);
    assert.equal(snap.functionIsPure(undefined, 'citext_cmp'), true);
    // citext overloads regexp_match; the built-in list decides for the pg_catalog one.
    assert.equal(snap.functionIsPure(undefined, 'regexp_match'), undefined);
    assert.equal(snap.functionIsPure(undefined, 'upper'), undefined);
    assert.equal(snap.functionIsPure('pg_catalog', 'upper'), undefined);
    assert.equal(snap.functionIsPure('app', 'missing'), undefined);
  });

  it('maps RowDescription table OIDs and attribute numbers as pg reports them', async () => {
    const client = new pg.Client({ connectionString: server.url('cat') });
    await client.connect();
    try {
      const r = await client.query('SELECT c.ssn, c.id, o.total, v.contact, m.id AS mid, 1 AS k, c.email || o.id AS e FROM crm.customers c, app.orders o, app.customer_emails v, crm.customer_ids m');
      const seen = r.fields.map((f) => snap.columnByOid(f.tableID, f.columnID));
      assert.deepEqual(seen, [
        { schema: 'crm', table: 'customers', column: 'ssn', isTable: true },
        { schema: 'crm', table: 'customers', column: 'id', isTable: true },
        { schema: 'app', table: 'orders', column: 'total', isTable: true },
        { schema: 'app', table: 'customer_emails', column: 'contact', isTable: false },
        { schema: 'crm', table: 'customer_ids', column: 'id', isTable: false },
        undefined,
        undefined,
      ]);
      // The dropped column leaves a gap: ssn is attribute 5, not 4.
      assert.equal(r.fields[0]!.columnID, 5);
      // A metadata table's column is itself; one holding sampled data is not resolved.
      const sys = await client.query('SELECT relname FROM pg_catalog.pg_class LIMIT 1');
      assert.deepEqual(snap.columnByOid(sys.fields[0]!.tableID, sys.fields[0]!.columnID), { schema: 'pg_catalog', table: 'pg_class', column: 'relname', isTable: true });
      const stat = await client.query('SELECT starelid FROM pg_catalog.pg_statistic LIMIT 1');
      assert.equal(snap.columnByOid(stat.fields[0]!.tableID, stat.fields[0]!.columnID), undefined);
    } finally {
      await client.end();
    }
  });

  it('shares one load between concurrent first calls', async () => {
    const fresh = new PostgresConnector('main', { type: 'postgres', url: server.url('cat'), connect_timeout: 5 });
    const all = await Promise.all(Array.from({ length: 8 }, () => fresh.catalog()));
    assert.ok(all.every((s) => s === all[0]));
    assert.equal(await fresh.catalog(), all[0]);
  });

  it('serves the cached snapshot until invalidated, then waits for a fresh one', async () => {
    const c = new PostgresConnector('main', { type: 'postgres', url: server.url('cat'), connect_timeout: 5 });
    const first = await c.catalog();
    await server.exec('CREATE TABLE app.added (x int); CREATE OR REPLACE VIEW app.customer_emails AS SELECT c.id, c.ssn AS contact FROM crm.customers c;', 'cat');
    try {
      assert.equal(await c.catalog(), first);
      c.invalidateCatalog();
      const second = await c.catalog();
      assert.notEqual(second, first);
      assert.deepEqual(second.relation(undefined, 'added')?.columns, ['x']);
      assert.match(second.relation('app', 'customer_emails')?.viewQuery ?? '', /c\.ssn AS contact/);
    } finally {
      await server.exec('DROP TABLE app.added; CREATE OR REPLACE VIEW app.customer_emails AS SELECT c.id, c.email AS contact FROM crm.customers c JOIN app.orders o ON o.customer_id = c.id;', 'cat');
    }
  });

  it('rejects with ERR_UPSTREAM_UNAVAILABLE when the upstream is down, and retries on the next call', async () => {
    const down = new PostgresConnector('down', { type: 'postgres', url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connect_timeout: 2 });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(down.catalog(), (e: unknown) => e instanceof PortcullisError && e.code === 'ERR_UPSTREAM_UNAVAILABLE');
    }
  });

  it('reports a statement the upstream refuses', async () => {
    await server.exec('CREATE ROLE reader LOGIN; REVOKE SELECT ON pg_catalog.pg_proc FROM PUBLIC;', 'cat');
    try {
      const c = new PostgresConnector('main', { type: 'postgres', url: server.url('cat', 'reader'), connect_timeout: 5 });
      await assert.rejects(c.catalog(), (e: unknown) => e instanceof PortcullisError && e.code === 'ERR_UPSTREAM_UNAVAILABLE' && /permission denied for table pg_proc/.test(e.message));
    } finally {
      await server.exec('GRANT SELECT ON pg_catalog.pg_proc TO PUBLIC; DROP ROLE reader;', 'cat');
    }
  });

  it('loads a catalog of 1000 tables and 100 views quickly', async (t) => {
    await server.exec('CREATE DATABASE big;');
    await server.exec(
      `DO $$ BEGIN
         FOR i IN 1..1000 LOOP
           EXECUTE format('CREATE TABLE public.t%s (id int PRIMARY KEY, a text, b text, c int, d date, e numeric, f text, g text, h bool, j jsonb)', i);
         END LOOP;
         FOR i IN 1..100 LOOP
           EXECUTE format('CREATE VIEW public.v%s AS SELECT x.id, x.a, y.b FROM public.t%s x JOIN public.t%s y USING (id)', i, i, i + 1);
         END LOOP;
       END $$;`,
      'big',
    );
    const open = (): ReturnType<PostgresConnector['openWire']> => big.openWire(CATALOG_SESSION);
    const big = new PostgresConnector('big', { type: 'postgres', url: server.url('big'), connect_timeout: 5 });
    const times: number[] = [];
    let s: CatalogSnapshot | undefined;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      s = await loadPostgresCatalog(open, { connection: 'big', timeoutMs: 30_000, loadedAt: Date.now() });
      times.push(performance.now() - t0);
    }
    // Plus the system metadata tables' columns (a few hundred, depending on the server version).
    assert.ok(s!.size.columns >= 1000 * 10 + 100 * 3 && s!.size.columns < 1000 * 10 + 100 * 3 + 1000, String(s!.size.columns));
    assert.deepEqual(s!.relation(undefined, 'v7')?.columns, ['id', 'a', 'b']);
    times.sort((a, b) => a - b);
    t.diagnostic(`1000 tables + 100 views: ${s!.size.relations} relations, ${s!.size.columns} columns, ${s!.size.functions} function names; load ms min ${times[0]!.toFixed(1)} median ${times[2]!.toFixed(1)} max ${times[4]!.toFixed(1)}`);
    // Generous: a loaded CI machine is slow, but a regression to seconds per load should fail.
    assert.ok(times[2]! < 10_000, `median load ${times[2]} ms`);
  });
});

describe('catalog snapshot limits', () => {
  it('refuses a catalog over the column limit and says unknown for everything', () => {
    const rows: CatalogRows = {
      searchPath: [['public']],
      relations: [['16384', 'public', 'wide', 'r', null]],
      columns: Array.from({ length: CATALOG_LIMITS.columns + 1 }, (_, i) => ['16384', String(i + 1), `c${i}`]),
      functions: [['public', 'f', 'true']],
    };
    const s = CatalogSnapshot.fromRows(rows, 42);
    assert.equal(s.complete, false);
    assert.match(s.reason ?? '', /more than 200000 columns/);
    assert.equal(s.loadedAt, 42);
    assert.equal(s.relation('public', 'wide'), undefined);
    assert.equal(s.relation(undefined, 'wide'), undefined);
    assert.equal(s.columnByOid(16384, 1), undefined);
    assert.equal(s.functionIsPure('public', 'f'), undefined);
    assert.equal(s.defaultSchema, 'public');
  });

  it('keeps a view whose text was withheld as an unknown name', () => {
    const s = CatalogSnapshot.fromRows(
      {
        searchPath: [['a'], ['b']],
        relations: [
          ['1', 'a', 'huge_view', 'v', null],
          ['2', 'b', 'huge_view', 'r', null],
        ],
        columns: [
          ['1', '1', 'x'],
          ['2', '1', 'y'],
        ],
        functions: [],
      },
      0,
    );
    assert.equal(s.relation(undefined, 'huge_view'), undefined);
    assert.deepEqual(s.columnByOid(1, 1), { schema: 'a', table: 'huge_view', column: 'x', isTable: false });
  });
});
