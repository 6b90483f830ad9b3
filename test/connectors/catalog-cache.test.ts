// When a connector's catalog snapshot is loaded, shared, served stale and reloaded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgresShared, type PgCluster } from '../helpers/pg-cluster.js';
import { CatalogCache } from '../../src/connectors/catalog-cache.js';
import { CatalogSnapshot } from '../../src/connectors/catalog-snapshot.js';
import { PostgresConnector } from '../../src/connectors/postgres/postgres-connector.js';
import { CATALOG_SESSION, loadPostgresCatalog } from '../../src/connectors/postgres/catalog-query.js';

/** A loader whose loads finish only when the test says so. */
function gatedLoader(): {
  load: (at: number) => Promise<CatalogSnapshot>;
  started: number[];
  finish: (outcome?: Error) => void;
} {
  const pending: { at: number; resolve: (s: CatalogSnapshot) => void; reject: (e: Error) => void }[] = [];
  const started: number[] = [];
  return {
    started,
    load: (at) =>
      new Promise((resolve, reject) => {
        started.push(at);
        pending.push({ at, resolve, reject });
      }),
    finish(outcome) {
      const p = pending.shift();
      if (p === undefined) throw new Error('no load in flight');
      if (outcome) p.reject(outcome);
      else p.resolve(CatalogSnapshot.unknown(p.at, `load ${started.indexOf(p.at)}`));
    },
  };
}

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('CatalogCache', () => {
  it('shares the first load between concurrent callers', async () => {
    const g = gatedLoader();
    const cache = new CatalogCache(g.load, { now: () => 1000 });
    const calls = [cache.get(), cache.get(), cache.get()];
    await settle();
    assert.equal(g.started.length, 1);
    g.finish();
    const [a, b, c] = await Promise.all(calls);
    assert.ok(a === b && b === c);
    assert.equal(a!.loadedAt, 1000);
  });

  it('serves the old snapshot while a TTL reload runs in the background', async () => {
    let now = 0;
    const g = gatedLoader();
    const cache = new CatalogCache(g.load, { ttlMs: 60_000, now: () => now });
    const first = cache.get();
    await settle();
    g.finish();
    const s0 = await first;
    now = 59_999;
    assert.equal(await cache.get(), s0);
    assert.equal(g.started.length, 1);
    now = 60_000;
    assert.equal(await cache.get(), s0, 'stale, but served at once');
    assert.equal(await cache.get(), s0, 'a second caller does not start a second load');
    await settle();
    assert.deepEqual(g.started, [0, 60_000]);
    g.finish();
    await settle();
    const s1 = await cache.get();
    assert.notEqual(s1, s0);
    assert.equal(s1.loadedAt, 60_000);
  });

  it('keeps serving after a failed reload and retries after retryMs', async () => {
    let now = 0;
    const g = gatedLoader();
    const cache = new CatalogCache(g.load, { ttlMs: 1000, retryMs: 100, now: () => now });
    const first = cache.get();
    await settle();
    g.finish();
    const s0 = await first;
    now = 1000;
    assert.equal(await cache.get(), s0);
    await settle();
    g.finish(new Error('upstream down'));
    await settle();
    now = 1099;
    assert.equal(await cache.get(), s0);
    assert.equal(g.started.length, 2, 'no retry before retryMs');
    now = 1100;
    assert.equal(await cache.get(), s0);
    await settle();
    assert.equal(g.started.length, 3);
  });

  it('rejects every waiting caller when the first load fails, and loads again on the next call', async () => {
    const g = gatedLoader();
    const cache = new CatalogCache(g.load, { now: () => 0 });
    const calls = [cache.get(), cache.get()];
    await settle();
    g.finish(new Error('boom'));
    for (const c of calls) await assert.rejects(c, /boom/);
    const again = cache.get();
    await settle();
    assert.equal(g.started.length, 2);
    g.finish();
    assert.equal((await again).loadedAt, 0);
  });

  it('after invalidate(), waits for a load that begins after it, even with one in flight', async () => {
    let now = 0;
    const g = gatedLoader();
    const cache = new CatalogCache(g.load, { ttlMs: 1000, now: () => now });
    const first = cache.get();
    await settle();
    g.finish();
    const s0 = await first;
    // A background reload starts, then DDL commits and the relay invalidates.
    now = 1000;
    await cache.get();
    await settle();
    now = 1001;
    cache.invalidate();
    const waiting = [cache.get(), cache.get()];
    await settle();
    assert.equal(g.started.length, 2, 'one load at a time: the new one queues');
    g.finish();
    await settle();
    assert.deepEqual(g.started, [0, 1000, 1001]);
    let done = false;
    void Promise.all(waiting).then(() => (done = true));
    await settle();
    assert.equal(done, false, 'the reload that began before invalidate() does not satisfy it');
    g.finish();
    const [a, b] = await Promise.all(waiting);
    assert.ok(a === b && a !== s0);
    assert.equal(a!.loadedAt, 1001);
    assert.equal(await cache.get(), a);
  });

  it('rejects a non-positive TTL', () => {
    assert.throws(() => new CatalogCache(async () => CatalogSnapshot.unknown(0, 'x'), { ttlMs: 0 }), TypeError);
  });
});

describe('CatalogCache over a real PostgreSQL', () => {
  let server: PgCluster;

  before(async () => {
    server = await startPostgresShared();
    await server.exec('DROP DATABASE IF EXISTS cache_test; CREATE DATABASE cache_test;');
  });
  after(async () => {
    await server?.exec('DROP DATABASE IF EXISTS cache_test;');
  });

  it('reloads after the TTL and sees DDL committed meanwhile', async () => {
    const connector = new PostgresConnector('main', { type: 'postgres', url: server.url('cache_test'), connect_timeout: 5 });
    let now = 5_000;
    let loads = 0;
    let last: Promise<CatalogSnapshot> | undefined;
    const cache = new CatalogCache(
      (loadedAt) => {
        loads++;
        last = loadPostgresCatalog(() => connector.openWire(CATALOG_SESSION), { connection: 'main', timeoutMs: 10_000, loadedAt });
        return last;
      },
      { ttlMs: 60_000, now: () => now },
    );
    const [s0, s0b] = await Promise.all([cache.get(), cache.get()]);
    assert.equal(s0, s0b);
    assert.equal(loads, 1);
    assert.equal(s0.relation(undefined, 'later'), undefined);
    await server.exec('CREATE TABLE public.later (a int, b text);', 'cache_test');
    now += 60_000;
    assert.equal(await cache.get(), s0);
    assert.equal(loads, 2);
    await last;
    const s1 = await cache.get();
    assert.deepEqual(s1.relation(undefined, 'later')?.columns, ['a', 'b']);
    assert.equal(s1.loadedAt, 65_000);
  });
});
