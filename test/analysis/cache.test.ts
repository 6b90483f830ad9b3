import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAnalyzer } from '../../src/analysis/analyzer.js';
import { literalKey } from '../../src/analysis/literal-key.js';
import { LruCache } from '../../src/analysis/lru-cache.js';

test('literalKey normalizes plain numbers and strings only', () => {
  assert.equal(literalKey('SELECT abalance FROM pgbench_accounts WHERE aid = 12345;'), literalKey('SELECT abalance FROM pgbench_accounts WHERE aid = 7;'));
  assert.equal(literalKey("SELECT * FROM t WHERE a = 'x' AND b = 1.5"), literalKey("SELECT * FROM t WHERE a = 'it''s' AND b = 22.75"));
  assert.notEqual(literalKey("SELECT * FROM t WHERE a = 'x'"), literalKey('SELECT * FROM t WHERE a = 1'));
  assert.notEqual(literalKey('SELECT * FROM t1 WHERE a = 1'), literalKey('SELECT * FROM t2 WHERE a = 1'));
  assert.equal(literalKey('SELECT * FROM t'), undefined, 'nothing to normalize');
  for (const unsure of [
    "SELECT E'x'",
    "SELECT e'\\\\x' ",
    "SELECT U&'\\0041'",
    'SELECT U&"x" FROM t WHERE a = 1',
    "SELECT B'101', 1",
    "SELECT X'ff', 1",
    "SELECT N'x', 1",
    "SELECT 'a\\' , 1",
    'SELECT $$x$$, 1',
    'SELECT $tag$x$tag$, 1',
    'SELECT 1 -- c',
    'SELECT /* c */ 1',
    'SELECT 1e5',
    'SELECT 1_000',
    'SELECT 0x1F',
    'SELECT .5',
    'SELECT 1.',
    "SELECT 'é', 1",
    "SELECT 'unterminated",
    'SELECT "unterminated',
    "SELECT date'2020-01-01', 1",
    'SELECT 12abc',
  ]) {
    assert.equal(literalKey(unsure), undefined, unsure);
  }
  assert.ok(literalKey('SELECT $1, 2')?.includes('$1'), 'parameters stay');
});

test('different statements never share an analysis', async () => {
  const a = await createAnalyzer();
  const pairs: [string, string][] = [
    ['SELECT * FROM customers WHERE id = 1', 'SELECT * FROM secrets WHERE id = 1'],
    ['SELECT * FROM t WHERE a = 1', 'DELETE FROM t WHERE a = 1'],
    ["SELECT set_config('application_name', 'x', false)", "SELECT set_config('role', 'postgres', false)"],
    ["SET application_name = 'x'", "SET search_path = 'x'"],
    ["DO 'BEGIN NULL; END'", "DO 'BEGIN DELETE FROM t; END'"],
    ["SELECT table_to_xml('public_info', true, false, '')", "SELECT table_to_xml('secrets', true, false, '')"],
    ["COPY t FROM 'a'", "COPY t FROM 'b'"],
    ["PREPARE p AS SELECT 1", "PREPARE p AS SELECT 2"],
    ['SELECT 1', 'SELECT 1; DROP TABLE t'],
  ];
  for (const [x, y] of pairs) {
    const ax = a.analyze(x);
    const ay = a.analyze(y);
    const ax2 = a.analyze(x);
    assert.notEqual(ax, ay, `${x} / ${y}`);
    assert.deepEqual(ax2, ax);
  }
  // set_config('role', …) must be re-analyzed for each literal, never normalized.
  a.analyze("SELECT set_config('application_name', 'x', false)");
  const role = a.analyze("SELECT set_config('role', 'postgres', false)");
  assert.ok(role.risks.includes('session-tampering'));
  const app = a.analyze("SELECT set_config('application_name', 'y', false)");
  assert.ok(!app.risks.includes('session-tampering'));
});

test('literal-insensitive statements hit the normalized cache; sensitive ones do not', async () => {
  const a = await createAnalyzer();
  a.analyze('SELECT abalance FROM pgbench_accounts WHERE aid = 1');
  const before = a.stats();
  const r = a.analyze('SELECT abalance FROM pgbench_accounts WHERE aid = 2');
  assert.equal(a.stats().normalizedHits, before.normalizedHits + 1);
  assert.deepEqual(r.reads, ['pgbench_accounts']);

  a.analyze("SELECT pg_read_file('/a', 1)");
  const s0 = a.stats();
  a.analyze("SELECT pg_read_file('/b', 2)");
  assert.equal(a.stats().normalizedHits, s0.normalizedHits, 'flagged functions stay exact-keyed');
  assert.equal(a.stats().misses, s0.misses + 1);

  a.analyze("SET statement_timeout = 1");
  const s1 = a.stats();
  a.analyze("SET statement_timeout = 2");
  assert.equal(a.stats().normalizedHits, s1.normalizedHits, 'SET stays exact-keyed');
});

test('repeats are exact hits and the caches stay bounded', async () => {
  const a = await createAnalyzer({ exactCacheSize: 50, normalizedCacheSize: 10 });
  for (let i = 0; i < 500; i++) a.analyze(`SELECT * FROM t${i} WHERE a = ${i}`);
  const s = a.stats();
  a.analyze('SELECT * FROM t499 WHERE a = 499');
  assert.equal(a.stats().exactHits, s.exactHits + 1);
  const lru = new LruCache<number>(3);
  for (let i = 0; i < 10; i++) lru.set(String(i), i);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('0'), undefined);
  assert.equal(lru.get('9'), 9);
});

test('analysis cost: cached lookups are cheap', async () => {
  const a = await createAnalyzer();
  const s = a.openSession();
  const sql = 'SELECT abalance FROM pgbench_accounts WHERE aid = ';
  s.analyze(`${sql}1;`);
  const n = 100_000;
  const texts = Array.from({ length: 1000 }, (_, i) => `${sql}${i * 7919};`);
  for (let i = 0; i < n; i++) s.analyze(texts[i % 1000]!); // let the JIT settle first
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) s.analyze(texts[i % 1000]!);
  const normalizedUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) s.analyze(texts[0]!);
  const exactUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  const m = 2000;
  t = process.hrtime.bigint();
  for (let i = 0; i < m; i++) s.analyze(`SELECT c${i}, name FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.total > 10`);
  const uncachedUs = Number(process.hrtime.bigint() - t) / 1000 / m;
  process.stdout.write(`# analysis cost: exact hit ${exactUs.toFixed(2)} µs, literal-normalized hit ${normalizedUs.toFixed(2)} µs, uncached ${uncachedUs.toFixed(1)} µs per statement\n`);
  assert.ok(normalizedUs < 20 && exactUs < 20, 'generous bound for slow CI machines');
});
