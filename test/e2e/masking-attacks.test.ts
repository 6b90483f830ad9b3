/**
 * Masking on the wire, attacked: each entry is a sequence of statements (simple Query or
 * extended protocol) an agent could send to get a raw masked value back over the PostgreSQL
 * wire protocol. Every byte the client receives is searched for every raw sensitive value.
 *
 * Attacks that are stopped stay as regression tests in one grouped test (`HELD`); each attack
 * that still leaks has its own named test below.
 *
 * The payload of most attacks is the SSN with its dashes stripped (`123456789`): content
 * detectors recognise a bare nine-digit run only after a word like "SSN", so the value gets
 * through only if the column rule (via table OID or lineage) fails to apply. That isolates
 * the rule/lineage path under test from the detector safety net.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import type { TestGateway } from '../helpers/gateway.js';
import { createCustomers, RAW, startMaskingGateway } from '../helpers/masking-fixture.js';
import { authenticated, errorOf, type RawClient, type RawMessage } from '../helpers/raw-client.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';

let db: PgCluster;
let gw: TestGateway;

before(async () => {
  db = await startPostgres();
  await createCustomers(db);
  gw = await startMaskingGateway(db);
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

/** One step of an attack: a simple Query, a pause (lets the catalog reload after DDL), or extended-protocol messages. */
type Step =
  | string
  | { readonly sleep: number }
  /** Parse (unnamed unless `name`), Bind, Execute, Sync; `binary` asks for every result column in binary. */
  | { readonly ext: string; readonly binary?: boolean; readonly name?: string }
  /** Bind a portal to an existing (protocol- or SQL-) prepared statement by name, Execute, Sync. */
  | { readonly bind: string; readonly binary?: boolean };

interface Attack {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Steps may fail with an ErrorResponse (the error text itself may be the channel). */
  readonly mayFail?: boolean;
  /** A known, documented leak: reported as a todo, not a failure, until it is closed. */
  readonly todo?: string;
}

const stripped = "replace(ssn, '-', '')";

function send(c: RawClient, step: Exclude<Step, string | { sleep: number }>): void {
  const w = new MessageWriter();
  const fmt = (binary?: boolean) => (binary ? (w.int16(1), w.int16(1)) : w.int16(0));
  if ('ext' in step) {
    w.begin(0x50).cstring(step.name ?? '').cstring(step.ext).int16(0).end();
    w.begin(0x42).cstring('').cstring(step.name ?? '').int16(0).int16(0);
  } else {
    w.begin(0x42).cstring('').cstring(step.bind).int16(0).int16(0);
  }
  fmt(step.binary);
  w.end();
  w.begin(0x45).cstring('').int32(0).end();
  w.begin(0x53).end();
  c.write(w.take());
}

/** Runs an attack on a fresh session; returns every message the client received and the errors. */
async function runAttack(a: Attack): Promise<{ msgs: RawMessage[]; errors: string[] }> {
  const c = await authenticated(gw.port, gw.keys[Object.keys(gw.keys)[0]!]!);
  const msgs: RawMessage[] = [];
  const errors: string[] = [];
  try {
    for (const step of a.steps) {
      if (typeof step === 'object' && 'sleep' in step) {
        await new Promise((r) => setTimeout(r, step.sleep));
        continue;
      }
      if (typeof step === 'string') c.query(step);
      else send(c, step);
      const got = await c.untilReady(10_000);
      msgs.push(...got);
      const e = errorOf(got);
      if (e) errors.push(`${typeof step === 'string' ? step : JSON.stringify(step)}: ${e.message}`);
      if (got.at(-1)?.code !== 'Z') throw new Error(`session ended during ${JSON.stringify(step)}: ${e?.message ?? 'closed'}`);
    }
  } finally {
    c.close();
  }
  return { msgs, errors };
}

function leaked(msgs: readonly RawMessage[]): string[] {
  const text = Buffer.concat(msgs.map((m) => m.body)).toString('latin1');
  return RAW.filter((raw) => text.includes(raw));
}

async function assertHeld(a: Attack): Promise<void> {
  const { msgs, errors } = await runAttack(a);
  if (!a.mayFail) assert.deepEqual(errors, [], `${a.name}: the attack must run (masking, not refusal, has to stop it)`);
  const hits = leaked(msgs);
  // Which message kinds carried a raw value (DataRow D, CopyData d, Error E, Notice N, Notification A).
  const where = [...new Set(msgs.filter((m) => hits.some((h) => m.body.toString('latin1').includes(h))).map((m) => m.code))];
  if (process.env.ATTACK_DEBUG) for (const m of msgs) if (hits.some((h) => m.body.toString('latin1').includes(h))) console.log(a.name, m.code, JSON.stringify(m.body.toString('latin1')));
  assert.deepEqual(hits.map((h) => `${h.slice(0, 3)}…`), [], `${a.name}: the client received raw value(s) in message(s) ${where.join(', ')}`);
}

/** Attacks that leak today: each gets its own test below, which fails until the hole is closed. */
const LEAKS: Attack[] = [
  // ---- multi-statement Query: which statement's lineage plans which result set ----
  { name: 'DECLARE … ; SELECT <stripped ssn> — a DECLARE (no rows) takes the SELECT\'s place', steps: [`DECLARE c1 CURSOR WITH HOLD FOR SELECT name FROM customers; SELECT ${stripped} AS x FROM customers`, 'CLOSE c1'] },
  { name: 'PREPARE … ; SELECT <stripped ssn> — a PREPARE (no rows) takes the SELECT\'s place', steps: [`PREPARE p1 AS SELECT name FROM customers; SELECT ${stripped} AS x FROM customers`] },
  { name: 'SELECT name; COPY (SELECT <stripped ssn>) TO STDOUT — COPY is planned from the first statement', steps: [`SELECT name FROM customers; COPY (SELECT ${stripped} FROM customers) TO STDOUT`] },
  { name: 'COPY (SELECT name); COPY (SELECT <stripped ssn>) — the second COPY gets the first one\'s plan', steps: [`COPY (SELECT name FROM customers) TO STDOUT; COPY (SELECT ${stripped} FROM customers) TO STDOUT`] },

  // ---- cursors and prepared statements redefined under the same name ----
  {
    name: 'cursor redefined under the same name: FETCH reuses the cached plan of the harmless cursor',
    steps: [
      "DECLARE c2 CURSOR WITH HOLD FOR SELECT name || '' AS x FROM customers; SELECT 1 AS one",
      'FETCH ALL FROM c2',
      'CLOSE c2',
      `DECLARE c2 CURSOR WITH HOLD FOR SELECT ${stripped} AS x FROM customers`,
      'FETCH ALL FROM c2',
    ],
  },
  {
    name: 'cursor redefined under the same name: a new FETCH text uses the stale DECLARE lineage',
    steps: [
      "DECLARE c3 CURSOR WITH HOLD FOR SELECT name || '' AS x FROM customers; SELECT 1 AS one",
      'CLOSE c3',
      `DECLARE c3 CURSOR WITH HOLD FOR SELECT ${stripped} AS x FROM customers`,
      'FETCH 10 FROM c3',
    ],
  },
  {
    name: 'SQL PREPARE redefined under the same name: EXECUTE uses the stale lineage / cached plan',
    steps: [
      "PREPARE q1 AS SELECT name || '' AS x FROM customers; SELECT 1 AS one",
      'EXECUTE q1',
      'DEALLOCATE q1',
      `PREPARE q1 AS SELECT ${stripped} AS x FROM customers`,
      'EXECUTE q1',
    ],
  },
  {
    name: 'protocol-prepared statement replaced through SQL DEALLOCATE + PREPARE: Bind/Execute is planned from the old text',
    steps: [
      { ext: "SELECT name || '' AS x FROM customers", name: 'sx' },
      'DEALLOCATE sx',
      `PREPARE sx AS SELECT ${stripped} AS x FROM customers`,
      { bind: 'sx' },
    ],
  },

  // ---- RETURNING: RowDescription names the target table column, but the value is what was written ----
  { name: 'UPDATE customers SET notes = <stripped ssn> RETURNING notes', steps: ['BEGIN', `UPDATE customers SET notes = ${stripped} RETURNING notes`, 'ROLLBACK'] },
  { name: 'INSERT INTO tickets SELECT id, <stripped ssn> … RETURNING body', steps: ['BEGIN', `INSERT INTO tickets SELECT id, ${stripped} FROM customers RETURNING body`, 'ROLLBACK'] },
  { name: 'writable CTE: WITH x AS (UPDATE customers SET name = <stripped ssn> RETURNING name) SELECT name FROM x', steps: ['BEGIN', `WITH x AS (UPDATE customers SET name = ${stripped} RETURNING name) SELECT name FROM x`, 'ROLLBACK'] },
  { name: 'INSERT … ON CONFLICT DO UPDATE SET notes = <stripped ssn> RETURNING notes', steps: ['BEGIN', `INSERT INTO customers (id) SELECT id FROM customers ON CONFLICT (id) DO UPDATE SET notes = (SELECT ${stripped} FROM customers c WHERE c.id = excluded.id) RETURNING notes`, 'ROLLBACK'] },

  // ---- name resolution: temp objects and search_path ----
  { name: 'TEMP TABLE customers shadows public.customers', steps: [`CREATE TEMP TABLE customers AS SELECT id, ${stripped} AS name FROM public.customers`, { sleep: 1500 }, 'SELECT name FROM customers'] },
  { name: 'TEMP VIEW customers shadows public.customers', steps: [`CREATE TEMP VIEW customers AS SELECT id, ${stripped} AS name FROM public.customers`, { sleep: 1500 }, 'SELECT name FROM customers'] },
  {
    name: 'SET search_path to a schema whose view is also called customers',
    steps: ['CREATE SCHEMA shadow1', `CREATE VIEW shadow1.customers AS SELECT id, ${stripped} AS name FROM public.customers`, 'SET search_path = shadow1, public', { sleep: 1500 }, 'SELECT name FROM customers'],
  },
  {
    name: 'SET search_path so that lower() is a user function reading the ssn column',
    steps: [
      'CREATE SCHEMA shadow2',
      `CREATE FUNCTION shadow2.lower(t text) RETURNS text LANGUAGE sql AS $$ SELECT ${stripped} FROM public.customers WHERE id = 1 $$`,
      'SET search_path = shadow2, pg_catalog, public',
      { sleep: 1500 },
      'SELECT lower(name) AS x FROM customers',
    ],
  },
  {
    name: 'a user-defined operator whose function reads the ssn column',
    todo: 'the catalog snapshot has no operator-to-function map; lineage treats operators as pure (docs/masking.md)',
    steps: [
      `CREATE FUNCTION op_leak(a text, b text) RETURNS text LANGUAGE sql AS $$ SELECT ${stripped} FROM public.customers WHERE id = 1 $$`,
      'CREATE OPERATOR ### (leftarg = text, rightarg = text, function = op_leak)',
      { sleep: 1500 },
      'SELECT name ### name AS x FROM customers',
    ],
  },

  // ---- side channels: errors, notices, notifications ----
  { name: 'SELECT 1; <error quoting a value> — errors are judged by the first statement\'s lineage', mayFail: true, steps: [`SELECT 1 AS one; SELECT ('x' || ${stripped})::int FROM customers`] },
  { name: 'pg_notify payload to our own LISTEN', todo: 'notification payloads are scanned by detectors only (docs/masking.md); policy presets other than audit-only refuse pg_notify', steps: ['LISTEN leakch', `SELECT pg_notify('leakch', ${stripped}) FROM customers`] },


  // ---- data copied by an earlier statement (documented as not covered) ----
  { name: 'CREATE TABLE AS copy of the stripped ssn, then SELECT from the copy', todo: 'documented as not covered: tag or rule the new table, or deny such writes by policy', steps: [`CREATE TABLE copied AS SELECT id, ${stripped} AS x FROM customers`, { sleep: 1500 }, 'SELECT x FROM copied'] },

];

/** Attacks that are stopped (some since fixes in src/masking): regression tests, run together. */
const HELD: Attack[] = [
  // ---- fixed in src/masking (lineage of row-less statements, error/notice texts, detectors on binary and bytea values) ----
  { name: 'BEGIN; SELECT 1; SELECT <stripped ssn>; COMMIT — a transaction statement shifts the result-set index', steps: [`BEGIN; SELECT 1 AS x; SELECT ${stripped} AS x FROM customers; COMMIT`] },
  { name: 'SET …; SELECT 1; SELECT <stripped ssn> — SET shifts the result-set index', steps: [`SET application_name = 'x'; SELECT 1 AS x; SELECT ${stripped} AS x FROM customers`] },
  { name: 'LOCK …; SELECT 1; SELECT <stripped ssn> — a LOCK shifts the result-set index', steps: [`LOCK TABLE customers IN ACCESS SHARE MODE; SELECT 1 AS x; SELECT ${stripped} AS x FROM customers`] },
  { name: 'SELECT … INTO TEMP; SELECT <stripped ssn> — SELECT INTO (no rows) takes the SELECT\'s place', steps: [`SELECT name INTO TEMP into_t FROM customers; SELECT ${stripped} AS x FROM customers`] },
  { name: 'CREATE TEMP TABLE; SELECT name; SELECT <stripped ssn> — DDL shifts the result-set index', steps: [`CREATE TEMP TABLE ddl_shift(a int); SELECT name FROM customers; SELECT ${stripped} AS x FROM customers`] },
  { name: 'RAISE NOTICE from a DO block', steps: [`DO $$ DECLARE v text; BEGIN SELECT ${stripped} INTO v FROM customers WHERE id = 1; RAISE NOTICE '%', v; END $$`] },
  { name: 'RAISE EXCEPTION … USING DETAIL/HINT from a DO block', mayFail: true, steps: [`DO $$ DECLARE v text; BEGIN SELECT ${stripped} INTO v FROM customers WHERE id = 1; RAISE EXCEPTION 'boom' USING DETAIL = v, HINT = v; END $$`] },
  { name: 'json cast error DETAIL: Token "…" is invalid', mayFail: true, steps: [`SELECT (${stripped} || 'x')::json FROM customers`] },
  { name: 'regclass cast error: relation "…" does not exist', mayFail: true, steps: [`SELECT ('x' || ${stripped})::regclass FROM customers`] },
  { name: 'set_config error: unrecognized configuration parameter "…"', mayFail: true, steps: [`SELECT set_config(${stripped}, 'a', false) FROM customers`] },
  { name: 'set_config error: invalid value for parameter "…": "…"', mayFail: true, steps: [`SELECT set_config('statement_timeout', 'x' || ${stripped}, false) FROM customers`] },
  { name: 'chr() error quotes the number unquoted', mayFail: true, steps: [`SELECT chr(${stripped}::int) FROM customers`] },
  { name: 'PL/pgSQL EXECUTE of a statement built from the value: internal query and context', mayFail: true, steps: [`DO $$ BEGIN EXECUTE 'SELECT ' || (SELECT ${stripped} || 'x' FROM customers WHERE id = 1); END $$`] },
  { name: 'bytea_output = escape: convert_to(body) of tickets is scanned', steps: ['SET bytea_output = escape', "SELECT convert_to(body, 'UTF8') FROM tickets"] },
  { name: 'binary text[]: ARRAY[body] of tickets is scanned', steps: [{ ext: 'SELECT ARRAY[body] FROM tickets', binary: true }] },
  { name: 'binary record: ROW(body) of tickets is scanned', steps: [{ ext: 'SELECT ROW(body, 1) FROM tickets', binary: true }] },
  { name: 'binary bytea: convert_to(body) of tickets is scanned', steps: [{ ext: "SELECT convert_to(body, 'UTF8') FROM tickets", binary: true }] },
  // ---- held already ----
  { name: 'DECLARE/FETCH over a computed column', steps: ['BEGIN', `DECLARE h1 CURSOR FOR SELECT ${stripped} AS x, email || '' AS e FROM customers`, 'FETCH ALL FROM h1', 'COMMIT'] },
  { name: 'DECLARE/FETCH over the view', steps: ['BEGIN', 'DECLARE h2 CURSOR FOR SELECT * FROM customer_view', 'FETCH 1 FROM h2', 'MOVE FORWARD 1 IN h2', 'FETCH ALL FROM h2', 'COMMIT'] },
  { name: 'WITH HOLD cursor over a CTE, fetched in a later transaction', steps: [`DECLARE h3 CURSOR WITH HOLD FOR WITH t AS (SELECT ${stripped} AS v FROM customers) SELECT v FROM t`, 'BEGIN', 'FETCH ALL FROM h3', 'COMMIT', 'CLOSE h3'] },
  { name: 'cursor declared and fetched in one Query', steps: [`BEGIN; DECLARE h4 CURSOR FOR SELECT ${stripped} AS x FROM customers; FETCH ALL FROM h4; COMMIT`] },
  { name: 'PREPARE/EXECUTE', steps: [`PREPARE h5 AS SELECT ${stripped} AS x FROM customers`, 'EXECUTE h5'] },
  { name: 'DELETE … RETURNING ssn', steps: ['BEGIN', 'DELETE FROM customers RETURNING ssn, email, card', 'ROLLBACK'] },
  { name: 'UPDATE … RETURNING computed ssn', steps: ['BEGIN', `UPDATE customers SET notes = notes RETURNING ${stripped} AS x`, 'ROLLBACK'] },
  { name: 'function RETURNS SETOF customers', steps: ['CREATE FUNCTION allc() RETURNS SETOF customers LANGUAGE sql AS $$ SELECT * FROM customers $$', { sleep: 1500 }, 'SELECT * FROM allc()', 'SELECT (allc()).ssn'] },
  { name: 'CALL with an OUT parameter', steps: [`CREATE PROCEDURE outp(OUT x text) LANGUAGE plpgsql AS $$ BEGIN SELECT ${stripped} INTO x FROM customers WHERE id = 1; END $$`, 'CALL outp(NULL)'] },
  { name: 'set_config then SHOW / current_setting / pg_settings', steps: [`SELECT set_config('my.v', ${stripped}, false) FROM customers WHERE id = 1`, 'SHOW my.v', "SELECT current_setting('my.v')", "SELECT setting FROM pg_settings WHERE name = 'my.v'"] },
  { name: 'EXPLAIN (ANALYZE, VERBOSE)', steps: [`EXPLAIN (ANALYZE, VERBOSE) SELECT ${stripped} FROM customers`] },
  { name: 'JSON / XML builders', steps: [`SELECT to_json(${stripped}), row_to_json(c), array_to_json(ARRAY[${stripped}]), xmlforest(${stripped} AS s) FROM customers c`, "SELECT query_to_xml('SELECT ssn FROM customers', true, false, '')", "SELECT table_to_xml('customers', true, false, '')"] },
  { name: 'string_agg DISTINCT ORDER BY, GROUPING SETS, VALUES join, LATERAL', steps: [`SELECT string_agg(DISTINCT ${stripped}, ',' ORDER BY ${stripped}) FROM customers`, `SELECT ${stripped}, count(*) FROM customers GROUP BY GROUPING SETS ((${stripped}), ())`, `SELECT v.x, ${stripped} FROM (VALUES (1), (2)) v(x) JOIN customers c ON c.id = v.x`, `SELECT u.x FROM customers c, LATERAL unnest(ARRAY[replace(c.ssn, '-', '')]) AS u(x)`] },
  { name: 'materialized view', steps: [`CREATE MATERIALIZED VIEW mv1 AS SELECT ${stripped} AS x FROM customers`, 'SELECT x FROM mv1', { sleep: 1500 }, 'SELECT x FROM mv1', 'TABLE mv1'] },
  { name: 'COPY in text, CSV and binary', steps: [`COPY (SELECT ${stripped}, email FROM customers) TO STDOUT WITH (FORMAT csv, HEADER)`, `COPY (SELECT ${stripped} FROM customers) TO STDOUT WITH (FORMAT binary)`, 'COPY (SELECT * FROM customer_view) TO STDOUT'] },
  { name: 'large objects', steps: [`SELECT lo_from_bytea(424242, convert_to(${stripped}, 'UTF8')) FROM customers WHERE id = 1`, "SELECT encode(lo_get(424242), 'escape')", 'SELECT data FROM pg_largeobject'] },
  { name: 'binary results for text-like and composite types', steps: [{ ext: `SELECT ${stripped}::varchar, ${stripped}::bpchar, ${stripped}::name, to_json(${stripped}), to_jsonb(${stripped}), xmlelement(name x, ${stripped}) FROM customers`, binary: true }, { ext: `SELECT ARRAY[${stripped}]::varchar[], ROW(${stripped}), convert_to(${stripped}, 'UTF8') FROM customers`, binary: true }] },
  { name: 'casts to a domain and to tsvector', steps: ['CREATE DOMAIN ssn_d AS text', { sleep: 1500 }, `SELECT ${stripped}::ssn_d, to_tsvector(${stripped}) FROM customers`, { ext: `SELECT ${stripped}::ssn_d FROM customers`, binary: true }] },
  { name: 'error quoting a value from a cast', mayFail: true, steps: [`SELECT ('x' || ${stripped})::int FROM customers`, `SELECT ${stripped}::date FROM customers`] },
  { name: 'Describe statement then Execute (extended)', steps: [{ ext: `SELECT ${stripped} AS x FROM customers`, name: 'dsx' }, { bind: 'dsx' }] },
  { name: 'same RowDescription shape from name then from ssn', steps: ["SELECT name || '' AS x FROM customers", `SELECT ${stripped} AS x FROM customers`, "SELECT name || '' AS x FROM customers; SELECT " + stripped + ' AS x FROM customers'] },
];

describe('masking attacks on the PostgreSQL wire path', () => {
  test(`${HELD.length} attacks that are held: no raw sensitive value reaches the client`, async () => {
    const failures: string[] = [];
    for (const a of HELD) await assertHeld(a).catch((e: Error) => failures.push(e.message.split('\n')[0]!));
    assert.deepEqual(failures, []);
  });

  for (const a of LEAKS) {
    test(`${a.todo !== undefined ? 'KNOWN LEAK' : 'was a leak'}: ${a.name}`, a.todo !== undefined ? { todo: a.todo } : {}, async () => {
      await assertHeld(a);
    });
  }
});
