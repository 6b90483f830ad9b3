import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadModule } from 'libpg-query';
import { sqlLineage } from '../../src/masking/lineage.js';
import { staticCatalog } from '../../src/masking/catalog.js';

const catalog = staticCatalog({
  relations: {
    'public.customers': ['id', 'name', 'email', 'ssn', 'card'],
    'public.orders': ['id', 'customer_id', 'total', 'note'],
    'public.customer_contacts': { columns: ['cid', 'contact'], view: 'SELECT id, email FROM public.customers' },
    'public.masked_view': { columns: ['who', 'x'], view: 'SELECT name, upper(ssn) FROM public.customer_contacts cc JOIN public.customers c ON c.id = cc.cid' },
    'sales.leads': ['id', 'email'],
  },
  impureFunctions: ['get_ssn'],
});

before(async () => {
  await loadModule();
});

const SSN = 'public.customers.ssn';
const EMAIL = 'public.customers.email';

/** [query, output column index → a sensitive source it must carry (or 'unknown')]. */
const HOSTILE: [string, Record<number, string>][] = [
  ['SELECT ssn AS x FROM customers', { 0: SSN }],
  ['SELECT c.ssn FROM customers c', { 0: SSN }],
  ['SELECT * FROM customers', { 2: EMAIL, 3: SSN }],
  ['SELECT c.* FROM customers AS c', { 3: SSN }],
  ['SELECT public.customers.ssn FROM public.customers', { 0: SSN }],
  ['SELECT ssn::text FROM customers', { 0: SSN }],
  ['SELECT CAST(ssn AS varchar(20)) FROM customers', { 0: SSN }],
  ["SELECT ssn || '' FROM customers", { 0: SSN }],
  ["SELECT concat(ssn, '') FROM customers", { 0: SSN }],
  ["SELECT concat_ws('-', name, email) FROM customers", { 0: EMAIL }],
  ['SELECT substr(ssn, 1, 3), substr(ssn, 4) FROM customers', { 0: SSN, 1: SSN }],
  ["SELECT split_part(email, '@', 1) FROM customers", { 0: EMAIL }],
  ['SELECT left(ssn, 5), right(ssn, 4) FROM customers', { 0: SSN, 1: SSN }],
  ['SELECT upper(email), lower(email), initcap(email) FROM customers', { 0: EMAIL, 1: EMAIL, 2: EMAIL }],
  ["SELECT translate(ssn, '0123456789', 'abcdefghij') FROM customers", { 0: SSN }],
  ['SELECT reverse(ssn) FROM customers', { 0: SSN }],
  ["SELECT encode(convert_to(ssn, 'UTF8'), 'base64') FROM customers", { 0: SSN }],
  ["SELECT encode(ssn::bytea, 'hex') FROM customers", { 0: SSN }],
  ['SELECT md5(ssn) FROM customers', { 0: SSN }],
  ["SELECT regexp_replace(ssn, '-', '', 'g') FROM customers", { 0: SSN }],
  ["SELECT string_to_array(ssn, '-') FROM customers", { 0: SSN }],
  ["SELECT regexp_split_to_table(ssn, '') FROM customers", { 0: SSN }],
  ['SELECT ascii(substr(ssn, 1, 1)) FROM customers', { 0: SSN }],
  ['SELECT row_to_json(c) FROM customers c', { 0: SSN }],
  ['SELECT to_jsonb(c.*) FROM customers c', { 0: SSN }],
  ['SELECT c FROM customers c', { 0: SSN }],
  ['SELECT (c).ssn FROM customers c', { 0: SSN }],
  ["SELECT json_build_object('s', ssn) FROM customers", { 0: SSN }],
  ["SELECT jsonb_build_object('e', email)->>'e' FROM customers", { 0: EMAIL }],
  ['SELECT row(id, ssn)::text FROM customers', { 0: SSN }],
  ["SELECT string_agg(email, ',') FROM customers", { 0: EMAIL }],
  ['SELECT array_agg(ssn ORDER BY id) FROM customers', { 0: SSN }],
  ['SELECT json_agg(c) FROM customers c', { 0: SSN }],
  ['SELECT max(ssn), min(email) FROM customers', { 0: SSN, 1: EMAIL }],
  ['SELECT array[ssn, email] FROM customers', { 0: SSN }],
  ['SELECT (array[ssn])[1] FROM customers', { 0: SSN }],
  ['SELECT x FROM (SELECT ssn AS x FROM customers) t', { 0: SSN }],
  ['SELECT t.a FROM (SELECT ssn FROM customers) AS t(a)', { 0: SSN }],
  ['SELECT (SELECT ssn FROM customers LIMIT 1)', { 0: SSN }],
  ['SELECT id, (SELECT email FROM customers c WHERE c.id = o.customer_id) FROM orders o', { 1: EMAIL }],
  ['SELECT ARRAY(SELECT ssn FROM customers)', { 0: SSN }],
  ['WITH s AS (SELECT ssn FROM customers) SELECT * FROM s', { 0: SSN }],
  ['WITH s(x) AS (SELECT ssn FROM customers) SELECT x FROM s', { 0: SSN }],
  ['WITH a AS (SELECT email FROM customers), b AS (SELECT email AS e FROM a) SELECT e FROM b', { 0: EMAIL }],
  ["WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM customers UNION ALL SELECT n + 1, s || '' FROM r WHERE n < 3) SELECT s FROM r", { 0: SSN }],
  ['WITH RECURSIVE r AS (SELECT id, email FROM customers UNION SELECT r.id, r.email FROM r) SELECT email FROM r', { 0: EMAIL }],
  ['SELECT name FROM orders UNION SELECT ssn FROM customers'.replace('name FROM orders', 'note FROM orders'), { 0: SSN }],
  ['SELECT id, note FROM orders UNION ALL SELECT id, email FROM customers', { 1: EMAIL }],
  ['SELECT email FROM customers INTERSECT SELECT note FROM orders', { 0: EMAIL }],
  ['SELECT note FROM orders EXCEPT SELECT ssn FROM customers', { 0: SSN }],
  ['SELECT o.id, z.ssn FROM orders o JOIN LATERAL (SELECT ssn FROM customers c WHERE c.id = o.customer_id) z ON true', { 1: SSN }],
  ['SELECT o.id, z.v FROM orders o, LATERAL (SELECT upper(email) AS v FROM customers) z', { 1: EMAIL }],
  ['SELECT j.* FROM (customers JOIN orders ON customers.id = orders.customer_id) AS j', { 3: SSN }],
  ['SELECT x FROM customers c CROSS JOIN LATERAL unnest(array[c.ssn]) AS u(x)', { 0: SSN }],
  ['SELECT e FROM customers c, jsonb_array_elements_text(jsonb_build_array(c.email)) AS e', { 0: EMAIL }],
  ["SELECT first_value(ssn) OVER (ORDER BY id) FROM customers", { 0: SSN }],
  ['SELECT lag(email) OVER w FROM customers WINDOW w AS (ORDER BY id)', { 0: EMAIL }],
  ['SELECT row_number() OVER (ORDER BY ssn) FROM customers', { 0: SSN }],
  ["SELECT CASE WHEN id > 0 THEN ssn ELSE 'x' END FROM customers", { 0: SSN }],
  ["SELECT CASE ssn WHEN '1' THEN 'a' ELSE 'b' END FROM customers", { 0: SSN }],
  ['SELECT coalesce(NULL, email) FROM customers', { 0: EMAIL }],
  ['SELECT nullif(ssn, \'\'), greatest(ssn, email) FROM customers', { 0: SSN, 1: SSN }],
  ['SELECT contact FROM customer_contacts', { 0: EMAIL }],
  ['SELECT x FROM masked_view', { 0: SSN }],
  ['SELECT * FROM masked_view', { 1: SSN }],
  ['SELECT get_ssn(id) FROM customers', { 0: 'unknown' }],
  ["SELECT query_to_xml('select ssn from customers', true, true, '')", { 0: 'unknown' }],
  ["SELECT current_setting('my.ssn')", { 0: 'unknown' }],
  ['SELECT * FROM unknown_table', { 0: 'unknown' }],
  ['SELECT email FROM sales.leads', { 0: 'sales.leads.email' }],
  ["SELECT x.ssn FROM json_to_record((SELECT row_to_json(c) FROM customers c LIMIT 1)) AS x(ssn text)", { 0: SSN }],
  ["SELECT * FROM json_populate_record(NULL::customers, (SELECT to_json(c) FROM customers c LIMIT 1))", { 0: SSN }],
  ['INSERT INTO orders (note) SELECT ssn FROM customers RETURNING note', { 0: SSN }],
  ['UPDATE orders SET note = c.email FROM customers c WHERE c.id = orders.customer_id RETURNING note', { 0: EMAIL }],
  ['DELETE FROM customers RETURNING ssn', { 0: SSN }],
  ['DELETE FROM customers RETURNING *', { 3: SSN }],
  ['WITH d AS (DELETE FROM customers RETURNING *) SELECT ssn FROM d', { 0: SSN }],
  ['COPY (SELECT ssn FROM customers) TO STDOUT', { 0: SSN }],
  ['COPY customers TO STDOUT', { 3: SSN }],
  ['COPY customers (email) TO STDOUT WITH (FORMAT csv)', { 0: EMAIL }],
  ['VALUES ((SELECT ssn FROM customers LIMIT 1))', { 0: SSN }],
  ['TABLE customers', { 3: SSN }],
  ["SELECT xmlelement(name s, ssn) FROM customers", { 0: SSN }],
  ["SELECT format('%s', ssn) FROM customers", { 0: SSN }],
  ['SELECT ssn COLLATE "C" FROM customers', { 0: SSN }],
  ["SELECT s FROM (SELECT ssn FROM customers) AS t(s) WHERE s LIKE '1%'", { 0: SSN }],
  ['SELECT "SSN" FROM (SELECT ssn AS "SSN" FROM customers) t', { 0: SSN }],
];

test(`lineage finds the sensitive source of every output in ${HOSTILE.length} hostile queries`, () => {
  assert.ok(HOSTILE.length >= 60);
  const failures: string[] = [];
  for (const [sql, expect] of HOSTILE) {
    const [l] = sqlLineage(sql, catalog);
    assert.ok(l, sql);
    for (const [idx, want] of Object.entries(expect)) {
      const col = l.exact ? l.columns[Number(idx)] : { sources: l.columns.flatMap((c) => c.sources), unknown: ['*'] };
      const ok = col !== undefined && (want === 'unknown' ? (col.unknown?.length ?? 0) > 0 : col.sources.includes(want) || (col.unknown?.length ?? 0) > 0);
      if (!ok) failures.push(`${sql} → column ${idx}: ${JSON.stringify(col)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('lineage stays precise where it can: untouched columns carry no sensitive source', () => {
  const [l] = sqlLineage('SELECT o.id, o.total, upper(c.name) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.ssn = $1', catalog);
  assert.deepEqual(l!.columns.map((c) => c.sources), [['public.orders.id'], ['public.orders.total'], ['public.customers.name']]);
  assert.ok(l!.columns.every((c) => c.unknown === undefined));
  const [u] = sqlLineage('SELECT count(*), now(), 1 + 1 FROM customers', catalog);
  assert.deepEqual(u!.columns.map((c) => c.sources), [[], [], []]);
});

test('cursors and prepared statements are reported for the caller to map', () => {
  const [d] = sqlLineage('DECLARE cur CURSOR FOR SELECT ssn FROM customers', catalog);
  assert.deepEqual(d!.defines, { kind: 'cursor', name: 'cur' });
  assert.deepEqual(d!.columns[0]!.sources, [SSN]);
  const [f] = sqlLineage('FETCH 10 FROM cur', catalog);
  assert.deepEqual(f!.uses, { kind: 'cursor', name: 'cur' });
  assert.equal(f!.exact, false);
});

test('lineage never throws: garbage, deep nesting and odd statements come back unknown', () => {
  assert.equal(sqlLineage('SELEC nonsense', catalog)[0]!.exact, false);
  let deep = 'SELECT ssn FROM customers';
  for (let i = 0; i < 80; i++) deep = `SELECT * FROM (${deep}) t${i}`;
  const [l] = sqlLineage(deep, catalog);
  assert.ok(l!.columns.some((c) => c.sources.includes(SSN) || (c.unknown?.length ?? 0) > 0));
  assert.equal(sqlLineage('CALL do_things()', catalog)[0]!.exact, false);
  assert.equal(sqlLineage('SELECT 1; SELECT ssn FROM customers', catalog).length, 2);
});
