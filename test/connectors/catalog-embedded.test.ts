// The embedded connector's catalog, read from PGlite directly. One test: PGlite takes seconds to boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { EmbeddedConnector } from '../../src/connectors/embedded/embedded-connector.js';
import { EMBEDDED_DATABASE, EMBEDDED_ROLE } from '../../src/connectors/embedded/wire-session.js';
import { sqlLineage } from '../../src/masking/index.js';

test('the embedded demo database: columns, views, OIDs as clients see them, invalidation after DDL', async () => {
  const conn = new EmbeddedConnector('demo', { type: 'embedded', seed: 'demo' });
  const { host, port } = await conn.address();
  const client = new pg.Client({ host, port, user: EMBEDDED_ROLE, database: EMBEDDED_DATABASE });
  try {
    const [snap, same] = await Promise.all([conn.catalog(), conn.catalog()]);
    assert.equal(snap, same);
    assert.equal(snap.complete, true);
    assert.deepEqual(snap.searchPath, ['public']);
    const customers = snap.relation(undefined, 'customers');
    assert.deepEqual(customers?.columns.slice(0, 5), ['id', 'full_name', 'email', 'phone', 'ssn']);
    for (const t of ['orders', 'order_items', 'payments', 'employees', 'support_tickets', 'products']) {
      assert.ok(snap.relation('public', t), t);
    }
    const summary = snap.relation(undefined, 'customer_summary');
    assert.match(summary?.viewQuery ?? '', /public\.customers/);
    const [lin] = sqlLineage('SELECT * FROM customer_summary', snap);
    assert.ok(lin?.columns.some((c) => c.sources.some((s) => s.startsWith('public.customers.'))), JSON.stringify(lin));

    await client.connect();
    const r = await client.query('SELECT c.email, o.total_cents, 1 AS one FROM customers c JOIN orders o ON o.customer_id = c.id LIMIT 1');
    assert.deepEqual(
      r.fields.map((f) => snap.columnByOid(f.tableID, f.columnID)),
      [{ schema: 'public', table: 'customers', column: 'email', isTable: true }, { schema: 'public', table: 'orders', column: 'total_cents', isTable: true }, undefined],
    );

    // A client's session-level SET must not leak into the catalog's view of the default path.
    await client.query('CREATE SCHEMA scratch; CREATE TABLE scratch.notes (body text); SET search_path = scratch, public');
    assert.equal(await conn.catalog(), snap, 'cached until invalidated');
    conn.invalidateCatalog();
    const fresh = await conn.catalog();
    assert.notEqual(fresh, snap);
    assert.deepEqual(fresh.relation('scratch', 'notes')?.columns, ['body']);
    assert.deepEqual(fresh.searchPath, ['public']);
    assert.equal(fresh.relation(undefined, 'notes'), undefined);
  } finally {
    await client.end().catch(() => undefined);
    await conn.close();
  }
});
