/**
 * Attacks on the policy and the record, end to end: raw protocol bytes and hostile SQL through
 * the gateway to a real PostgreSQL, each checked against the database itself (did the write
 * happen?) and against the audit log (is what ran recorded?).
 *
 * The first tests are regressions: attacks that the gateway refuses today. Every test after
 * them names one way a statement reached PostgreSQL without the policy deciding on what
 * actually ran, or without being recorded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authenticated, errorOf, RawClient, type RawMessage } from '../helpers/raw-client.js';
import { parseErrorFields } from '../../src/codecs/pgwire/error-fields.js';
import { frontendBatch } from '../helpers/frontend-batch.js';

const KEYS = { agent: ['agents'], reviewer: ['dba'] };

/** read-only, plus a row cap on one table (a limit the policy decides per statement). */
const READ_ONLY = {
  preset: 'read-only',
  rules: [{ name: 'capped-accounts', what: { kinds: ['read'], tables: ['accounts'] }, action: 'allow', max_rows: 2 }],
};

let db: PgCluster;
let gw: TestGateway;
let direct: pg.Client;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
                 INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 20) g;
                 CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
                 INSERT INTO notes VALUES (1, 'hello');
                 CREATE TABLE victims (id int PRIMARY KEY);
                 INSERT INTO victims SELECT g FROM generate_series(1, 50) g;
                 CREATE SEQUENCE seq;
                 SELECT lo_create(424242);
                 CREATE FUNCTION report_total() RETURNS bigint LANGUAGE sql AS $$DELETE FROM victims WHERE id = 30 RETURNING id$$;
                 CREATE VIEW totals AS SELECT report_total() AS total;
                 CREATE FUNCTION owner_of(accounts) RETURNS text LANGUAGE sql AS $$SELECT $1.owner$$;`);
  direct = new pg.Client({ connectionString: db.url() });
  await direct.connect();
  gw = await startTestGateway(db, { keys: KEYS, policy: READ_ONLY });
});

after(async () => {
  await direct?.end();
  await gw?.stop();
  await db?.stop();
});

// ---- helpers ---------------------------------------------------------------------------------

const { writer: w, parse, bind, execute, sync, take } = frontendBatch();

async function scalar(sql: string): Promise<string> {
  return String(Object.values((await direct.query(sql)).rows[0] as Record<string, unknown>)[0]);
}
const victims = () => scalar('SELECT count(*) FROM victims');
const seqValue = () => scalar('SELECT last_value FROM seq');
const owner = (id: number) => scalar(`SELECT owner FROM accounts WHERE id = ${id}`);
const rows = (msgs: RawMessage[]) => msgs.filter((m) => m.code === 'D').length;

type Recorded = { sql: string; action: string; rows: number; error?: string };

/** Every statement recorded for key:agent, grouped by session. */
async function sessions(g: TestGateway): Promise<Recorded[][]> {
  await new Promise((r) => setTimeout(r, 300));
  await g.gateway.recorder!.store.flush();
  const q = g.gateway.recorder!.query;
  const page = await q.listSessions({ user: 'key:agent' }, { limit: 200 });
  const out: Recorded[][] = [];
  for (const s of page.items) {
    const d = await q.getSession(s.id, { limit: 1000 });
    out.push(d!.statements.map((x) => ({ sql: x.statement.sql, action: x.statement.decision.action, rows: x.result?.rows?.length ?? 0, error: x.result?.error?.message })));
  }
  return out;
}

async function sessionStatements(g: TestGateway): Promise<{ sql: string; action: string; rows: number; error?: string }[]> {
  await new Promise((r) => setTimeout(r, 300));
  await g.gateway.recorder!.store.flush();
  const q = g.gateway.recorder!.query;
  const page = await q.listSessions({ user: 'key:agent' }, { limit: 200 });
  const out: { sql: string; action: string; rows: number; error?: string }[] = [];
  for (const s of page.items) {
    const d = await q.getSession(s.id, { limit: 1000 });
    for (const x of d!.statements) out.push({ sql: x.statement.sql, action: x.statement.decision.action, rows: x.result?.rows?.length ?? 0, error: x.result?.error?.message });
  }
  return out;
}

/** Sends `msgs`, then reads until as many ReadyForQuery as `syncs`. */
async function roundTrip(c: RawClient, msgs: Buffer, syncs = 1): Promise<RawMessage[]> {
  c.write(msgs);
  const out: RawMessage[] = [];
  for (let i = 0; i < syncs; i++) out.push(...(await c.untilReady()));
  return out;
}

async function simple(c: RawClient, sql: string): Promise<RawMessage[]> {
  c.query(sql);
  return c.untilReady();
}

// ---- regressions: attacks the gateway refuses ---------------------------------------------------

describe('refused today (regressions)', () => {
  const REFUSED: [string, string][] = [
    ['plain DELETE', 'DELETE FROM victims WHERE id = 1'],
    ['writable CTE', 'WITH d AS (DELETE FROM victims WHERE id = 1 RETURNING id) SELECT * FROM d'],
    ['writable CTE hidden in a subquery CTE', 'SELECT * FROM (WITH d AS (DELETE FROM victims WHERE id = 1 RETURNING id) SELECT 1) x'],
    ['EXPLAIN ANALYZE of a DELETE', 'EXPLAIN ANALYZE DELETE FROM victims WHERE id = 1'],
    ['EXPLAIN (ANALYSE on) of a DELETE', 'EXPLAIN (ANALYSE on) DELETE FROM victims WHERE id = 1'],
    ['CREATE TEMP TABLE', 'CREATE TEMP TABLE t AS SELECT 1'],
    ['SELECT INTO', 'SELECT * INTO TEMP t2 FROM victims'],
    ['DO block', "DO $$BEGIN DELETE FROM victims WHERE id = 1; END$$"],
    ['DO block in another language', "DO LANGUAGE sql 'DELETE FROM victims WHERE id = 1'"],
    ['CALL', 'CALL nothing()'],
    ['nextval', "SELECT nextval('seq')"],
    ['nextval in FROM', "SELECT * FROM nextval('seq')"],
    ['nextval, schema-qualified and quoted', `SELECT "pg_catalog"."nextval"('seq')`],
    ['setval', "SELECT setval('seq', 1000)"],
    ['pg_terminate_backend', 'SELECT pg_terminate_backend(0)'],
    ['set_config read-only off', "SELECT set_config('default_transaction_read_only', 'off', false)"],
    ['set_config with a computed name', "SELECT set_config('search' || '_path', 'evil', false)"],
    ['lo_import', "SELECT lo_import('/etc/hostname')"],
    ['lo_unlink', 'SELECT lo_unlink(424242)'],
    ['lo_export', "SELECT lo_export(424242, '/tmp/x')"],
    ['query_to_xml running a DELETE', "SELECT query_to_xml('DELETE FROM victims WHERE id = 1 RETURNING id', true, false, '')"],
    ['SELECT FOR UPDATE', 'SELECT * FROM victims WHERE id = 1 FOR UPDATE'],
    ['LISTEN', 'LISTEN x'],
    ['NOTIFY', 'NOTIFY x'],
    ['pg_notify', "SELECT pg_notify('x', 'y')"],
    ['VACUUM', 'VACUUM victims'],
    ['ANALYZE', 'ANALYZE victims'],
    ['CLUSTER', 'CLUSTER victims USING victims_pkey'],
    ['REINDEX', 'REINDEX TABLE victims'],
    ['CREATE RULE', 'CREATE RULE r AS ON SELECT TO victims DO INSTEAD SELECT 1'],
    ['SET ROLE', 'SET ROLE postgres'],
    ['SET SESSION AUTHORIZATION', 'SET SESSION AUTHORIZATION postgres'],
    ['BEGIN READ WRITE', 'BEGIN READ WRITE'],
    ['SET TRANSACTION READ WRITE', 'BEGIN; SET TRANSACTION READ WRITE; COMMIT'],
    ['SET SESSION CHARACTERISTICS READ WRITE', 'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE'],
    ['RESET default_transaction_read_only', 'RESET default_transaction_read_only'],
    ['SET standard_conforming_strings', 'SET standard_conforming_strings = off'],
    ['SET client_encoding', "SET client_encoding = 'SJIS'"],
    ['SET NAMES', "SET NAMES 'SJIS'"],
    ['UPDATE pg_settings', "UPDATE pg_settings SET setting = 'off' WHERE name = 'default_transaction_read_only'"],
    ['COPY FROM STDIN', 'COPY victims FROM STDIN'],
    ['COPY FROM PROGRAM', "COPY victims FROM PROGRAM 'echo 999'"],
    ['COPY TO PROGRAM', "COPY victims TO PROGRAM 'cat > /dev/null'"],
    ['PREPARE of a DELETE', 'PREPARE p_del AS DELETE FROM victims WHERE id = 1'],
    ['DEALLOCATE then re-PREPARE a write in one message', 'PREPARE p_swap AS SELECT 1; DEALLOCATE p_swap; PREPARE p_swap AS DELETE FROM victims WHERE id = 1; EXECUTE p_swap'],
    ['multi-statement with a write at the end', 'SELECT 1; DELETE FROM victims WHERE id = 1'],
    ['unicode-escaped table name', 'DELETE FROM U&"\\0076ictims" WHERE id = 1'],
    ['write after a nested comment', 'SELECT 1 /* /* */ ; DELETE FROM victims WHERE id = 1; /* */'],
    ['write after a dollar-quoted string', 'SELECT $a$ $$ $a$; DELETE FROM victims WHERE id = 1'],
    ['ALTER SYSTEM', "ALTER SYSTEM SET default_transaction_read_only = off"],
    ['CREATE FUNCTION', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$DELETE FROM victims RETURNING 1$$'],
    ['TRUNCATE', 'TRUNCATE victims'],
    ['MERGE', 'MERGE INTO victims v USING (SELECT 1 AS id) s ON v.id = s.id WHEN MATCHED THEN DELETE'],
    ['DISCARD ALL', 'DISCARD ALL'],
    ['LOCK', 'BEGIN; LOCK victims; COMMIT'],
    ['very long statement ending in a write', `SELECT ${'1+'.repeat(20000)}1; DELETE FROM victims WHERE id = 1`],
    ['REFRESH MATERIALIZED VIEW', 'REFRESH MATERIALIZED VIEW nothing'],
    ['SECURITY LABEL', "SECURITY LABEL ON TABLE victims IS 'x'"],
  ];

  test('hostile SQL through node-postgres: each refused with 42501 or ERR_ANALYSIS_FAILED, nothing written', async () => {
    const before = { n: await victims(), seq: await seqValue() };
    const c = new pg.Client(gw.pgConfig('agent'));
    c.on('error', () => undefined);
    await c.connect();
    const ran: string[] = [];
    try {
      for (const [name, sql] of REFUSED) {
        try {
          await c.query(sql);
          ran.push(name);
        } catch (e) {
          const err = e as { code?: string; message: string };
          if (err.code !== '42501') ran.push(`${name} (failed with ${err.code}: ${err.message.slice(0, 120)})`);
        }
        await c.query('ROLLBACK').catch(() => undefined);
      }
    } finally {
      await c.end();
    }
    assert.deepEqual(ran, [], 'every attack is refused by the gateway (42501)');
    assert.equal(await victims(), before.n);
    assert.equal(await seqValue(), before.seq);
    assert.equal(await scalar('SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 424242'), '1');
  });

  test('every refused attack is in the audit log as a refusal', async () => {
    const recorded = await sessionStatements(gw);
    for (const sql of ['DELETE FROM victims WHERE id = 1', "SELECT nextval('seq')", 'COPY victims FROM STDIN']) {
      const r = recorded.find((x) => x.sql === sql);
      assert.ok(r, `recorded: ${sql}`);
      assert.equal(r.action, 'deny');
    }
  });

  test('protocol: Parse of a write is refused; Bind/Execute of the refused name and of the unnamed statement do not run it', async () => {
    const before = await victims();
    const c = await authenticated(gw.port, gw.keys.agent!);
    try {
      // An allowed unnamed statement first, then a refused Parse over it: PostgreSQL drops the
      // unnamed statement before parsing, so the earlier SELECT is not reused either.
      parse('', 'SELECT 1');
      sync();
      assert.equal(errorOf(await roundTrip(c, take())), undefined);
      parse('', 'DELETE FROM victims WHERE id = 2');
      bind('', '');
      execute('');
      sync();
      assert.equal(errorOf(await roundTrip(c, take()))?.code, '42501');
      bind('', '');
      execute('');
      sync();
      assert.notEqual(errorOf(await roundTrip(c, take())), undefined, 'nothing left to bind');
      // A named refused Parse, then Bind to that name.
      parse('evil', 'DELETE FROM victims WHERE id = 3');
      sync();
      assert.equal(errorOf(await roundTrip(c, take()))?.code, '42501');
      bind('', 'evil');
      execute('');
      sync();
      assert.notEqual(errorOf(await roundTrip(c, take())), undefined);
      // Execute of a portal that was never bound, pipelined before the (refused) Parse.
      execute('');
      parse('', 'DELETE FROM victims WHERE id = 4');
      bind('', '');
      execute('');
      sync();
      await roundTrip(c, take());
      // Close, then re-Parse the same name as a write.
      parse('again', 'SELECT 1');
      w.begin(0x43).int8(0x53).cstring('again').end();
      parse('again', 'DELETE FROM victims WHERE id = 5');
      bind('', 'again');
      execute('');
      sync();
      assert.equal(errorOf(await roundTrip(c, take()))?.code, '42501');
      // FunctionCall (fastpath) of lo_unlink by OID.
      const oid = Number(await scalar("SELECT 'lo_unlink(oid)'::regprocedure::oid"));
      w.begin(0x46).int32(oid).int16(1).int16(1).int16(1).int32(4).int32(424242).int16(1).end();
      assert.match(errorOf(await roundTrip(c, take()))?.message ?? '', /FunctionCall protocol message is not allowed/);
      // Flush without Sync, then a Query while the batch is still open: PostgreSQL would skip
      // the Query if the batch were in error and answer it otherwise, so the gateway cannot
      // follow it and ends the session (08P01) before anything runs.
      parse('', 'SELECT 1');
      w.begin(0x48).end();
      c.write(take());
      assert.equal((await c.next())?.code, '1');
      c.query('DELETE FROM victims WHERE id = 10');
      const closed = await c.untilClosed();
      assert.equal(errorOf(closed)?.code, '08P01');
      assert.match(errorOf(closed)?.message ?? '', /send Sync before a Query/);
    } finally {
      c.close();
    }
    assert.equal(await victims(), before);
    assert.equal(await scalar('SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 424242'), '1');
  });

  test('protocol: a write split into one-byte TCP chunks is refused', async () => {
    const before = await victims();
    const c = await authenticated(gw.port, gw.keys.agent!);
    try {
      const q = w.begin(0x51).cstring('DELETE FROM victims WHERE id = 8').end().take();
      parse('', 'DELETE FROM victims WHERE id = 9');
      bind('', '');
      execute('');
      sync();
      const ext = take();
      for (const bytes of [q, ext]) {
        for (const b of bytes) {
          c.write(Buffer.from([b]));
          await new Promise((r) => setImmediate(r));
        }
        assert.equal(errorOf(await c.untilReady())?.code, '42501');
      }
    } finally {
      c.close();
    }
    assert.equal(await victims(), before);
  });

  test('startup: options, replication and GUC-named parameters do not reach the server', async () => {
    for (const params of [{ options: '-c default_transaction_read_only=off' }, { replication: 'database' }]) {
      const c = await RawClient.open(gw.port);
      c.startup({ user: 'raw', database: 'main', ...params });
      const msgs = await c.untilClosed();
      assert.ok(msgs.some((m) => m.code === 'E'), JSON.stringify(params));
      c.close();
    }
    const c = await RawClient.open(gw.port);
    c.startup({ user: 'raw', database: 'main', search_path: 'evil', session_preload_libraries: 'x', default_transaction_read_only: 'off' });
    await c.next();
    c.password(gw.keys.agent!);
    await c.untilReady();
    const shown = await simple(c, 'SHOW search_path');
    assert.ok(shown.find((m) => m.code === 'D')!.body.toString().includes('"$user", public'));
    c.close();
  });
});

// ---- bypasses ---------------------------------------------------------------------------------

describe('BYPASS: functions called with attribute notation, (arg).fn, are not seen by the analyzer', () => {
  test('SELECT (424242::oid).lo_unlink deletes a large object and (regclass).nextval advances a sequence under read-only', async () => {
    const seq = await seqValue();
    const c = new pg.Client(gw.pgConfig('agent'));
    c.on('error', () => undefined);
    await c.connect();
    const outcomes: string[] = [];
    try {
      for (const sql of ["SELECT ('seq'::regclass).nextval", 'SELECT (424242::oid).lo_unlink', "SELECT ('/etc/hostname'::text).pg_read_file", 'SELECT (t.o).lo_unlink FROM (SELECT 424242::oid AS o) t']) {
        outcomes.push(await c.query(sql).then(() => `ran: ${sql}`, (e: { code?: string }) => (e.code === '42501' ? 'refused' : `failed upstream (${e.code}): ${sql}`)));
      }
    } finally {
      await c.end();
    }
    assert.deepEqual(outcomes, ['refused', 'refused', 'refused', 'refused']);
    assert.equal(await seqValue(), seq, 'the sequence did not move');
    assert.equal(await scalar('SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 424242'), '1', 'the large object still exists');
  });
});

describe('BYPASS: a function call in a PL/pgSQL assignment target is not analyzed', () => {
  test("DO $$ … a[nextval('seq')] := 1 … $$ is allowed by a rule for plain DO blocks and advances the sequence", async () => {
    const g = await startTestGateway(db, {
      keys: KEYS,
      policy: { preset: 'read-only', rules: [{ name: 'plain-do', what: { kinds: ['utility'], tags: ['DO'] }, action: 'allow' }, { name: 'no-nextval', what: { functions: ['nextval'] }, action: 'deny' }] },
    });
    try {
      const seq = await seqValue();
      const c = new pg.Client(g.pgConfig('agent'));
      await c.connect();
      try {
        await assert.rejects(c.query("DO $$DECLARE a int[]; BEGIN a[nextval('seq')] := 1; END$$"), (e: { code?: string }) => e.code === '42501');
        await c.query('DO $$DECLARE a int[]; BEGIN a[1] := 1; END$$'); // a plain block still runs
      } finally {
        await c.end();
      }
      assert.equal(await seqValue(), seq);
    } finally {
      await g.stop();
    }
  });
});

describe('BYPASS: Parse of a name that already exists upstream (or is skipped after an error) re-labels the old statement', () => {
  test('read-only: Execute runs the first statement under the second one’s verdict — max_rows escapes and the record shows SQL that did not run', async () => {
    const c = await authenticated(gw.port, gw.keys.agent!);
    let got: RawMessage[];
    try {
      // Capped by the policy to 2 rows.
      parse('r', 'SELECT id, owner FROM accounts ORDER BY id');
      sync();
      assert.equal(errorOf(await roundTrip(c, take())), undefined);
      // The gateway allows this and believes it is now "r"; PostgreSQL says 42P05 (already exists).
      parse('r', 'SELECT body FROM notes');
      sync();
      assert.equal(errorOf(await roundTrip(c, take()))?.code, '42P05');
      bind('', 'r');
      execute('');
      sync();
      got = await roundTrip(c, take());
    } finally {
      c.close();
    }
    const recorded = (await sessionStatements(gw)).filter((x) => x.sql === 'SELECT id, owner FROM accounts ORDER BY id' || x.sql === 'SELECT body FROM notes');
    assert.deepEqual(
      { rowsReturned: Math.min(rows(got), 3), recordedAs: recorded.at(-1)?.sql },
      { rowsReturned: 2, recordedAs: 'SELECT id, owner FROM accounts ORDER BY id' },
      'the accounts query is capped at 2 rows by "capped-accounts", and the record names the statement that actually ran',
    );
  });

  test('with approvals: a Parse the gateway let through for review runs, unreviewed, after a second Parse of the same name', async () => {
    const g = await startTestGateway(db, {
      keys: KEYS,
      policy: { preset: 'read-only', rules: [{ name: 'writes-review', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'], mode: 'return', expires: '5m' } }] },
      extra: { approvals: {} },
    });
    const c = await authenticated(g.port, g.keys.agent!);
    const outcome: Record<string, string | undefined> = {};
    try {
      // Held for review: prepared upstream (that runs nothing); each Execute needs approval.
      parse('w', "UPDATE accounts SET owner = 'pwned by redefinition' WHERE id = 11");
      sync();
      assert.equal(errorOf(await roundTrip(c, take())), undefined);
      parse('w', 'SELECT 1'); // 42P05 upstream: "w" is still the UPDATE
      sync();
      await roundTrip(c, take());
      bind('', 'w');
      execute('');
      sync();
      outcome.redefinition = errorOf(await roundTrip(c, take()))?.code;
      // The same through a Parse that PostgreSQL skips because an earlier message failed.
      parse('w2', "UPDATE accounts SET owner = 'pwned by skipped parse' WHERE id = 12");
      sync();
      await roundTrip(c, take());
      bind('', 'no_such_statement');
      parse('w2', 'SELECT 1'); // skipped upstream: "w2" is still the UPDATE
      sync();
      await roundTrip(c, take());
      bind('', 'w2');
      execute('');
      sync();
      outcome.skipped = errorOf(await roundTrip(c, take()))?.code;
    } finally {
      c.close();
      await g.stop();
    }
    assert.deepEqual(
      { ...outcome, owner11: await owner(11), owner12: await owner(12) },
      { redefinition: '42501', skipped: '42501', owner11: 'owner 11', owner12: 'owner 12' },
      'each UPDATE needs an approval and neither ran',
    );
  });
});

describe('fixed: a simple Query that PostgreSQL would discard (extended batch in error) used to put the relay one sync point behind', () => {
  test('a Query inside an open extended batch ends the session before anything is recorded as run; a new session keeps its caps', async () => {
    const c = await authenticated(gw.port, gw.keys.agent!);
    let baseline: RawMessage[];
    try {
      baseline = await simple(c, 'SELECT id FROM accounts');
      // An error in an extended batch: PostgreSQL would skip everything up to Sync — the Query too.
      bind('', 'no_such_statement');
      c.write(take());
      c.query('SELECT 42');
      sync();
      c.write(take());
      const closed = await c.untilClosed();
      const codes = closed.filter((m) => m.code === 'E').map((m) => parseErrorFields(m.body, 0, m.body.length).code);
      assert.ok(codes.includes('08P01'), `the session ends with 08P01 (got ${codes.join(', ')})`);
    } finally {
      c.close();
    }
    assert.equal(rows(baseline), 2, 'capped before');
    const d = await authenticated(gw.port, gw.keys.agent!);
    let capped: RawMessage[];
    try {
      await simple(d, 'SELECT body FROM notes');
      capped = await simple(d, 'SELECT id FROM accounts');
    } finally {
      d.close();
    }
    const recorded = await sessionStatements(gw);
    const fortyTwo = recorded.filter((x) => x.sql === 'SELECT 42').at(-1);
    const notes = recorded.filter((x) => x.sql === 'SELECT body FROM notes').at(-1);
    assert.deepEqual(
      { cappedRows: Math.min(rows(capped), 3), fortyTwoRecorded: fortyTwo !== undefined, notesRowsRecorded: notes?.rows },
      { cappedRows: 2, fortyTwoRecorded: false, notesRowsRecorded: 1 },
      'the cap holds, the skipped Query is not recorded, and each result is recorded under its own statement',
    );
  });
});

describe('fixed: an Execute of a portal the relay never saw bound (a SQL cursor) used to be neither decided nor recorded', () => {
  test('DECLARE c CURSOR … then protocol Execute "c" is refused (08P01, pointing to FETCH); no rows flow', async () => {
    const c = await authenticated(gw.port, gw.keys.agent!);
    let got: RawMessage[];
    try {
      await simple(c, 'BEGIN');
      await simple(c, 'DECLARE cur CURSOR FOR SELECT id, owner FROM accounts ORDER BY id');
      execute('cur');
      sync();
      got = await roundTrip(c, take());
      await simple(c, 'COMMIT');
    } finally {
      c.close();
    }
    assert.equal(rows(got), 0);
    assert.equal(errorOf(got)?.code, '08P01');
    assert.match(errorOf(got)?.message ?? '', /read a SQL cursor with FETCH/);
  });
});

describe('fixed: startup client_encoding=SJIS used to make the server split statements differently from the analyzer', () => {
  test('a startup asking for SJIS (or BIG5, GBK, …) is refused before authentication; UTF8 and SQL_ASCII are accepted', async () => {
    const before = await victims();
    for (const encoding of ['SJIS', 'Shift_JIS', 'big5', 'GBK', 'gb18030', 'UHC', 'JOHAB', 'LATIN1']) {
      const c = await RawClient.open(gw.port);
      try {
        c.startup({ user: 'raw', database: 'main', client_encoding: encoding });
        const e = errorOf(await c.untilClosed());
        assert.equal(e?.code, '0A000', encoding);
        assert.match(e?.message ?? '', /client_encoding .* is not supported.*client_encoding=UTF8/, encoding);
      } finally {
        c.close();
      }
    }
    for (const encoding of ['UTF8', 'utf-8', 'SQL_ASCII']) {
      const c = await RawClient.open(gw.port);
      try {
        c.startup({ user: 'raw', database: 'main', client_encoding: encoding });
        await c.next();
        c.password(gw.keys.agent!);
        assert.equal((await c.untilReady()).at(-1)?.code, 'Z', encoding);
      } finally {
        c.close();
      }
    }
    assert.equal(await victims(), before, 'no row was deleted');
  });
});

describe('a user-defined function that writes, called from what the analyzer reads as a plain SELECT', () => {
  // The analyzer cannot see into functions and views; PostgreSQL's read-only transactions can.
  const sqlstate = (p: Promise<unknown>): Promise<string> => p.then(() => 'ran', (e: { code?: string }) => e.code ?? 'failed');

  test('under read-only, the wire session is read-only in PostgreSQL: the function and the view over it fail there', async () => {
    const before = await victims();
    const c = new pg.Client(gw.pgConfig('agent'));
    c.on('error', () => undefined);
    await c.connect();
    try {
      assert.equal((await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only, 'on');
      assert.equal(await sqlstate(c.query('SELECT report_total()')), '25006');
      assert.equal(await sqlstate(c.query('SELECT * FROM totals')), '25006');
      // Extended protocol, and inside an explicit transaction block.
      assert.equal(await sqlstate(c.query('SELECT report_total() WHERE $1::int = 1', [1])), '25006');
      await c.query('BEGIN');
      assert.equal(await sqlstate(c.query('SELECT report_total()')), '25006');
      await c.query('ROLLBACK');
      // Every way of turning it off is session tampering, refused before PostgreSQL sees it.
      for (const sql of [
        'SET default_transaction_read_only = off',
        'SET transaction_read_only = off',
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
        'BEGIN READ WRITE',
        'START TRANSACTION READ WRITE',
        'RESET ALL',
        'DISCARD ALL',
      ]) {
        assert.equal(await sqlstate(c.query(sql)), '42501', sql);
        await c.query('ROLLBACK').catch(() => undefined);
      }
      assert.equal(await sqlstate(c.query('SELECT report_total()')), '25006', 'still read-only');
      // Finishing a prepared transaction (anyone's, behind the shared role) makes its writes happen.
      for (const sql of ["COMMIT PREPARED 'someone-elses'", "ROLLBACK PREPARED 'someone-elses'"]) assert.equal(await sqlstate(c.query(sql)), '42501', sql);
      // Plain reads are untouched, row caps included.
      assert.equal((await c.query('SELECT id FROM accounts ORDER BY id')).rows.length, 2);
    } finally {
      await c.end();
    }
    assert.equal(await victims(), before, 'no row was deleted');
  });

  describe('with writes possible under review, and over HTTP', () => {
    let gw2: TestGateway;
    before(async () => {
      gw2 = await startTestGateway(db, {
        keys: { agent: ['agents'], writer: ['writers'], dba: ['dba'] },
        http: true,
        policy: {
          preset: 'read-write-with-review',
          rules: [
            { name: 'writers-victims', who: { groups: ['writers'] }, what: { kinds: ['read', 'write'], tables: ['victims'] }, action: 'allow' },
            { name: 'dba-writes', who: { groups: ['dba'] }, what: { kinds: ['read', 'write'] }, action: 'allow' },
            { name: 'no-owner-lookups', what: { functions: ['owner_of'] }, action: 'deny', reason: 'owner lookups are not for agents' },
          ],
        },
      });
    });
    after(() => gw2?.stop());

    const http = async (key: string, sql: string): Promise<string> => {
      const res = await fetch(`${gw2.httpUrl}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw2.keys[key]}` },
        body: JSON.stringify({ connection: 'main', sql }),
      });
      const body = (await res.json()) as { error?: { sqlstate?: string; code?: string }; rows?: unknown[][] };
      return body.error ? (body.error.sqlstate ?? body.error.code ?? 'failed') : 'ran';
    };

    test('over HTTP each statement admitted as a plain read runs read-only, unless policy would let the principal write anyway', async () => {
      const before = await victims();
      // A write would be held for review: the plain read runs read-only, and the hidden DELETE fails.
      assert.equal(await http('agent', 'SELECT report_total()'), '25006');
      assert.equal(await http('agent', 'SELECT * FROM totals'), '25006');
      // May write victims only: a function may write anywhere, so it is read-only too.
      assert.equal(await http('writer', 'SELECT report_total()'), '25006');
      assert.equal(await http('agent', 'SELECT count(*) FROM accounts'), 'ran');
      assert.equal(await victims(), before, 'no row was deleted');
      // May write every table outright: the function is within what policy grants.
      assert.equal(await http('dba', 'SELECT report_total()'), 'ran');
      assert.equal(Number(await victims()), Number(before) - 1);
      // The pooled session is back to read-write for the next caller: nothing leaked.
      assert.equal(await http('dba', 'SELECT report_total()'), 'ran');
    });

    test('a deny rule on a user function also catches it called in attribute notation, (row).fn', async () => {
      const c = new pg.Client(gw2.pgConfig('agent'));
      c.on('error', () => undefined);
      await c.connect();
      try {
        for (const sql of ['SELECT owner_of(a) FROM accounts a', 'SELECT (a).owner_of FROM accounts a', 'SELECT a.owner_of FROM accounts a WHERE false OR (a).owner_of IS NOT NULL', 'SELECT (SELECT (a).owner_of) FROM accounts a']) {
          const e = await c.query(sql).then(() => undefined, (err: { code?: string; message?: string }) => err);
          assert.equal(e?.code, '42501', sql);
          assert.match(e?.message ?? '', /owner lookups/, sql);
        }
        assert.equal((await c.query('SELECT count(*) FROM accounts')).rows[0].count, '20', 'plain reads still run');
      } finally {
        await c.end();
      }
    });

    test('KNOWN LIMIT: a wire session whose policy lets writes through with an approval stays read-write', async () => {
      // Documented in docs/security-model.md: the wire protocol cannot switch a transaction to
      // read-write once it has begun, so only sessions that can never write are read-only.
      const c = new pg.Client(gw2.pgConfig('agent'));
      await c.connect();
      try {
        assert.equal((await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only, 'off');
      } finally {
        await c.end();
      }
    });
  });
});
