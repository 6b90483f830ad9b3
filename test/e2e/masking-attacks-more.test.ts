/**
 * More masking attacks on the PostgreSQL wire path, through PostgreSQL features the first suite
 * (`masking-attacks.test.ts`) does not try: hstore, partitions and inheritance, enums, domains,
 * composite and range types, foreign tables, cursors opened outside the relay's sight,
 * pipelined Query messages and mixed extended-protocol batches, COPY options and encodings,
 * string slicing, window and ordered-set aggregates, error/notice fields beyond message and
 * detail, ParameterStatus and notification channels, binary result formats.
 *
 * Every attack runs on a fresh session and every byte the client received is searched for
 * every raw sensitive value (`RAW` of the customers fixture). Each attack is its own test:
 * held attacks are ordinary tests. The attacks still marked `todo` are the documented limit
 * (docs/masking.md): data the agent itself copied out through objects it created or DO
 * blocks it ran — deferred constraints, defaults, triggers, catalog entries, dynamic column
 * names — which needs writes or DDL that the read-only and review policies refuse or hold.
 *
 * As in the first suite, most payloads are the SSN with its dashes stripped (`123456789`):
 * content detectors do not recognise a bare nine-digit run, so the value gets through only if
 * the column rule (table OID or lineage) fails to apply.
 *
 * Objects an agent could create itself under the audit-only preset (functions, triggers,
 * tables) are created by the fixture up front, so that most attacks need no catalog reload;
 * the few that hinge on the agent's own DDL do it through the gateway and wait for the reload.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import type { TestGateway } from '../helpers/gateway.js';
import { createCustomers, RAW, startMaskingGateway } from '../helpers/masking-fixture.js';
import { authenticated, errorOf, type RawClient, type RawMessage } from '../helpers/raw-client.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';

let db: PgCluster;
let gw: TestGateway;
let fdwAvailable = false;
let tap: Server;
let tapPort = 0;
let received: Buffer[] = [];

/** The SSN without dashes: rule/lineage masking must stop it, the detectors will not. */
const S = "replace(ssn, '-', '')";

/**
 * Objects beside the customers fixture: a partitioned and an inheritance parent whose columns
 * are masked by rules on the *parent* name, types, and tables/functions/triggers an agent
 * could have created itself (a SQL function reading the SSN, triggers, defaults, deferred
 * constraints, a PL/pgSQL function that opens a named cursor over any query).
 */
const SETUP = `
  CREATE EXTENSION hstore;
  CREATE TABLE pcust (id int, ssn text, email text) PARTITION BY RANGE (id);
  CREATE TABLE pcust_low PARTITION OF pcust FOR VALUES FROM (0) TO (2);
  CREATE TABLE pcust_high PARTITION OF pcust FOR VALUES FROM (2) TO (100);
  INSERT INTO pcust SELECT id, ssn, email FROM customers;
  CREATE TABLE icust (id int, ssn text);
  CREATE TABLE icust_child (extra int) INHERITS (icust);
  INSERT INTO icust_child (id, ssn) SELECT id, ssn FROM customers;

  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE DOMAIN ssn_dom AS text;
  CREATE DOMAIN ssn_chk AS text CHECK (VALUE LIKE 'x%');
  CREATE TYPE person AS (name text, ssn text);
  CREATE TYPE textrange AS RANGE (subtype = text);

  CREATE FUNCTION ssn_of(i int) RETURNS text LANGUAGE sql AS $$ SELECT replace(ssn, '-', '') FROM customers WHERE id = i $$;
  CREATE TABLE uq_def (x text UNIQUE DEFERRABLE INITIALLY DEFERRED);
  CREATE TABLE fk_ref (x text PRIMARY KEY);
  CREATE TABLE fk_def (x text REFERENCES fk_ref DEFERRABLE INITIALLY DEFERRED);
  CREATE TABLE ck (x text CHECK (x LIKE 'x%'));
  CREATE TABLE dflt (id int, x text DEFAULT ssn_of(1));
  CREATE TABLE dflt_ck (id int, x text DEFAULT ssn_of(1) CHECK (x LIKE 'x%'));
  CREATE TABLE trg_n (id int);
  CREATE FUNCTION trg_notice() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'v=%', ssn_of(NEW.id); RETURN NEW; END $$;
  CREATE TRIGGER trg_n BEFORE INSERT ON trg_n FOR EACH ROW EXECUTE FUNCTION trg_notice();
  CREATE TABLE trg_x (id int);
  CREATE FUNCTION trg_raise() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'v=%', ssn_of(NEW.id) USING DETAIL = ssn_of(NEW.id); END $$;
  CREATE TRIGGER trg_x BEFORE INSERT ON trg_x FOR EACH ROW EXECUTE FUNCTION trg_raise();
  CREATE TABLE trg_set (id int, x text);
  CREATE FUNCTION trg_fill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := ssn_of(NEW.id); RETURN NEW; END $$;
  CREATE TRIGGER trg_set BEFORE INSERT ON trg_set FOR EACH ROW EXECUTE FUNCTION trg_fill();
  CREATE TABLE trg_def (id int);
  CREATE CONSTRAINT TRIGGER trg_def AFTER INSERT ON trg_def DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION trg_raise();
  CREATE FUNCTION open_cur(cname text, q text) RETURNS refcursor LANGUAGE plpgsql AS $$
    DECLARE r refcursor := cname; BEGIN OPEN r FOR EXECUTE q; RETURN r; END $$;
  CREATE FUNCTION evt_notice() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'v=%', ssn_of(2); END $$;
  CREATE TABLE rule_t (id int);
  CREATE RULE rule_t_sel AS ON INSERT TO rule_t DO ALSO SELECT id, tax_id FROM customer_view;
  CREATE FUNCTION scs_off() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SET standard_' || 'conforming_strings = off'; END $$;
  CREATE FUNCTION open_named_ssn(cname text) RETURNS refcursor LANGUAGE plpgsql AS $$
    DECLARE r refcursor := cname; BEGIN OPEN r FOR EXECUTE format('SELECT 1 AS %I', ssn_of(1)); RETURN r; END $$;
`;

before(async () => {
  db = await startPostgres();
  await createCustomers(db);
  await db.exec(SETUP);
  // postgres_fdw ships with postgresql-contrib; a loopback server needs no network.
  fdwAvailable = (await db.exec("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgres_fdw'")).trim() === '1';
  gw = await startMaskingGateway(db, {
    // Rules naming the partitioned / inheritance parent, as an operator would write them.
    columns: [
      { match: 'public.pcust.ssn', strategy: 'partial', keep_last: 4 },
      { match: 'public.pcust.email', strategy: 'hash' },
      { match: 'public.icust.ssn', strategy: 'partial', keep_last: 4 },
    ],
  });
  // A byte tap for the node-postgres client: everything the gateway sends is kept.
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

/** One step of an attack. */
type Step =
  /** A simple Query. */
  | string
  /** A pause (lets the catalog reload after DDL). */
  | { readonly sleep: number }
  /** Parse (unnamed unless `name`), Bind, Execute, Sync; `binary` asks for every result column in binary. */
  | { readonly ext: string; readonly binary?: boolean; readonly name?: string }
  /** Bind a portal to an existing (protocol- or SQL-) prepared statement by name, Execute, Sync. */
  | { readonly bind: string; readonly binary?: boolean }
  /** Several simple Query messages written in ONE socket write; waits for each ReadyForQuery. */
  | { readonly pipeline: readonly string[] }
  /** Arbitrary frontend messages in one write; waits for `ready` ReadyForQuery messages. */
  | { readonly raw: (w: MessageWriter) => void; readonly ready: number; readonly label: string; readonly closes?: boolean };

interface Attack {
  readonly name: string;
  readonly steps: readonly Step[];
  /** Steps may fail with an ErrorResponse (the error text itself may be the channel, or policy refuses). */
  readonly mayFail?: boolean;
  /** A leak found by this suite: reported as a todo, not a failure, until it is closed. */
  readonly todo?: string;
  /** Skip (with the reason) when a precondition is missing. */
  readonly skip?: () => string | undefined;
  /**
   * The gateway is expected to end the session during one of the steps, with a FATAL
   * ErrorResponse whose message contains this text; nothing raw may arrive before it.
   */
  readonly ends?: string;
}

// ---- frontend message builders ----
function parse(w: MessageWriter, sql: string, name = ''): void {
  w.begin(0x50).cstring(name).cstring(sql).int16(0).end();
}
function bind(w: MessageWriter, statement = '', portal = '', binary = false): void {
  w.begin(0x42).cstring(portal).cstring(statement).int16(0).int16(0);
  if (binary) w.int16(1).int16(1);
  else w.int16(0);
  w.end();
}
function describePortal(w: MessageWriter, portal = ''): void {
  w.begin(0x44).int8(0x50).cstring(portal).end();
}
function describeStatement(w: MessageWriter, name = ''): void {
  w.begin(0x44).int8(0x53).cstring(name).end();
}
function execute(w: MessageWriter, portal = '', maxRows = 0): void {
  w.begin(0x45).cstring(portal).int32(maxRows).end();
}
function sync(w: MessageWriter): void {
  w.begin(0x53).end();
}
function query(w: MessageWriter, sql: string): void {
  w.begin(0x51).cstring(sql).end();
}

function stepLabel(step: Step): string {
  if (typeof step === 'string') return step;
  if ('raw' in step) return step.label;
  return JSON.stringify(step);
}

/** Writes one step; returns how many ReadyForQuery messages it will produce. */
function send(c: RawClient, step: Exclude<Step, { sleep: number }>): number {
  const w = new MessageWriter();
  if (typeof step === 'string') {
    query(w, step.replaceAll('__PGPORT__', String(db.port)));
  } else if ('pipeline' in step) {
    for (const q of step.pipeline) query(w, q);
  } else if ('raw' in step) {
    step.raw(w);
  } else if ('ext' in step) {
    parse(w, step.ext, step.name ?? '');
    bind(w, step.name ?? '', '', step.binary);
    execute(w);
    sync(w);
  } else {
    bind(w, step.bind, '', step.binary);
    execute(w);
    sync(w);
  }
  c.write(w.take());
  if (typeof step === 'string') return 1;
  if ('pipeline' in step) return step.pipeline.length;
  if ('raw' in step) return step.ready;
  return 1;
}

/** Runs an attack on a fresh session; returns every message the client received and the errors. */
async function runAttack(a: Attack): Promise<{ msgs: RawMessage[]; errors: string[]; ended?: boolean }> {
  const c = await authenticated(gw.port, gw.keys[Object.keys(gw.keys)[0]!]!);
  const msgs: RawMessage[] = [];
  const errors: string[] = [];
  try {
    for (const step of a.steps) {
      if (typeof step === 'object' && 'sleep' in step) {
        await new Promise((r) => setTimeout(r, step.sleep));
        continue;
      }
      const n = send(c, step);
      if (typeof step === 'object' && 'raw' in step && step.closes) {
        // The gateway is expected to end the session: with a clean FATAL ErrorResponse, and nothing raw before it.
        const got = await c.untilClosed(10_000);
        msgs.push(...got);
        const e = errorOf(got);
        assert.ok(e !== undefined && e.code !== undefined && e.message.length > 0, `${a.name}: the session must end with an ErrorResponse`);
        errors.push(`${stepLabel(step)}: ${e.message}`);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const got = await c.untilReady(10_000);
        msgs.push(...got);
        for (const m of got) {
          if (m.code !== 'E') continue;
          const e = errorOf([m])!;
          // A clean refusal or error: a SQLSTATE and a message, never an empty frame.
          assert.ok(e.code !== undefined && e.code.length === 5 && e.message.length > 0, `${a.name}: malformed ErrorResponse`);
          errors.push(`${stepLabel(step)}: ${e.message}`);
        }
        if (got.at(-1)?.code !== 'Z') {
          const why = errorOf(got)?.message ?? 'closed';
          if (a.ends !== undefined && why.includes(a.ends)) return { msgs, errors, ended: true };
          throw new Error(`session ended during ${stepLabel(step)}: ${why}`);
        }
      }
    }
  } finally {
    c.close();
  }
  return { msgs, errors, ended: false };
}

function leaked(msgs: readonly RawMessage[]): string[] {
  const text = Buffer.concat(msgs.map((m) => m.body)).toString('latin1');
  return RAW.filter((raw) => text.includes(raw));
}

async function assertHeld(a: Attack): Promise<void> {
  const { msgs, errors, ended } = await runAttack(a);
  if (a.ends !== undefined) assert.equal(ended, true, `${a.name}: the gateway must end the session (${a.ends})`);
  if (!a.mayFail) assert.deepEqual(errors, [], `${a.name}: the attack must run (masking, not refusal, has to stop it)`);
  const hits = leaked(msgs);
  // Which message kinds carried a raw value (RowDescription T, DataRow D, CopyData d, Error E, Notice N, Notification A, ParameterStatus S).
  const where = [...new Set(msgs.filter((m) => hits.some((h) => m.body.toString('latin1').includes(h))).map((m) => m.code))];
  if (process.env.ATTACK_DEBUG) {
    for (const m of msgs) if (hits.some((h) => m.body.toString('latin1').includes(h))) console.log(a.name, m.code, JSON.stringify(m.body.toString('latin1')));
    if (errors.length > 0) console.log(a.name, 'errors:', errors);
  }
  assert.deepEqual(hits.map((h) => `${h.slice(0, 3)}…`), [], `${a.name}: the client received raw value(s) in message(s) ${where.join(', ')}`);
}

// ------------------------------------------------------------------------------------------
// hstore
// ------------------------------------------------------------------------------------------
const HSTORE: Attack[] = [
  { name: 'hstore(row) and its text / json forms', steps: ['SELECT hstore(c) FROM customers c', 'SELECT hstore(c)::text, hstore_to_json(hstore(c)), hstore_to_jsonb(hstore(c)), hstore_to_json_loose(hstore(c)) FROM customers c'] },
  { name: 'hstore each(): key/value rows', steps: ['SELECT (each(hstore(c))).* FROM customers c', 'SELECT e.key, e.value FROM customers c, each(hstore(c)) AS e', 'SELECT e.value FROM customers c CROSS JOIN LATERAL each(hstore(c)) e WHERE e.key = \'ssn\''] },
  { name: 'hstore akeys/avals/svals/skeys', steps: ['SELECT akeys(hstore(c)), avals(hstore(c)) FROM customers c', 'SELECT svals(hstore(c)) FROM customers c', 'SELECT unnest(avals(hstore(c))) FROM customers c', 'SELECT hstore_to_array(hstore(c)), hstore_to_matrix(hstore(c)) FROM customers c'] },
  { name: 'hstore(ARRAY[…]) / hstore(text, text) built from the stripped SSN', steps: [`SELECT hstore(ARRAY['s', ${S}]), hstore(ARRAY['s'], ARRAY[${S}]), hstore('s', ${S}) FROM customers`, `SELECT hstore(ARRAY['s', ${S}]) -> 's' FROM customers`] },
  { name: 'hstore operators: ->, -> text[], #=, slice, %%', steps: ["SELECT hstore(c) -> 'ssn', replace(hstore(c) -> 'ssn', '-', ''), hstore(c) -> ARRAY['ssn', 'email'] FROM customers c", "SELECT c #= hstore('name', 'x'), slice(hstore(c), ARRAY['card']), %% hstore(c), %# hstore(c) FROM customers c"] },
  { name: 'hstore populate_record back into the row type', steps: ['SELECT populate_record(NULL::customers, hstore(c)) FROM customers c', 'SELECT (populate_record(NULL::customers, hstore(c))).ssn FROM customers c'] },
  { name: 'hstore in binary result format', steps: [{ ext: "SELECT hstore(c), avals(hstore(c)), hstore(c) -> 'ssn', hstore('s', replace(ssn, '-', '')) FROM customers c", binary: true }] },
  { name: 'hstore in COPY (text and binary)', steps: ['COPY (SELECT hstore(c) FROM customers c) TO STDOUT', `COPY (SELECT hstore('s', ${S}) FROM customers) TO STDOUT (FORMAT binary)`] },
  { name: 'hstore input error quoting the value', mayFail: true, steps: [`SELECT ('"a"=>' || ${S} || ' x')::hstore FROM customers`] },
];

// ------------------------------------------------------------------------------------------
// partitions and inheritance
// ------------------------------------------------------------------------------------------
const PARTITIONS: Attack[] = [
  { name: 'partitioned parent with masked columns (baseline)', steps: ['SELECT ssn, email FROM pcust', `SELECT ${S} AS x FROM pcust`, 'SELECT tableoid::regclass, * FROM pcust'] },
  {
    name: 'a partition queried directly by its own name',
    steps: ['SELECT ssn, email FROM pcust_low', 'SELECT * FROM pcust_high'],
  },
  {
    name: 'a partition in COPY … TO STDOUT',
    steps: ['COPY pcust_low TO STDOUT', 'COPY (SELECT ssn FROM pcust_high) TO STDOUT (FORMAT csv)'],
  },
  { name: 'ONLY on a partitioned parent (no rows) and on an inheritance parent', steps: ['SELECT ssn FROM ONLY pcust', 'SELECT ssn FROM ONLY icust', 'SELECT ssn FROM icust'] },
  {
    name: 'inheritance child queried by its own name',
    steps: ['SELECT ssn FROM icust_child', 'SELECT * FROM icust_child'],
  },
  {
    name: 'CREATE TABLE child () INHERITS (customers); select from parent and child',
    steps: ['CREATE TABLE inh_child () INHERITS (customers)', { sleep: 1500 }, 'SELECT ssn, email, card FROM customers', `SELECT ${S} AS x FROM customers`, 'SELECT * FROM inh_child', 'DROP TABLE inh_child'],
  },
  {
    name: 'ALTER TABLE customers INHERIT <new parent>: customers\' rows read through the parent',
    steps: [
      'CREATE TABLE adopt (LIKE customers)',
      'ALTER TABLE customers INHERIT adopt',
      { sleep: 1500 },
      'SELECT ssn, email, card FROM adopt',
      'ALTER TABLE customers NO INHERIT adopt',
      'DROP TABLE adopt',
    ],
  },
  {
    name: 'ALTER TABLE <new partitioned> ATTACH PARTITION customers: customers\' rows read through the parent',
    steps: [
      'CREATE TABLE adopt_p (LIKE customers) PARTITION BY RANGE (id)',
      'ALTER TABLE adopt_p ATTACH PARTITION customers FOR VALUES FROM (MINVALUE) TO (MAXVALUE)',
      { sleep: 1500 },
      'SELECT ssn, email, card FROM adopt_p',
      'ALTER TABLE adopt_p DETACH PARTITION customers',
      'DROP TABLE adopt_p',
    ],
  },
];

// ------------------------------------------------------------------------------------------
// enums, domains, composite and range types
// ------------------------------------------------------------------------------------------
const TYPES: Attack[] = [
  { name: 'casts to a domain (text and binary)', steps: [`SELECT ${S}::ssn_dom, ssn::ssn_dom, email::ssn_dom, card::ssn_dom FROM customers`, { ext: `SELECT ${S}::ssn_dom, ssn::ssn_dom FROM customers`, binary: true }] },
  { name: 'cast to an enum: invalid input value error', mayFail: true, steps: [`SELECT ${S}::mood FROM customers`, `SELECT ${S}::text::mood FROM customers WHERE id = 2`] },
  { name: 'cast to a domain with a CHECK: violation error', mayFail: true, steps: [`SELECT ${S}::ssn_chk FROM customers`] },
  { name: 'ROW(…)::composite, field access, (p).*', steps: [`SELECT ROW(name, ${S})::person FROM customers`, `SELECT (ROW(name, ${S})::person).ssn FROM customers`, `SELECT (p).* FROM (SELECT ROW(name, ${S})::person AS p FROM customers) q`, `SELECT (ROW(name, ${S})::person)::text FROM customers`] },
  { name: 'composite in binary', steps: [{ ext: `SELECT ROW(name, ${S})::person, (ROW(name, ${S})::person).ssn FROM customers`, binary: true }] },
  { name: 'range types built from masked values', steps: [`SELECT textrange(${S}, ${S} || 'z'), lower(textrange(${S}, ${S} || 'z')), upper(textrange('0', ${S})) FROM customers`, `SELECT int8range(${S}::int8, ${S}::int8 + 1), lower(int8range(${S}::int8, NULL)), numrange(${S}::numeric, NULL)::text FROM customers`, `SELECT int8multirange(int8range(${S}::int8, NULL))::text, range_merge(int8range(${S}::int8, NULL), int8range(1, 2)) FROM customers`] },
  { name: 'range types in binary', steps: [{ ext: `SELECT textrange(${S}, ${S} || 'z'), int8range(${S}::int8, ${S}::int8 + 1), lower(int8range(${S}::int8, NULL)) FROM customers`, binary: true }] },
  { name: 'range errors: malformed literal, bounds order', mayFail: true, steps: [`SELECT ('x' || ${S})::int4range FROM customers`, `SELECT ('[' || ${S} || ',1)')::int8range FROM customers`, `SELECT textrange(${S}, '0') FROM customers`] },
  {
    name: 'enum labels made from the SSNs by a DO block, read back from pg_enum',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): values copied into catalog names (documented class "data copied by an earlier statement", but pg_enum is a metadata table lineage treats as clear; no rule can cover it) (connectors/catalog-snapshot.ts METADATA_TABLES, masking/lineage.ts)',
    steps: [
      `DO $$ BEGIN EXECUTE format('CREATE TYPE leak_enum AS ENUM (%s)', (SELECT string_agg(quote_literal(${S}), ',') FROM customers)); END $$`,
      'SELECT enumlabel FROM pg_enum',
      'DROP TYPE leak_enum',
    ],
  },
  {
    name: 'enum labels made from the SSNs, read back with enum_range / enum_first / cast to text',
    steps: [
      `DO $$ BEGIN EXECUTE format('CREATE TYPE leak_enum2 AS ENUM (%s)', (SELECT string_agg(quote_literal(${S}), ',') FROM customers)); END $$`,
      { sleep: 1500 },
      'SELECT enum_range(NULL::leak_enum2)::text, enum_first(NULL::leak_enum2)::text, unnest(enum_range(NULL::leak_enum2))::text',
      'DROP TYPE leak_enum2',
    ],
  },
];

// ------------------------------------------------------------------------------------------
// composite / record / JSON functions over a whole masked row
// ------------------------------------------------------------------------------------------
const COMPOSITE: Attack[] = [
  { name: '(c.*)::text, c::text, record_out(c)', steps: ['SELECT (c.*)::text, c::text FROM customers c', 'SELECT record_out(c)::text FROM customers c', 'SELECT ROW(c.*)::text, ROW(c.ssn, c.email)::text FROM customers c'] },
  { name: 'json_populate_record / jsonb_populate_recordset back into the row type', steps: ['SELECT json_populate_record(NULL::customers, row_to_json(c)) FROM customers c', 'SELECT (json_populate_record(NULL::customers, row_to_json(c))).ssn FROM customers c', 'SELECT * FROM jsonb_populate_recordset(NULL::customers, (SELECT jsonb_agg(to_jsonb(c)) FROM customers c))'] },
  { name: 'jsonb_to_record / json_to_recordset in a lateral', steps: ['SELECT r.* FROM customers c, jsonb_to_record(to_jsonb(c)) AS r(ssn text, email text, card text)', 'SELECT r.s FROM json_to_recordset((SELECT json_agg(json_build_object(\'s\', replace(ssn, \'-\', \'\'))) FROM customers)) AS r(s text)'] },
  { name: 'to_jsonb(c), ->>, #>>', steps: ["SELECT to_jsonb(c), to_jsonb(c) ->> 'ssn', to_jsonb(c) #>> '{email}', replace(to_jsonb(c) ->> 'ssn', '-', '') FROM customers c"] },
  { name: 'jsonb_path_query over to_jsonb of a masked row', steps: ["SELECT jsonb_path_query(to_jsonb(c), '$.ssn'), jsonb_path_query_array(to_jsonb(c), '$.*'), jsonb_path_query_first(to_jsonb(c), '$.card') FROM customers c", "SELECT v FROM customers c, jsonb_path_query(to_jsonb(c), '$.* ? (@ like_regex \"^[0-9]\")') AS v", `SELECT jsonb_path_query(jsonb_build_object('s', ${S}), '$.s') #>> '{}' FROM customers`] },
  { name: 'jsonb_path_query .datetime() error quoting the value', mayFail: true, steps: [`SELECT jsonb_path_query(jsonb_build_object('s', ${S}), '$.s.datetime()') FROM customers`, `SELECT jsonb_path_query(jsonb_build_object('s', ${S}), 'strict $.s.double() + $.s.size()') FROM customers`] },
  { name: 'json_each_text / jsonb_each_text of a masked row', steps: ['SELECT json_each_text(row_to_json(c)) FROM customers c', 'SELECT e.value FROM customers c, jsonb_each_text(to_jsonb(c)) e'] },
  { name: 'whole-row JSON and records in binary', steps: [{ ext: "SELECT to_jsonb(c), (c.*)::text, ROW(c.*), jsonb_path_query_first(to_jsonb(c), '$.ssn') FROM customers c", binary: true }] },
];

// ------------------------------------------------------------------------------------------
// foreign tables (postgres_fdw to the same server over loopback; file_fdw)
// ------------------------------------------------------------------------------------------
const FOREIGN: Attack[] = [
  {
    name: 'postgres_fdw foreign table over customers on the same server',
    skip: () => (fdwAvailable ? undefined : 'postgres_fdw is not installed'),
    steps: [
      'CREATE EXTENSION IF NOT EXISTS postgres_fdw',
      "CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port '__PGPORT__', dbname 'postgres')",
      'CREATE USER MAPPING FOR CURRENT_USER SERVER loop OPTIONS (user \'postgres\')',
      "CREATE FOREIGN TABLE fcust (id int, ssn text, email text, card text) SERVER loop OPTIONS (schema_name 'public', table_name 'customers')",
      'CREATE SCHEMA fdwimp',
      'IMPORT FOREIGN SCHEMA public LIMIT TO (customers) FROM SERVER loop INTO fdwimp',
      { sleep: 1500 },
      'SELECT ssn, email, card FROM fcust',
      'SELECT ssn, email, card FROM fdwimp.customers',
      'DROP SCHEMA fdwimp CASCADE',
      'DROP FOREIGN TABLE fcust',
    ],
  },
];

// ------------------------------------------------------------------------------------------
// cursors
// ------------------------------------------------------------------------------------------
const CURSORS: Attack[] = [
  { name: 'SCROLL cursor: FETCH FIRST/BACKWARD/ABSOLUTE/RELATIVE and MOVE', steps: ['BEGIN', `DECLARE k1 SCROLL CURSOR FOR SELECT ${S} AS x, to_jsonb(c) AS j, hstore(c) AS h FROM customers c`, 'FETCH FIRST FROM k1', 'MOVE LAST IN k1', 'FETCH BACKWARD 2 FROM k1', 'FETCH ABSOLUTE 1 FROM k1', 'FETCH RELATIVE 1 FROM k1', 'FETCH PRIOR FROM k1', 'COMMIT'] },
  { name: 'WITH HOLD cursor over the view, FETCH in later Query messages', steps: ['DECLARE k2 CURSOR WITH HOLD FOR SELECT * FROM customer_view', 'FETCH 1 FROM k2', 'MOVE 1 IN k2', 'FETCH ALL FROM k2', 'CLOSE k2'] },
  { name: 'cursor over a partitioned parent and a window', steps: ['BEGIN', `DECLARE k3 CURSOR FOR SELECT ssn, lag(${S}) OVER (ORDER BY id) FROM pcust`, 'FETCH ALL FROM k3', 'COMMIT'] },
  { name: 'FETCH through the extended protocol in binary', steps: ['BEGIN', `DECLARE k4 CURSOR FOR SELECT ${S} AS x, to_jsonb(c) AS j FROM customers c`, { ext: 'FETCH 2 FROM k4', binary: true }, { ext: 'FETCH ALL FROM k4' }, 'COMMIT'] },
  {
    name: 'DECLARE through the extended protocol over the view, FETCH as a simple Query',
    mayFail: true,
    steps: ['BEGIN', { ext: 'DECLARE k5 CURSOR FOR SELECT * FROM customer_view' }, 'FETCH ALL FROM k5', 'COMMIT'],
  },
  {
    name: 'cursor redefined through the extended protocol: FETCH uses the stale simple-Query DECLARE',
    mayFail: true,
    steps: [
      "DECLARE k6 CURSOR WITH HOLD FOR SELECT name || '' AS x FROM customers",
      'CLOSE k6',
      { ext: `DECLARE k6 CURSOR WITH HOLD FOR SELECT ${S} AS x FROM customers` },
      'FETCH ALL FROM k6',
      'CLOSE k6',
    ],
  },
  {
    name: 'SQL PREPARE redefined through the extended protocol: EXECUTE uses the stale simple-Query PREPARE',
    mayFail: true,
    steps: [
      "PREPARE e6 AS SELECT name || '' AS x FROM customers",
      'DEALLOCATE e6',
      { ext: `PREPARE e6 AS SELECT ${S} AS x FROM customers` },
      'EXECUTE e6',
    ],
  },
  {
    name: 'cursor opened by PL/pgSQL (OPEN … FOR EXECUTE) over the view, then FETCH',
    steps: ['BEGIN', "SELECT open_cur('k7', 'SELECT * FROM customer_view')", 'FETCH ALL FROM k7', 'COMMIT'],
  },
  { name: 'cursor opened by PL/pgSQL over a computed SSN column', steps: ['BEGIN', `SELECT open_cur('k8', 'SELECT ${S.replaceAll("'", "''")} AS x, to_jsonb(c) AS j FROM customers c')`, 'FETCH ALL FROM k8', 'COMMIT'] },
  {
    name: 'cursor name reused: harmless DECLARE, then PL/pgSQL OPEN under the same name over the SSN',
    steps: [
      "DECLARE k9 CURSOR WITH HOLD FOR SELECT name || '' AS x FROM customers",
      'CLOSE k9',
      'BEGIN',
      `SELECT open_cur('k9', 'SELECT ${S.replaceAll("'", "''")} AS x FROM customers')`,
      'FETCH ALL FROM k9',
      'COMMIT',
    ],
  },
  {
    name: 'cursor whose COLUMN NAME is the SSN (PL/pgSQL OPEN … EXECUTE format(\'%I\'))',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): RowDescription field names are never masked; a dynamic query can name a column after a value (frontends/pgwire/relay.ts / wire-masking.ts)',
    steps: ['BEGIN', "SELECT open_named_ssn('k10')", 'FETCH ALL FROM k10', 'COMMIT'],
  },
  {
    name: 'one Query: DECLARE over the SSN; FETCH; CLOSE; DECLARE same name harmless',
    steps: [`BEGIN; DECLARE k11 CURSOR FOR SELECT ${S} AS x FROM customers; FETCH ALL FROM k11; CLOSE k11; DECLARE k11 CURSOR FOR SELECT name || '' AS x FROM customers; COMMIT`],
  },
  {
    name: 'one Query: PREPARE over the SSN; EXECUTE; DEALLOCATE; PREPARE same name harmless',
    steps: [`PREPARE q11 AS SELECT ${S} AS x FROM customers; EXECUTE q11; DEALLOCATE q11; PREPARE q11 AS SELECT name || '' AS x FROM customers`],
  },
  {
    name: 'pipelined Queries: DECLARE over the SSN, FETCH, CLOSE, DECLARE same name harmless — in one write',
    // pg_sleep keeps the server busy while the relay reads the Queries behind it.
    steps: [{ pipeline: [`DECLARE k12 CURSOR WITH HOLD FOR SELECT ${S} AS x FROM customers`, 'SELECT pg_sleep(0.2)', 'FETCH ALL FROM k12', 'CLOSE k12', "DECLARE k12 CURSOR WITH HOLD FOR SELECT name || '' AS x FROM customers"] }, 'CLOSE k12'],
  },
  {
    name: 'pipelined Queries: PREPARE over the SSN, EXECUTE, DEALLOCATE, PREPARE same name harmless — in one write',
    steps: [{ pipeline: [`PREPARE q12 AS SELECT ${S} AS x FROM customers`, 'SELECT pg_sleep(0.2)', 'EXECUTE q12', 'DEALLOCATE q12', "PREPARE q12 AS SELECT name || '' AS x FROM customers"] }],
  },
];

// ------------------------------------------------------------------------------------------
// pipelining and mixed extended-protocol batches
// ------------------------------------------------------------------------------------------
const PIPELINE: Attack[] = [
  { name: 'three simple Queries in one write', steps: [{ pipeline: ['SELECT name FROM customers', `SELECT ${S} AS x FROM customers`, "SELECT email || '' AS e, to_jsonb(c) FROM customers c"] }] },
  { name: 'pipelined: same RowDescription shape from name then from the SSN', steps: [{ pipeline: ["SELECT name || '' AS x FROM customers", `SELECT ${S} AS x FROM customers`, "SELECT name || '' AS x FROM customers", `SELECT ${S} AS x FROM customers`] }] },
  {
    name: 'pipelined: a write with RETURNING rows between reads',
    steps: [{ pipeline: ['BEGIN', 'SELECT 1 AS one', `UPDATE customers SET notes = notes RETURNING ${S} AS x, email`, `SELECT ${S} AS x FROM customers`, 'DELETE FROM pcust RETURNING ssn, email', 'SELECT ssn FROM pcust', 'ROLLBACK'] }],
  },
  {
    name: 'pipelined: an error in the middle, then a read',
    mayFail: true,
    steps: [{ pipeline: ['SELECT 1 AS one', `SELECT ('x' || ${S})::int FROM customers`, `SELECT ${S} AS x FROM customers`, `SELECT ${S}::smallint FROM customers`] }],
  },
  {
    name: 'extended batch: Describe+Execute, Execute without Describe, Sync, then a simple Query — one write',
    steps: [
      {
        label: 'P/B/D/E harmless, P/B/E ssn, Sync, Query ssn',
        ready: 2,
        raw: (w) => {
          parse(w, "SELECT name || '' AS x FROM customers");
          bind(w);
          describePortal(w);
          execute(w);
          parse(w, `SELECT ${S} AS x FROM customers`);
          bind(w);
          execute(w);
          sync(w);
          query(w, `SELECT ${S} AS x FROM customers`);
        },
      },
    ],
  },
  {
    name: 'extended batch: named statement Describe S, two portals, Describe of the other portal in between, binary',
    steps: [
      {
        label: 'P s1 ssn, D S s1, P s2 harmless, B p1(s1) bin, B p2(s2), D P p2, E p1, E p2, S, Q',
        ready: 2,
        raw: (w) => {
          parse(w, `SELECT ${S} AS x, email FROM customers`, 'mb1');
          describeStatement(w, 'mb1');
          parse(w, "SELECT name || '' AS x, name AS y FROM customers", 'mb2');
          bind(w, 'mb1', 'p1', true);
          bind(w, 'mb2', 'p2');
          describePortal(w, 'p2');
          execute(w, 'p1');
          execute(w, 'p2');
          sync(w);
          query(w, `SELECT ${S} AS x, email FROM customers`);
        },
      },
    ],
  },
  {
    name: 'extended: per-column result formats (binary, text, binary) without Describe',
    steps: [
      {
        label: 'P/B formats [1,0,1]/E/S',
        ready: 1,
        raw: (w) => {
          parse(w, `SELECT to_jsonb(c), ${S} AS x, ROW(${S}, email) FROM customers c`);
          w.begin(0x42).cstring('').cstring('').int16(0).int16(0).int16(3).int16(1).int16(0).int16(1).end();
          execute(w);
          sync(w);
        },
      },
    ],
  },
  {
    name: 'extended: Execute with a row limit (PortalSuspended), then again in a later batch',
    steps: [
      'BEGIN',
      {
        label: 'P/B portal pz, Execute max 1, Sync',
        ready: 1,
        raw: (w) => {
          parse(w, `SELECT ${S} AS x, to_jsonb(c) FROM customers c`, 'lim');
          bind(w, 'lim', 'pz');
          execute(w, 'pz', 1);
          sync(w);
        },
      },
      {
        label: 'Describe pz, Execute pz, Sync',
        ready: 1,
        raw: (w) => {
          execute(w, 'pz', 1);
          describePortal(w, 'pz');
          execute(w, 'pz', 0);
          sync(w);
        },
      },
      'COMMIT',
    ],
  },
  {
    name: 'extended: a simple Query inside an open batch (no Sync) is refused cleanly',
    mayFail: true,
    steps: [
      {
        label: 'P/B/E ssn then Query without Sync',
        ready: 0,
        closes: true,
        raw: (w) => {
          parse(w, `SELECT ${S} AS x FROM customers`);
          bind(w);
          execute(w);
          query(w, `SELECT ${S} AS x FROM customers`);
        },
      },
    ],
  },
];

// ------------------------------------------------------------------------------------------
// COPY
// ------------------------------------------------------------------------------------------
const COPY: Attack[] = [
  { name: 'COPY (SELECT …) csv with HEADER, text with HEADER, binary', steps: [`COPY (SELECT ${S} AS x, email, name FROM customers) TO STDOUT WITH (FORMAT csv, HEADER true)`, `COPY (SELECT ${S} AS x, card FROM customers) TO STDOUT WITH (FORMAT text, HEADER)`, `COPY (SELECT ${S} AS x, to_jsonb(c) FROM customers c) TO STDOUT (FORMAT binary)`] },
  { name: 'COPY of the view (as a query), and of a table with a column list, FORCE_QUOTE', steps: ['COPY (SELECT * FROM customer_view) TO STDOUT WITH CSV HEADER', 'COPY customers (ssn, email, card) TO STDOUT (FORMAT csv, FORCE_QUOTE *)', 'COPY customers TO STDOUT (FORMAT binary)'] },
  { name: 'COPY old-style options: CSV HEADER DELIMITER, BINARY', steps: [`COPY (SELECT name, ${S} FROM customers) TO STDOUT CSV HEADER DELIMITER '|'`, `COPY (SELECT ${S} FROM customers) TO STDOUT WITH BINARY`] },
  { name: 'COPY csv with digit delimiter / quote / escape', mayFail: true, steps: [`COPY (SELECT name, ${S}, email FROM customers) TO STDOUT (FORMAT csv, DELIMITER '5', QUOTE '1', ESCAPE '2')`, `COPY (SELECT '5' || name, ${S}, '22' FROM customers) TO STDOUT (FORMAT csv, DELIMITER '5', QUOTE '1', ESCAPE '2')`, `COPY (SELECT ',\\', ${S}, '"', 'a,b' FROM customers) TO STDOUT (FORMAT csv, ESCAPE '\\')`] },
  { name: 'COPY text with a NULL marker and a custom delimiter', steps: [`COPY (SELECT ${S}, NULL::text, email FROM customers) TO STDOUT (NULL 'NULL', DELIMITER '|')`, `COPY (SELECT E'a\\\\', ${S} FROM customers) TO STDOUT (DELIMITER '|')`] },
  { name: 'COPY through the extended protocol', steps: [{ ext: `COPY (SELECT ${S} AS x, email FROM customers) TO STDOUT (FORMAT csv)` }, { ext: `COPY (SELECT ${S} FROM customers) TO STDOUT (FORMAT binary)` }] },
  {
    // Split as UTF-8, SJIS ポ (0x83 0x7C) would be a phantom "|" and 表 (0x95 0x5C) would escape a real one: the session ends instead.
    name: 'COPY text, ENCODING SJIS: a multibyte character whose 2nd byte is the delimiter / a backslash shifts the fields',
    ends: 'cannot be masked',
    mayFail: true,
    steps: [`COPY (SELECT 'ポ' AS a, ${S} AS b, '表' AS c, 'z' AS d FROM customers) TO STDOUT WITH (DELIMITER '|', ENCODING 'SJIS')`],
  },
  {
    name: 'COPY csv, ENCODING SJIS: a 2nd byte equal to the delimiter and to the quote',
    ends: 'cannot be masked',
    mayFail: true,
    steps: [`COPY (SELECT 'ポ' AS a, ${S} AS b, 'ァ' AS c, 'ァ' AS d FROM customers) TO STDOUT WITH (FORMAT csv, DELIMITER '|', QUOTE '@', ENCODING 'SJIS')`],
  },
  {
    name: 'COPY text under SET client_encoding = SJIS',
    ends: 'the session switched to',
    mayFail: true,
    // The query text stays ASCII: under client_encoding SJIS the characters are made by convert_from.
    steps: ["SET client_encoding = 'SJIS'", `COPY (SELECT convert_from('\\x837c', 'SJIS') AS a, ${S} AS b, convert_from('\\x955c', 'SJIS') AS c, 'z' AS d FROM customers) TO STDOUT WITH (DELIMITER '|')`, 'RESET client_encoding'],
  },
];

// ------------------------------------------------------------------------------------------
// string slicing and formatting
// ------------------------------------------------------------------------------------------
const STRINGS: Attack[] = [
  { name: 'string_to_table / regexp_split_to_table / unnest(string_to_array)', steps: ["SELECT t FROM customers c, string_to_table(c.ssn, '-') t", `SELECT regexp_split_to_table(${S}, '') FROM customers`, `SELECT unnest(string_to_array(${S}, NULL)) FROM customers`, "SELECT string_to_table(email, '@') FROM customers"] },
  { name: 'generate_series indexing: substr by position in a lateral', steps: ['SELECT c.id, g, substr(c.ssn, g, 1) FROM customers c, generate_series(1, 11) g', `SELECT string_agg(substr(${S}, g, 1), '' ORDER BY g) FROM customers c, LATERAL generate_series(1, 9) g GROUP BY c.id`, `SELECT ascii(substr(${S}, g, 1)), get_byte(convert_to(${S}, 'UTF8'), g - 1) FROM customers, generate_series(1, 9) g`] },
  { name: 'overlay, format, quote_literal/ident/nullable, translate, encode', steps: [`SELECT overlay(ssn placing '' from 4 for 1), overlay(${S} placing 'x' from 10) FROM customers`, `SELECT format('%s', ${S}), format('%1$s|%1$s', ${S}), format('%I', ${S}), format('%L', card) FROM customers`, `SELECT quote_literal(${S}), quote_ident(${S}), quote_nullable(email) FROM customers`, `SELECT translate(${S}, '0123456789', '0123456789'), encode(convert_to(${S}, 'UTF8'), 'escape'), reverse(reverse(${S})) FROM customers`] },
  { name: 'to_char on a masked number and a date built from it', steps: [`SELECT to_char(${S}::bigint, 'FM999999999'), to_char(${S}::numeric, '999999999'), (${S}::bigint * 1)::text FROM customers`, `SELECT to_char(to_timestamp(${S}::bigint), 'YYYY-MM-DD HH24:MI:SS'), to_char(date '2000-01-01' + (${S}::int % 1000), 'YYYY-MM-DD') FROM customers`] },
  { name: 'string slicing in binary', steps: [{ ext: `SELECT t, format('%s', ${S}), to_char(${S}::bigint, 'FM999999999') FROM customers, regexp_split_to_table(${S}, '(?=5)') t`, binary: true }] },
];

// ------------------------------------------------------------------------------------------
// window functions, ordered-set aggregates, grouping sets
// ------------------------------------------------------------------------------------------
const WINDOWS: Attack[] = [
  { name: 'lag/lead/first_value/last_value/nth_value', steps: [`SELECT lag(${S}) OVER (ORDER BY id), lead(${S}) OVER (ORDER BY id), first_value(${S}) OVER w, last_value(email) OVER w, nth_value(card, 2) OVER w FROM customers WINDOW w AS (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)`, 'SELECT lag(ssn, 1, ssn) OVER (), lead(email) OVER () FROM pcust'] },
  { name: 'mode() / percentile_disc / min/max / array_agg', steps: [`SELECT mode() WITHIN GROUP (ORDER BY ${S}), percentile_disc(0.5) WITHIN GROUP (ORDER BY ${S}), percentile_disc(ARRAY[0, 1]) WITHIN GROUP (ORDER BY ${S}::bigint) FROM customers`, `SELECT min(${S}), max(email), array_agg(${S} ORDER BY id), percentile_cont(0.5) WITHIN GROUP (ORDER BY ${S}::bigint) FROM customers`] },
  { name: 'CUBE / ROLLUP / GROUPING()', steps: [`SELECT ${S}, email, count(*), GROUPING(${S}) FROM customers GROUP BY CUBE (${S}, email)`, `SELECT ${S}, sum(id) FROM customers GROUP BY ROLLUP (${S})`, 'SELECT ssn, count(*) FROM pcust GROUP BY GROUPING SETS ((ssn), ())'] },
  { name: 'DISTINCT ON, row_number in a subquery', steps: [`SELECT DISTINCT ON (${S}) ${S} AS x FROM customers`, `SELECT x FROM (SELECT ${S} AS x, row_number() OVER () AS n FROM customers) q WHERE n > 0`] },
  { name: 'windows and ordered-set aggregates in binary', steps: [{ ext: `SELECT lag(${S}) OVER (ORDER BY id), first_value(email) OVER (), (SELECT mode() WITHIN GROUP (ORDER BY ${S}) FROM customers) FROM customers`, binary: true }] },
];

// ------------------------------------------------------------------------------------------
// error, notice, ParameterStatus and notification channels
// ------------------------------------------------------------------------------------------
const CHANNELS: Attack[] = [
  { name: 'casts: invalid input syntax, smallint out of range, division', mayFail: true, steps: [`SELECT (${S} || 'x')::int FROM customers`, `SELECT ${S}::smallint FROM customers`, `SELECT 1 / (${S}::bigint - ${S}::bigint) FROM customers`, `SELECT mod(${S}::int, 0), ${S}::numeric / 0 FROM customers`, `SELECT make_date(${S}::int, 1, 1) FROM customers`] },
  { name: 'unique violation in a TEMP table with a unique index', mayFail: true, steps: ['CREATE TEMP TABLE tu (x text)', 'CREATE UNIQUE INDEX ON tu (x)', `INSERT INTO tu SELECT ${S} FROM customers UNION ALL SELECT ${S} FROM customers`, `INSERT INTO tu SELECT ${S} FROM customers WHERE id = 1`, `INSERT INTO tu SELECT ${S} FROM customers WHERE id = 1`] },
  { name: 'check constraint failure with the value (Failing row contains)', mayFail: true, steps: [`INSERT INTO ck SELECT ${S} FROM customers`, `CREATE TEMP TABLE tck (x text CHECK (x = ''))`, `INSERT INTO tck SELECT ${S} FROM customers`] },
  {
    name: 'deferred unique constraint: Key (x)=(…) reported at COMMIT',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): the violation is raised by COMMIT, whose lineage reads nothing, on a table no rule covers: the Key value passes (masking/error-message.ts, wire-masking.ts errorContext)',
    steps: ['BEGIN', `INSERT INTO uq_def SELECT ${S} FROM customers WHERE id = 1`, `INSERT INTO uq_def SELECT ${S} FROM customers WHERE id = 1`, 'COMMIT'],
  },
  {
    name: 'deferred unique constraint checked by SET CONSTRAINTS ALL IMMEDIATE',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): as above, raised by SET CONSTRAINTS (masking/error-message.ts)',
    steps: ['BEGIN', `INSERT INTO uq_def SELECT ${S} FROM customers WHERE id = 2`, `INSERT INTO uq_def SELECT ${S} FROM customers WHERE id = 2`, 'SET CONSTRAINTS ALL IMMEDIATE', 'ROLLBACK'],
  },
  {
    name: 'deferred foreign key: Key (x)=(…) is not present, at COMMIT',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): FK violation DETAIL raised by COMMIT (masking/error-message.ts)',
    steps: ['BEGIN', `INSERT INTO fk_def SELECT ${S} FROM customers`, 'COMMIT'],
  },
  {
    name: 'column DEFAULT calls a function reading the SSN; CHECK fails: Failing row contains',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): the INSERT names no masked column (the read is in a DEFAULT), so Failing row contains (…) is not redacted (masking/error-message.ts, lineage.ts)',
    steps: ['INSERT INTO dflt_ck (id) VALUES (1)'],
  },
  {
    name: 'column DEFAULT calls a function reading the SSN; INSERT … RETURNING',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): RETURNING x of a column filled by its DEFAULT has no source in lineage (masking/lineage.ts INSERT … RETURNING)',
    steps: ['BEGIN', 'INSERT INTO dflt (id) VALUES (1) RETURNING x', 'INSERT INTO dflt DEFAULT VALUES RETURNING *', 'ROLLBACK'],
  },
  {
    name: 'BEFORE trigger sets NEW.x from the SSN; INSERT … RETURNING',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): RETURNING x is traced to what the INSERT wrote (nothing); the trigger\'s write is invisible to lineage (masking/lineage.ts)',
    steps: ['BEGIN', 'INSERT INTO trg_set (id) VALUES (1) RETURNING x', 'ROLLBACK'],
  },
  {
    name: 'trigger RAISE NOTICE of the SSN on an unrelated INSERT',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): the notice is judged by the INSERT, which reads no masked relation; the trigger function is invisible (masking/error-message.ts, wire-masking.ts errorContext)',
    steps: ['BEGIN', 'INSERT INTO trg_n VALUES (1)', 'ROLLBACK'],
  },
  {
    name: 'trigger RAISE EXCEPTION … USING DETAIL of the SSN',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): as above for an exception (message and DETAIL) (masking/error-message.ts)',
    steps: ['INSERT INTO trg_x VALUES (2)'],
  },
  {
    name: 'deferred constraint trigger raising the SSN at COMMIT',
    mayFail: true,
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): raised by COMMIT (masking/error-message.ts)',
    steps: ['BEGIN', 'INSERT INTO trg_def VALUES (3)', 'COMMIT'],
  },
  { name: 'DO: RAISE WARNING / INFO, ASSERT', mayFail: true, steps: [`DO $$ DECLARE v text; BEGIN SELECT ${S} INTO v FROM customers WHERE id = 2; RAISE WARNING 'w %', v; RAISE INFO 'i %', v; END $$`, `DO $$ DECLARE v text; BEGIN SELECT ${S} INTO v FROM customers WHERE id = 3; ASSERT v IS NULL, v; END $$`] },
  {
    name: 'DO: RAISE … USING COLUMN / CONSTRAINT / DATATYPE / TABLE / SCHEMA = the value',
    mayFail: true,
    steps: [
      `DO $$ DECLARE v text; BEGIN SELECT ${S} INTO v FROM customers WHERE id = 1; RAISE NOTICE 'n' USING COLUMN = v, CONSTRAINT = v, DATATYPE = v, TABLE = v, SCHEMA = v; END $$`,
      `DO $$ DECLARE v text; BEGIN SELECT ${S} INTO v FROM customers WHERE id = 2; RAISE EXCEPTION 'e' USING COLUMN = v; END $$`,
    ],
  },
  {
    name: 'set_config(\'application_name\', <SSN>): the ParameterStatus message',
    steps: [`SELECT set_config('application_name', ${S}, false) FROM customers WHERE id = 1`, 'RESET application_name'],
  },
  {
    name: 'SET application_name inside a DO block: the ParameterStatus message',
    steps: [`DO $$ BEGIN EXECUTE format('SET application_name = %L', (SELECT ${S} FROM customers WHERE id = 2)); END $$`, 'RESET application_name'],
  },
  {
    name: 'LISTEN on a channel named after the SSN, then pg_notify to it: the channel name',
    steps: [`DO $$ DECLARE v text; BEGIN SELECT ${S} INTO v FROM customers WHERE id = 3; EXECUTE format('LISTEN %I', v); PERFORM pg_notify(v, 'x'); END $$`, 'SELECT pg_listening_channels()', 'UNLISTEN *'],
  },
  { name: 'EXECUTE of a SQL-prepared statement with a parameter read from customers', mayFail: true, steps: ['PREPARE pp1(text) AS SELECT $1::int', `EXECUTE pp1((SELECT ${S} || 'x' FROM customers WHERE id = 1))`, `EXECUTE pp1((SELECT ${S} FROM customers WHERE id = 1))`] },
];

// ------------------------------------------------------------------------------------------
// the agent's own DDL and hidden statements: renames, event triggers, rule actions
// ------------------------------------------------------------------------------------------
const DDL: Attack[] = [
  {
    name: 'ALTER TABLE customers RENAME COLUMN ssn, then select the renamed column',
    steps: ['ALTER TABLE customers RENAME COLUMN ssn TO tin', { sleep: 1500 }, 'SELECT tin FROM customers', 'ALTER TABLE customers RENAME COLUMN tin TO ssn'],
  },
  {
    name: 'ALTER TABLE customers RENAME TO / SET SCHEMA, then select from the new name',
    steps: [
      'ALTER TABLE customers RENAME TO clients',
      { sleep: 1500 },
      'SELECT ssn, email, card FROM clients',
      'ALTER TABLE clients RENAME TO customers',
      'CREATE SCHEMA other',
      'ALTER TABLE customers SET SCHEMA other',
      { sleep: 1500 },
      'SELECT ssn, email, card FROM other.customers',
      'ALTER TABLE other.customers SET SCHEMA public',
      'DROP SCHEMA other',
    ],
  },
  {
    name: 'event trigger RAISE NOTICE of the SSN on CREATE SEQUENCE',
    steps: [
      "CREATE EVENT TRIGGER evt ON ddl_command_end WHEN TAG IN ('CREATE SEQUENCE') EXECUTE FUNCTION evt_notice()",
      'CREATE SEQUENCE evseq',
      'DROP SEQUENCE evseq',
      'DROP EVENT TRIGGER evt',
    ],
  },
  { name: 'rule action SELECT from the view returned by an INSERT', steps: ['BEGIN', 'INSERT INTO rule_t VALUES (1)', 'ROLLBACK'] },
  {
    name: 'COMMENT ON built from the SSNs, read back through pg_description / obj_description',
    todo: 'KNOWN LIMIT (server-side objects or DO blocks the agent made, which read-only and review policies refuse or hold; docs/masking.md): values copied into a catalog (documented class "data copied by an earlier statement"; pg_description is a metadata table lineage treats as clear) (connectors/catalog-snapshot.ts METADATA_TABLES)',
    steps: [
      `DO $$ BEGIN EXECUTE format('COMMENT ON TABLE tickets IS %L', (SELECT string_agg(${S}, ',') FROM customers)); END $$`,
      "SELECT description FROM pg_description WHERE objoid = 'tickets'::regclass",
      "SELECT obj_description('tickets'::regclass, 'pg_class')",
      'COMMENT ON TABLE tickets IS NULL',
    ],
  },
];

/** A simple Query whose text is given as bytes (`latin1` string: one char per byte), for client encodings other than UTF-8. */
function queryBytes(label: string, sql: string): Step {
  return { label, ready: 1, raw: (w) => w.begin(0x51).bytes(Buffer.from(sql, 'latin1')).int8(0).end() };
}

// ------------------------------------------------------------------------------------------
// the gateway parses a statement differently from the server
// ------------------------------------------------------------------------------------------
const PARSER: Attack[] = [
  {
    name: "standard_conforming_strings = off: 'a\\' ends a string for the gateway, not for the server",
    steps: ['SET standard_conforming_strings = off', `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`, 'RESET standard_conforming_strings'],
    mayFail: true,
    ends: 'the session switched to',
  },
  {
    name: 'standard_conforming_strings = off through set_config() (the session then distrusts names)',
    mayFail: true,
    ends: 'the session switched to',
    steps: ["SELECT set_config('standard_conforming_strings', 'off', false)", `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`, 'RESET standard_conforming_strings'],
  },
  {
    name: 'standard_conforming_strings = off inside a DO block',
    mayFail: true,
    ends: 'the session switched to',
    steps: ["DO $$ BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); END $$", `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`, 'RESET standard_conforming_strings'],
  },
  {
    name: 'standard_conforming_strings = off by a DO block whose text does not name the setting',
    mayFail: true,
    ends: 'the session switched to',
    steps: ["DO $$ BEGIN EXECUTE 'SET standard_' || 'conforming_strings = off'; END $$", `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`, 'RESET standard_conforming_strings'],
  },
  {
    name: 'standard_conforming_strings = off by a user function',
    mayFail: true,
    ends: 'the session switched to',
    steps: ['SELECT scs_off()', `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`, 'RESET standard_conforming_strings'],
  },
  {
    name: 'client_encoding SJIS set by a DO block whose text does not name the setting',
    mayFail: true,
    ends: 'the session switched to',
    steps: [
      "DO $$ BEGIN EXECUTE 'SET client_' || 'encoding = SJIS'; END $$",
      queryBytes("SELECT E'<0x95 0x5c>' AS a, replace(ssn, '-', '') AS b FROM customers -- '", "SELECT E'\x95\x5c' AS a, replace(ssn, '-', '') AS b FROM customers -- '"),
      'RESET client_encoding',
    ],
  },
  {
    name: 'client_encoding SJIS set by set_config() inside a DO block',
    mayFail: true,
    ends: 'the session switched to',
    steps: [
      "DO $$ BEGIN PERFORM set_config('client_encoding', 'SJIS', false); END $$",
      queryBytes("SELECT E'<0x95 0x5c>' AS a, replace(ssn, '-', '') AS b FROM customers -- '", "SELECT E'\x95\x5c' AS a, replace(ssn, '-', '') AS b FROM customers -- '"),
      'RESET client_encoding',
    ],
  },
  {
    name: "client_encoding SJIS: E'表' — the 2nd byte of 表 is a backslash for a UTF-8 reader",
    mayFail: true,
    ends: 'the session switched to',
    steps: [
      "SET client_encoding = 'SJIS'",
      // Server (SJIS): E'表' AS a, replace(ssn, '-', '') AS b FROM customers. A UTF-8 reader sees E'?\' …: one string up to "replace(ssn, ".
      queryBytes("SELECT E'<0x95 0x5c>' AS a, replace(ssn, '-', '') AS b FROM customers -- '", "SELECT E'\x95\x5c' AS a, replace(ssn, '-', '') AS b FROM customers -- '"),
      'RESET client_encoding',
    ],
  },
  {
    name: 'standard_conforming_strings = off and the misread SELECT pipelined in one write',
    mayFail: true,
    ends: 'the session switched to',
    steps: [{ pipeline: ["DO $$ BEGIN EXECUTE 'SET standard_' || 'conforming_strings = off'; END $$", `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`] }],
  },
  {
    // The server would parse the SELECT after the SET ran, and report the change only at
    // ReadyForQuery: the gateway refuses a Parse after such an Execute in one batch.
    name: 'standard_conforming_strings = off through the extended protocol, then the misread statement in the same batch',
    mayFail: true,
    steps: [
      {
        raw: (w) => {
          parse(w, 'SET standard_conforming_strings = off');
          bind(w);
          execute(w);
          parse(w, `SELECT 'a\\' AS p, ' AS q, replace(ssn, $$-$$, $$$$) AS b FROM customers --'`);
          bind(w);
          execute(w);
          sync(w);
        },
        ready: 1,
        label: 'extended batch: SET scs off, then the SELECT',
      },
    ],
  },
];

const GROUPS: Record<string, Attack[]> = {
  hstore: HSTORE,
  'partitions and inheritance': PARTITIONS,
  'enums, domains, composite and range types': TYPES,
  'composite, record and JSON functions': COMPOSITE,
  'foreign tables': FOREIGN,
  cursors: CURSORS,
  'pipelining and extended batches': PIPELINE,
  COPY,
  'string slicing': STRINGS,
  'windows and ordered-set aggregates': WINDOWS,
  'error, notice, ParameterStatus and notification channels': CHANNELS,
  "the agent's own DDL and hidden statements": DDL,
  'statement text read differently by the gateway and the server': PARSER,
};

describe('more masking attacks on the PostgreSQL wire path', () => {
  for (const [group, attacks] of Object.entries(GROUPS)) {
    describe(group, () => {
      for (const a of attacks) {
        const opts = a.todo !== undefined ? { todo: a.todo } : {};
        test(a.name, opts, async (t) => {
          const why = a.skip?.();
          if (why !== undefined) {
            t.skip(why);
            return;
          }
          await assertHeld(a);
        });
      }
    });
  }

  test('node-postgres with binary results: hstore, records, ranges, partitions, windows', async () => {
    const c = new pg.Client({ ...gw.pgConfig(), port: tapPort });
    await c.connect();
    try {
      for (const text of [
        "SELECT hstore(c), hstore(c) -> 'ssn', avals(hstore(c)) FROM customers c",
        `SELECT ROW(name, ${S})::person, to_jsonb(c), (c.*)::text FROM customers c`,
        `SELECT textrange(${S}, ${S} || 'z'), ${S}::ssn_dom FROM customers`,
        'SELECT ssn, email FROM pcust',
        `SELECT lag(${S}) OVER (ORDER BY id), (SELECT mode() WITHIN GROUP (ORDER BY ${S}) FROM customers) FROM customers`,
      ]) {
        received = [];
        await c.query({ text, values: [], binary: true } as unknown as string);
        const bytes = Buffer.concat(received).toString('latin1');
        const hits = RAW.filter((raw) => bytes.includes(raw));
        assert.deepEqual(hits.map((h) => `${h.slice(0, 3)}…`), [], `binary: ${text}`);
      }
    } finally {
      await c.end();
    }
  });
});

