import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSnowflakeAnalyzer } from '../../src/analysis/snowflake/analyzer.js';
import { snowflakeLineage } from '../../src/masking/snowflake-lineage.js';
import { staticCatalog } from '../../src/masking/catalog.js';

// As the Snowflake connector builds it: lower-cased names, default schema public.
const catalog = staticCatalog({
  relations: {
    'public.customers': ['id', 'name', 'email', 'ssn', 'card', 'profile'],
    'public.orders': ['id', 'customer_id', 'total', 'note'],
    'public.customer_contacts': { columns: ['cid', 'contact'], view: 'SELECT id, email FROM public.customers' },
    'public.profile_view': { columns: ['who', 'tax_id'], view: "SELECT name, profile:tax.ssn::string FROM customers WHERE profile:kind = 'person'" },
    'public.stacked_view': { columns: ['x'], view: 'SELECT tax_id FROM profile_view' },
    'public.broken_view': { columns: ['a'], view: 'SELECT FROM WHERE' },
    'sales.leads': ['id', 'email'],
  },
  pureFunctions: ['normalize_email'],
  impureFunctions: ['get_ssn'],
});

before(async () => {
  await createSnowflakeAnalyzer();
});

const SSN = 'public.customers.ssn';
const EMAIL = 'public.customers.email';
const PROFILE = 'public.customers.profile';

function lineage(sql: string) {
  const all = snowflakeLineage(sql, catalog);
  assert.equal(all.length, 1, sql);
  return all[0]!;
}

/** [query, output column index → a sensitive source it must carry (or 'unknown')]. */
const FORMS: [string, Record<number, string>][] = [
  ['SELECT ssn AS x FROM customers', { 0: SSN }],
  ['SELECT c.ssn "Tax Id" FROM customers AS c', { 0: SSN }],
  ['SELECT "SSN" FROM "PUBLIC"."CUSTOMERS"', { 0: SSN }],
  ['SELECT ssn FROM prod_db.public.customers', { 0: SSN }],
  ['SELECT ssn FROM prod_db..customers', { 0: SSN }],
  ["SELECT ssn FROM IDENTIFIER('public.customers')", { 0: SSN }],
  ['SELECT ssn::varchar FROM customers', { 0: SSN }],
  ['SELECT CAST(ssn AS varchar(11)), TRY_CAST(ssn AS int), TO_VARCHAR(ssn) FROM customers', { 0: SSN, 1: SSN, 2: SSN }],
  ["SELECT ssn || '-' || email FROM customers", { 0: SSN }],
  ["SELECT CONCAT(name, ' ', ssn), CONCAT_WS('/', email, id) FROM customers", { 0: SSN, 1: EMAIL }],
  ['SELECT SUBSTR(ssn, 1, 3), LEFT(ssn, 3), RIGHT(ssn, 4), REVERSE(ssn) FROM customers', { 0: SSN, 1: SSN, 2: SSN, 3: SSN }],
  ["SELECT SHA2(ssn), MD5(email), BASE64_ENCODE(ssn), HEX_ENCODE(ssn), REGEXP_REPLACE(ssn, '-', '') FROM customers", { 0: SSN, 1: EMAIL, 2: SSN, 3: SSN, 4: SSN }],
  ["SELECT IFF(id > 0, ssn, NULL), NVL(email, ''), COALESCE(NULL, ssn), DECODE(id, 1, ssn, email) FROM customers", { 0: SSN, 1: EMAIL, 2: SSN, 3: SSN }],
  ["SELECT CASE WHEN id > 0 THEN ssn ELSE 'x' END FROM customers", { 0: SSN }],
  ['SELECT profile:tax.ssn::string FROM customers', { 0: PROFILE }],
  ["SELECT GET_PATH(profile, 'tax.ssn'), PARSE_JSON(profile)['tax'] FROM customers", { 0: PROFILE, 1: PROFILE }],
  ['SELECT x FROM (SELECT ssn AS x FROM customers) sub', { 0: SSN }],
  ['SELECT sub.a FROM (SELECT ssn, email FROM customers) AS sub (a, b)', { 0: SSN }],
  ['SELECT (SELECT MAX(ssn) FROM customers)', { 0: SSN }],
  ['SELECT id, (SELECT c.email FROM customers c WHERE c.id = o.customer_id) FROM orders o', { 1: EMAIL }],
  ['WITH s AS (SELECT ssn FROM customers) SELECT * FROM s', { 0: SSN }],
  ['WITH s (x) AS (SELECT ssn FROM customers) SELECT x FROM s', { 0: SSN }],
  ['WITH a AS (SELECT email FROM customers), b AS (SELECT email AS e FROM a) SELECT e FROM b', { 0: EMAIL }],
  ['WITH RECURSIVE r (n, s) AS (SELECT 1, ssn FROM customers UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT s FROM r', { 0: SSN }],
  ['SELECT note FROM orders UNION SELECT ssn FROM customers', { 0: SSN }],
  ['SELECT id, note FROM orders UNION ALL SELECT id, email FROM customers', { 1: EMAIL }],
  ['SELECT note FROM orders MINUS SELECT ssn FROM customers', { 0: SSN }],
  ['SELECT email FROM customers INTERSECT SELECT note FROM orders', { 0: EMAIL }],
  ['SELECT o.id, c.ssn FROM orders o JOIN customers c ON c.id = o.customer_id', { 1: SSN }],
  ['SELECT o.id, z.ssn FROM orders o LEFT JOIN LATERAL (SELECT ssn FROM customers c WHERE c.id = o.customer_id) z', { 1: SSN }],
  ['SELECT f.value FROM customers c, LATERAL FLATTEN(input => c.profile) f', { 0: PROFILE }],
  ['SELECT f.value:ssn::string, f.key FROM customers c, LATERAL FLATTEN(INPUT => c.profile:tax) AS f', { 0: PROFILE, 1: PROFILE }],
  ['SELECT value FROM customers, TABLE(FLATTEN(input => ARRAY_CONSTRUCT(ssn, email)))', { 0: SSN }],
  ["SELECT t.value FROM customers, TABLE(SPLIT_TO_TABLE(ssn, '-')) t", { 0: SSN }],
  ['SELECT LAG(ssn) OVER (ORDER BY id), FIRST_VALUE(email) OVER (PARTITION BY name ORDER BY id) FROM customers', { 0: SSN, 1: EMAIL }],
  ['SELECT ROW_NUMBER() OVER (PARTITION BY ssn ORDER BY id) FROM customers', { 0: SSN }],
  ['SELECT id FROM customers QUALIFY ROW_NUMBER() OVER (PARTITION BY ssn ORDER BY id) = 1', {}],
  ["SELECT MAX(ssn), MIN(email), LISTAGG(ssn, ',') WITHIN GROUP (ORDER BY id), ARRAY_AGG(email), ANY_VALUE(ssn) FROM customers", { 0: SSN, 1: EMAIL, 2: SSN, 3: EMAIL, 4: SSN }],
  ['SELECT COUNT(DISTINCT ssn), APPROX_COUNT_DISTINCT(email) FROM customers', { 0: SSN, 1: EMAIL }],
  ['SELECT * FROM customers', { 2: EMAIL, 3: SSN }],
  ['SELECT c.* FROM orders o JOIN customers c ON c.id = o.customer_id', { 2: EMAIL, 3: SSN }],
  ['SELECT * EXCLUDE (id, name) FROM customers', { 0: EMAIL, 1: SSN }],
  ['SELECT * RENAME (ssn AS tax_id) FROM customers', { 3: SSN }],
  ["SELECT * ILIKE '%s%' FROM customers", { 0: SSN }],
  ['SELECT OBJECT_CONSTRUCT(*) FROM customers', { 0: SSN }],
  ['SELECT OBJECT_CONSTRUCT_KEEP_NULL(c.*) FROM customers c', { 0: SSN }],
  ['SELECT HASH(*), TO_JSON(OBJECT_CONSTRUCT(*)) FROM customers', { 0: SSN, 1: SSN }],
  ['SELECT ssn AS s, s || email AS t FROM customers', { 1: SSN }],
  ['SELECT $4 FROM customers', { 0: SSN }],
  ['SELECT contact FROM customer_contacts', { 0: EMAIL }],
  ['SELECT tax_id FROM profile_view', { 0: PROFILE }],
  ['SELECT x FROM stacked_view', { 0: PROFILE }],
  ['SELECT normalize_email(email) FROM customers', { 0: EMAIL }],
  ['SELECT email FROM sales.leads', { 0: 'sales.leads.email' }],
  ['SELECT get_ssn(id) FROM customers', { 0: 'unknown' }],
  ['SELECT some_udf(name) FROM customers', { 0: 'unknown' }],
  ['SELECT analytics.util.score(name) FROM customers', { 0: 'unknown' }],
  ['SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))', { 0: 'unknown' }],
  ["SELECT * FROM TABLE(TO_QUERY('SELECT ssn FROM customers'))", { 0: 'unknown' }],
  ['SELECT $secret_var', { 0: 'unknown' }],
  ['SELECT $1, $2 FROM @unload_stage/dump/', { 0: 'unknown', 1: 'unknown' }],
  ['SELECT a FROM broken_view', { 0: 'unknown' }],
  ['SELECT * FROM unknown_table', { 0: 'unknown' }],
  ['SELECT t.x FROM customers c, TABLE(my_udtf(c.ssn)) t', { 0: 'unknown' }],
  ['SELECT * FROM IDENTIFIER($tbl)', { 0: 'unknown' }],
];

test(`Snowflake lineage follows every form in ${FORMS.length} queries`, () => {
  const failures: string[] = [];
  for (const [sql, expect] of FORMS) {
    const l = lineage(sql);
    for (const [idx, want] of Object.entries(expect)) {
      const col = l.exact ? l.columns[Number(idx)] : { sources: l.columns.flatMap((c) => c.sources), unknown: ['*'] };
      const ok = col !== undefined && (want === 'unknown' ? (col.unknown?.length ?? 0) > 0 : col.sources.includes(want) || (col.unknown?.length ?? 0) > 0);
      if (!ok) failures.push(`${sql} → column ${idx}: ${JSON.stringify(l)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('lineage stays precise where it can: untouched columns carry no sensitive source and nothing unknown', () => {
  const l = lineage("SELECT o.id, o.total, UPPER(c.name) AS who FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.ssn = '1' AND c.email LIKE ?");
  assert.equal(l.exact, true);
  assert.deepEqual(l.columns.map((c) => c.sources), [['public.orders.id'], ['public.orders.total'], ['public.customers.name']]);
  assert.deepEqual(l.columns.map((c) => c.name), ['id', 'total', 'who']);
  assert.ok(l.columns.every((c) => c.unknown === undefined));
  assert.deepEqual(l.relations, ['public.customers', 'public.orders']);
  const counts = lineage('SELECT COUNT(*), CURRENT_TIMESTAMP(), 1 + 1, UUID_STRING() FROM customers');
  assert.deepEqual(counts.columns.map((c) => c.sources), [[], [], [], []]);
  assert.ok(counts.columns.every((c) => c.unknown === undefined));
  const excluded = lineage('SELECT * EXCLUDE ssn FROM customers');
  assert.deepEqual(excluded.columns.map((c) => c.name), ['id', 'name', 'email', 'card', 'profile']);
  assert.ok(!excluded.columns.some((c) => c.sources.includes(SSN)));
  const replaced = lineage("SELECT * REPLACE ('***' AS ssn) FROM customers");
  assert.deepEqual(replaced.columns[3], { name: 'ssn', sources: [] });
});

test('the number of output columns is marked uncertain where it is', () => {
  assert.equal(lineage('SELECT * FROM unknown_table').exact, false);
  assert.equal(lineage('SELECT * FROM customers c JOIN orders o USING (id)').exact, false, 'USING merges the join column');
  assert.equal(lineage('SELECT * FROM customers NATURAL JOIN orders').exact, false);
  assert.equal(lineage('SELECT * FROM customers c, TABLE(my_udtf(c.id)) u').exact, false);
  assert.equal(lineage('SELECT * FROM orders CHANGES(INFORMATION => DEFAULT) AT(OFFSET => -60)').exact, false, 'CHANGES adds METADATA$ columns');
  assert.equal(lineage('SELECT * FROM customers PIVOT(MAX(ssn) FOR name IN (\'a\', \'b\')) p').exact, false);
  assert.equal(lineage('SELECT id, name FROM customers').exact, true);
});

test('statements that return no table data, and ones whose rows cannot be traced', () => {
  for (const sql of ['INSERT INTO orders (note) SELECT ssn FROM customers', 'UPDATE orders SET note = NULL WHERE id = 1', 'DELETE FROM orders WHERE id = 1', 'CREATE TABLE x AS SELECT ssn FROM customers', 'USE SCHEMA public', 'BEGIN TRANSACTION', 'COMMIT', "ALTER SESSION SET TIMEZONE = 'UTC'"]) {
    assert.deepEqual(lineage(sql), { columns: [], exact: true, relations: [] }, sql);
  }
  for (const sql of ['SHOW TABLES', 'DESCRIBE TABLE customers', 'CALL p()', "EXECUTE IMMEDIATE 'SELECT ssn FROM customers'", 'BEGIN SELECT ssn FROM customers; END', 'LIST @s', 'GET @s file:///tmp']) {
    const l = lineage(sql);
    assert.equal(l.exact, false, sql);
    assert.deepEqual(l.columns[0]!.unknown, ['*'], sql);
  }
  const two = snowflakeLineage('SELECT 1; SELECT ssn FROM customers; SELECT $$;$$', catalog);
  assert.equal(two.length, 3);
  assert.deepEqual(two[1]!.columns[0]!.sources, [SSN]);
});

test('lineage never throws: garbage, hostile text and deep nesting come back unknown', () => {
  for (const sql of ['SELEC nonsense', "SELECT 'open", 'SELECT 1 /* a /* b */', ')))', 'SELECT ' + '('.repeat(10_000) + '1', 'SELECT ' + Array.from({ length: 3000 }, (_, i) => i).join(' + '), 'SELECT 1\uff1b DROP TABLE x', '']) {
    let all: ReturnType<typeof snowflakeLineage> = [];
    assert.doesNotThrow(() => (all = snowflakeLineage(sql, catalog)), sql.slice(0, 40));
    for (const l of all) assert.ok(!l.exact || l.columns.length === 0 || l.columns.every((c) => (c.unknown?.length ?? 0) > 0), sql.slice(0, 40));
  }
  let deep = 'SELECT ssn FROM customers';
  for (let i = 0; i < 60; i++) deep = `SELECT * FROM (${deep}) t${i}`;
  const [l] = snowflakeLineage(deep, catalog);
  assert.ok(l!.columns.some((c) => c.sources.includes(SSN) || (c.unknown?.length ?? 0) > 0));
  let views = 'SELECT ssn FROM customers';
  for (let i = 0; i < 30; i++) views = `WITH w${i} AS (${views}) SELECT * FROM w${i}`;
  const [v] = snowflakeLineage(views, catalog);
  assert.ok(v!.columns.some((c) => c.sources.includes(SSN) || (c.unknown?.length ?? 0) > 0));
});
