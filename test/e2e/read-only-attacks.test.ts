/**
 * Attacks on "Reads run read-only in PostgreSQL" (policy.md) and "The server reads what the
 * analyzer read" (security-model.md), end to end against a real PostgreSQL.
 *
 * Every attempt asserts that nothing persistent changed (checked on the database directly) and
 * that any refusal is a clean error. Each was a bypass when this suite was written, or is held
 * as a regression.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { authenticated, errorOf, RawClient, type RawMessage } from '../helpers/raw-client.js';
import { frontendBatch } from '../helpers/frontend-batch.js';

const KEYS = { agent: ['agents'] };

let db: PgCluster;
let ro: TestGateway; // preset read-only, wire
let rw: TestGateway; // preset read-write-with-review, wire + HTTP
let direct: pg.Client;

before(async () => {
  // max_prepared_transactions > 0 is common where XA / two-phase commit is used.
  db = await startPostgres({ settings: { max_prepared_transactions: '5' } });
  await db.exec(`CREATE TABLE victims (id int PRIMARY KEY);
                 INSERT INTO victims SELECT g FROM generate_series(1, 50) g;
                 CREATE SEQUENCE seq;
                 SELECT lo_create(424242);
                 -- A writing function: what the read-only session exists to stop.
                 CREATE FUNCTION drop_victim(int) RETURNS int LANGUAGE sql AS $$DELETE FROM victims WHERE id = $1 RETURNING id$$;
                 -- Legacy helpers that change how the server reads SQL text (no SET clause: they stick).
                 CREATE FUNCTION legacy_escapes() RETURNS text LANGUAGE sql AS $$SELECT set_config('standard_conforming_strings', 'off', false)$$;
                 CREATE FUNCTION use_sjis() RETURNS text LANGUAGE sql AS $$SELECT set_config('client_encoding', 'SJIS', false)$$;
                 CREATE VIEW legacy_view AS SELECT legacy_escapes() AS s;
                 CREATE FUNCTION ro_off() RETURNS text LANGUAGE sql AS $$SELECT set_config('default_transaction_read_only', 'off', false)$$;
                 -- Indexes whose maintenance functions write pages.
                 CREATE TABLE events (id int, t tsvector) WITH (autovacuum_enabled = off);
                 CREATE INDEX brin_wire ON events USING brin (id) WITH (pages_per_range = 1);
                 CREATE INDEX brin_http ON events USING brin (id) WITH (pages_per_range = 1);
                 CREATE INDEX gin_wire ON events USING gin (t) WITH (fastupdate = on);
                 CREATE INDEX gin_http ON events USING gin (t) WITH (fastupdate = on);
                 INSERT INTO events SELECT g, to_tsvector('simple', 'w' || g) FROM generate_series(1, 3000) g;`);
  direct = new pg.Client({ connectionString: db.url() });
  await direct.connect();
  ro = await startTestGateway(db, { keys: KEYS, policy: { preset: 'read-only' } });
  rw = await startTestGateway(db, { keys: KEYS, http: true, policy: { preset: 'read-write-with-review' } });
});

after(async () => {
  await direct?.query("SELECT gid FROM pg_prepared_xacts").then(async (r) => {
    for (const { gid } of r.rows as { gid: string }[]) await direct.query(`ROLLBACK PREPARED '${gid.replaceAll("'", "''")}'`).catch(() => undefined);
  }).catch(() => undefined);
  await direct?.end();
  await ro?.stop();
  await rw?.stop();
  await db?.stop();
});

// ---- helpers ---------------------------------------------------------------------------------

const { writer: w, parse, bind, execute, sync, take } = frontendBatch();

/** A simple Query message from raw bytes (no UTF-8 re-encoding). */
function rawQuery(bytes: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x51;
  head.writeInt32BE(4 + bytes.length + 1, 1);
  return Buffer.concat([head, bytes, Buffer.from([0])]);
}
const q = (sql: string) => rawQuery(Buffer.from(sql, 'utf8'));

async function scalar(sql: string): Promise<string> {
  return String(Object.values((await direct.query(sql)).rows[0] as Record<string, unknown>)[0]);
}
const victims = async () => Number(await scalar('SELECT count(*) FROM victims'));
const seqValue = () => scalar('SELECT last_value FROM seq');
const loExists = () => scalar('SELECT count(*) FROM pg_largeobject_metadata WHERE oid = 424242');
const prepared = async () => Number(await scalar('SELECT count(*) FROM pg_prepared_xacts'));
const sqlstate = (p: Promise<unknown>): Promise<string> => p.then(() => 'ran', (e: { code?: string }) => e.code ?? 'failed');

/** Reads everything until the gateway closes the session (or the timeout). */
async function drain(c: RawClient, ms = 4000): Promise<RawMessage[]> {
  try {
    return await c.untilClosed(ms);
  } catch {
    return [];
  }
}

async function wire(g: TestGateway): Promise<pg.Client> {
  const c = new pg.Client(g.pgConfig('agent'));
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

// ---- defense 2: the server reads what the analyzer read ----------------------------------------

describe('misreading after a switch the gateway only hears about at ReadyForQuery', () => {
  test(
    'simple Queries pipelined behind a function that turns standard_conforming_strings off: the next Query is read by the server with backslash escapes',
    async () => {
      const before = await victims();
      const c = await authenticated(ro.port, ro.keys.agent!);
      let got: RawMessage[];
      try {
        // The analyzer: SELECT '\', $$…$$ (two constants). The server with scs off: SELECT '<', $$>' ; COMMIT; BEGIN READ WRITE; DELETE …
        const hidden = "SELECT '\\', $$'; COMMIT; BEGIN READ WRITE; DELETE FROM victims WHERE id = 1; COMMIT; --$$";
        c.write(Buffer.concat([q('SELECT legacy_escapes(), pg_sleep(0.3)'), q(hidden)]));
        got = await drain(c);
      } finally {
        c.close();
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(got.some((m) => m.code === 'E'), 'the session ends with an error');
      assert.equal(await victims(), before, 'no row was deleted');
    },
  );

  test(
    'simple Queries pipelined behind a function that switches client_encoding to SJIS: 0x81 0x5C hides the backslash from the server',
    async () => {
      const before = await victims();
      const c = await authenticated(ro.port, ro.keys.agent!);
      let got: RawMessage[];
      try {
        // UTF-8: E'Á\'; … ' is one string (\' escapes). SJIS: C3 is one character, 81 5C another, and ' closes the string.
        const hidden = Buffer.concat([Buffer.from("SELECT E'"), Buffer.from([0xc3, 0x81]), Buffer.from("\\'; COMMIT; BEGIN READ WRITE; DELETE FROM victims WHERE id = 2; COMMIT; -- '")]);
        assert.equal(hidden.toString('utf8'), "SELECT E'Á\\'; COMMIT; BEGIN READ WRITE; DELETE FROM victims WHERE id = 2; COMMIT; -- '");
        c.write(Buffer.concat([q('SELECT use_sjis(), pg_sleep(0.3)'), rawQuery(hidden)]));
        got = await drain(c);
      } finally {
        c.close();
      }
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(got.some((m) => m.code === 'E'), 'the session ends with an error');
      assert.equal(await victims(), before, 'no row was deleted');
    },
  );

  test(
    'extended batch: Execute of a VIEW that turns standard_conforming_strings off, then Parse in the same batch (its function call is hidden from the analyzer)',
    async () => {
      const before = await victims();
      const c = await authenticated(ro.port, ro.keys.agent!);
      let got: RawMessage[];
      try {
        parse('commit', 'COMMIT');
        parse('drop', 'SELECT drop_victim(3)');
        parse('v', 'SELECT * FROM legacy_view');
        bind('pv', 'v');
        execute('pv');
        // Analyzer: SELECT '\', $$…$$. Server (scs off): SELECT '<', $$>', set_config(…) --
        parse('h', "SELECT '\\', $$', set_config('default_transaction_read_only', 'off', false) --$$");
        bind('ph', 'h');
        execute('ph');
        bind('pc', 'commit');
        execute('pc');
        bind('pd', 'drop');
        execute('pd');
        sync();
        c.write(take());
        got = await c.untilReady(4000);
      } finally {
        c.close();
      }
      // A Parse of text with backslashes after an Execute in the same batch is refused: the batch fails cleanly.
      assert.match(errorOf(got)?.message ?? '', /send Sync before parsing it/);
      assert.equal(await victims(), before, 'no row was deleted');
    },
  );

  test(
    'extended batch: FETCH from a cursor over a function that turns standard_conforming_strings off, then Parse in the same batch',
    async () => {
      const before = await victims();
      const c = await authenticated(ro.port, ro.keys.agent!);
      let got: RawMessage[];
      try {
        c.query('BEGIN');
        await c.untilReady();
        c.query('DECLARE cur CURSOR FOR SELECT legacy_escapes()');
        assert.equal(errorOf(await c.untilReady()), undefined);
        parse('commit2', 'COMMIT');
        parse('drop2', 'SELECT drop_victim(4)');
        parse('f', 'FETCH cur');
        bind('pf', 'f');
        execute('pf');
        parse('h2', "SELECT '\\', $$', set_config('default_transaction_read_only', 'off', false) --$$");
        bind('ph2', 'h2');
        execute('ph2');
        bind('pc2', 'commit2');
        execute('pc2');
        bind('pd2', 'drop2');
        execute('pd2');
        sync();
        c.write(take());
        got = await c.untilReady(4000);
      } finally {
        c.close();
      }
      // A Parse of text with backslashes after an Execute in the same batch is refused: the batch fails cleanly.
      assert.match(errorOf(got)?.message ?? '', /send Sync before parsing it/);
      assert.equal(await victims(), before, 'no row was deleted');
    },
  );

  test('held: a Parse after an Execute of a listed user function in the same batch is refused (08P01), and the aborted batch rolls the switch back', async () => {
    const before = await victims();
    const c = await authenticated(ro.port, ro.keys.agent!);
    try {
      parse('', 'SELECT legacy_escapes()');
      bind('', '');
      execute('');
      parse('h3', "SELECT '\\', $$', set_config('default_transaction_read_only', 'off', false) --$$");
      bind('', 'h3');
      execute('');
      sync();
      c.write(take());
      const got = await c.untilReady();
      assert.equal(errorOf(got)?.code, '08P01');
      c.query('SHOW standard_conforming_strings');
      assert.match((await c.untilReady()).find((m) => m.code === 'D')?.body.toString() ?? '', /on/);
    } finally {
      c.close();
    }
    assert.equal(await victims(), before);
  });

  test(
    'extended batch, silent: BEGIN, a view switches scs off, the hidden statement reads a file the policy denies, ROLLBACK switches it back — rows reach the client and no ParameterStatus ever ends the session',
    async () => {
      const c = await authenticated(ro.port, ro.keys.agent!);
      let got: RawMessage[];
      let alive = false;
      try {
        parse('b', 'BEGIN');
        parse('r', 'ROLLBACK');
        parse('v2', 'SELECT * FROM legacy_view');
        bind('pb', 'b');
        execute('pb');
        bind('pv2', 'v2');
        execute('pv2');
        parse('h4', "SELECT '\\', $$', pg_read_file('PG_VERSION') --$$");
        bind('ph4', 'h4');
        execute('ph4');
        bind('pr', 'r');
        execute('pr');
        sync();
        c.write(take());
        got = await c.untilReady();
        c.query('SELECT 1');
        alive = (await c.untilReady()).some((m) => m.code === 'Z');
      } finally {
        c.close();
      }
      const version = (await scalar('SHOW server_version_num')).slice(0, 2);
      const leaked = got.filter((m) => m.code === 'D').some((m) => m.body.toString().includes(`${version}\n`));
      assert.deepEqual({ leaked, alive }, { leaked: false, alive: true }, 'the file is not read; a session may go on only if nothing was misread');
    },
  );

  test('held: a lone Query after a switch (not pipelined) never reaches the server; the session ends with ERR_SQL_READING_CHANGED', async () => {
    const before = await victims();
    for (const fn of ['legacy_escapes()', 'use_sjis()', '* FROM legacy_view']) {
      const c = await authenticated(ro.port, ro.keys.agent!);
      try {
        c.write(q(`SELECT ${fn}`));
        const got = await drain(c);
        assert.match(errorOf(got)?.message ?? '', /switched to/, fn);
      } finally {
        c.close();
      }
    }
    assert.equal(await victims(), before);
  });

  test('held: startup client_encoding aliases and spellings of multi-byte and single-byte encodings are refused', async () => {
    for (const enc of ['MSKANJI', 'ShiftJIS', 'sjis', 'win932', 'WIN936', 'WIN950', 'Shift_JIS_2004', 'SHIFT-JIS-2004', 'EUC_JIS_2004', 'EUC_JP', 'EUC_TW', 'BIG5', 'GBK', 'GB18030', 'UHC', 'JOHAB', 'LATIN1', 'WIN1252', 'utf16', 'auto', ' SJIS', 'UTF8\tSJIS']) {
      const c = await RawClient.open(ro.port);
      try {
        c.startup({ user: 'raw', database: 'main', client_encoding: enc });
        const e = errorOf(await drain(c));
        assert.equal(e?.code, '0A000', enc);
      } finally {
        c.close();
      }
    }
    // Case variants of the key are not forwarded at all (the server would read Client_Encoding as a GUC name).
    const c = await RawClient.open(ro.port);
    try {
      c.startup({ user: 'raw', database: 'main', Client_Encoding: 'SJIS', CLIENT_ENCODING: 'SJIS' });
      await c.next();
      c.password(ro.keys.agent!);
      await c.untilReady();
      c.query('SHOW client_encoding');
      const shown = await c.untilReady();
      assert.match(shown.find((m) => m.code === 'D')?.body.toString() ?? '', /UTF8/);
    } finally {
      c.close();
    }
  });

  test('held: SET / set_config / RESET spellings of client_encoding, standard_conforming_strings and friends are refused', async () => {
    const c = await wire(ro);
    const ran: string[] = [];
    try {
      for (const sql of [
        "SET client_encoding = 'MSKANJI'",
        "SET client_encoding TO 'win932'",
        "SET SESSION client_encoding = 'BIG5'",
        "SET LOCAL client_encoding = 'GBK'",
        "SET NAMES 'SJIS'",
        'SET NAMES DEFAULT',
        'RESET client_encoding',
        'SET "CLIENT_ENCODING" = \'SJIS\'',
        'SET U&"client\\005fencoding" = \'SJIS\'',
        "SELECT set_config('client_encoding', 'SJIS', false)",
        "SELECT set_config('CLIENT_ENCODING', 'SJIS', false)",
        "SELECT set_config(upper('client_encoding'), 'SJIS', false)",
        "SELECT set_config(format('%s_encoding', 'client'), 'SJIS', false)",
        "SELECT set_config('client_encoding'::text, 'SJIS', false)",
        "SELECT set_config(setting_name => 'client_encoding', new_value => 'SJIS', is_local => false)",
        "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false)",
        'SET standard_conforming_strings = off',
        "SET standard_conforming_strings TO 'no'",
        'SET standard_conforming_strings = 0',
        'SET standard_conforming_strings TO DEFAULT',
        'RESET standard_conforming_strings',
        'SET escape_string_warning = off',
        'SET backslash_quote = on',
        "UPDATE pg_catalog.pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings'",
        "SELECT * FROM (SELECT set_config('standard_conforming_strings', 'off', false)) s",
        "SELECT query_to_xml('SELECT set_config(''standard_conforming_strings'', ''off'', false)', true, false, '')",
        "SELECT ts_rewrite('a'::tsquery, 'SELECT set_config(''standard_conforming_strings'', ''off'', false)::tsquery, ''a''::tsquery')",
        "SELECT table_to_xml('legacy_view', true, false, '')",
        "DO $$BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); END$$",
        'RESET ALL',
        'DISCARD ALL',
      ]) {
        const s = await sqlstate(c.query(sql));
        if (s !== '42501') ran.push(`${sql} → ${s}`);
        await c.query('ROLLBACK').catch(() => undefined);
      }
      assert.equal((await c.query('SHOW standard_conforming_strings')).rows[0].standard_conforming_strings, 'on');
    } finally {
      await c.end();
    }
    assert.deepEqual(ran, []);
  });
});

// ---- defense 1: reads run read-only in PostgreSQL (wire, read-only preset) ---------------------

describe('read-only preset on the wire: turning read-only off, or writing without it', () => {
  test('held: spellings of SET / RESET / BEGIN / SET SESSION CHARACTERISTICS … READ WRITE are refused; a writing function still fails with 25006', async () => {
    const before = await victims();
    const c = await wire(ro);
    const ran: string[] = [];
    try {
      for (const sql of [
        'SET default_transaction_read_only = off',
        'SET SESSION default_transaction_read_only = off',
        "SET default_transaction_read_only TO 'false'",
        'SET default_transaction_read_only = 0',
        'SET default_transaction_read_only TO DEFAULT',
        'SET default_transaction_read_only FROM CURRENT',
        'SET "Default_Transaction_Read_Only" = off',
        'SET U&"default\\005ftransaction\\005fread\\005fonly" = off',
        'RESET default_transaction_read_only',
        'RESET transaction_read_only',
        'SET transaction_read_only = off',
        'BEGIN; SET LOCAL transaction_read_only = off; SELECT drop_victim(10); COMMIT',
        'BEGIN; SET LOCAL default_transaction_read_only = off; COMMIT',
        'BEGIN READ WRITE',
        'BEGIN READ /* x */ WRITE',
        'BEGIN TRANSACTION READ\n\tWRITE',
        'BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE',
        'BEGIN ISOLATION LEVEL SERIALIZABLE READ WRITE DEFERRABLE',
        'START TRANSACTION READ ONLY, READ WRITE',
        'START TRANSACTION NOT DEFERRABLE READ WRITE',
        'BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ WRITE; COMMIT',
        'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
        'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED READ WRITE',
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT set_config('DEFAULT_TRANSACTION_READ_ONLY', 'off', false)",
        "SELECT set_config('transaction_read_only', 'off', true)",
        "SELECT set_config(lower('DEFAULT_TRANSACTION_READ_ONLY'), 'off', false)",
        "SELECT set_config(format('%s', 'default_transaction_read_only'), 'off', false)",
        "SELECT set_config('default_' || 'transaction_read_only', 'off', false)",
        "SELECT set_config(concat('default_transaction', '_read_only'), 'off', false)",
        "SELECT set_config(setting_name => 'default_transaction_read_only', new_value => 'off', is_local => false)",
        "SELECT s FROM (VALUES ('default_transaction_read_only')) v(n), LATERAL set_config(n, 'off', false) s",
        "SELECT (SELECT set_config('default_transaction_read_only', 'off', false))",
        "WITH x AS (SELECT set_config('default_transaction_read_only', 'off', false)) SELECT * FROM x",
        "UPDATE pg_settings SET setting = 'off' WHERE name = 'default_transaction_read_only'",
        "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
        "ALTER DATABASE postgres SET default_transaction_read_only = off",
        'RESET ALL',
        'DISCARD ALL',
        "COMMIT PREPARED 'x'",
        "ROLLBACK PREPARED 'x'",
        'SET ROLE NONE',
        'RESET SESSION AUTHORIZATION',
      ]) {
        const s = await sqlstate(c.query(sql));
        if (s !== '42501') ran.push(`${sql} → ${s}`);
        await c.query('ROLLBACK').catch(() => undefined);
      }
      assert.equal((await c.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only, 'on');
      assert.equal(await sqlstate(c.query('SELECT drop_victim(11)')), '25006');
    } finally {
      await c.end();
    }
    assert.deepEqual(ran, []);
    assert.equal(await victims(), before);
  });

  test('held: transaction shapes that keep read-only (AND CHAIN, savepoints, EXPLAIN ANALYZE, CTEs, cursors, SQL PREPARE) fail the write with 25006', async () => {
    const before = await victims();
    const c = await wire(ro);
    const outcomes: string[] = [];
    try {
      const attempt = async (label: string, steps: string[], write: string) => {
        for (const s of steps) await c.query(s).catch(() => undefined);
        outcomes.push(`${label}: ${await sqlstate(c.query(write))}`);
        await c.query('ROLLBACK').catch(() => undefined);
      };
      await attempt('COMMIT AND CHAIN', ['BEGIN', 'COMMIT AND CHAIN'], 'SELECT drop_victim(12)');
      await attempt('ROLLBACK AND CHAIN', ['BEGIN', 'ROLLBACK AND CHAIN'], 'SELECT drop_victim(12)');
      await attempt('savepoint', ['BEGIN', 'SAVEPOINT s', 'RELEASE SAVEPOINT s', 'SAVEPOINT t'], 'SELECT drop_victim(12)');
      await attempt('rollback to savepoint', ['BEGIN', 'SAVEPOINT s', 'ROLLBACK TO SAVEPOINT s'], 'SELECT drop_victim(12)');
      await attempt('EXPLAIN ANALYZE', [], 'EXPLAIN ANALYZE SELECT drop_victim(12)');
      await attempt('CTE', [], 'WITH x AS MATERIALIZED (SELECT drop_victim(12)) SELECT * FROM x');
      await attempt('cursor', ['BEGIN', 'DECLARE k CURSOR FOR SELECT drop_victim(12)'], 'FETCH k');
      await attempt('SQL PREPARE/EXECUTE', ['PREPARE pp AS SELECT drop_victim(12)'], 'EXECUTE pp');
      outcomes.push(`extended protocol: ${await sqlstate(c.query('SELECT drop_victim($1::int)', [12]))}`);
      await attempt('serializable deferrable', ['BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE'], 'SELECT drop_victim(12)');
      await attempt('DISCARD PLANS/SEQUENCES/TEMP', ['DISCARD PLANS', 'DISCARD SEQUENCES', 'DISCARD TEMP'], 'SELECT drop_victim(12)');
    } finally {
      await c.end();
    }
    for (const o of outcomes) assert.match(o, /: (25006|42501|22P02|08P01|42P01|34000|26000)$/, o);
    assert.ok(outcomes.filter((o) => o.endsWith('25006')).length >= 8, outcomes.join('\n'));
    assert.equal(await victims(), before);
  });

  test('held: side-effect builtins (sequence, large objects, xid, notify, advisory locks, COPY FROM) are refused or fail read-only', async () => {
    const before = { n: await victims(), seq: await seqValue() };
    const c = await wire(ro);
    const ran: string[] = [];
    try {
      for (const sql of [
        "SELECT nextval('seq')",
        "SELECT ('seq'::regclass).nextval",
        "SELECT setval('seq', 99)",
        "SELECT pg_catalog.setval('seq'::regclass, 99, true)",
        'SELECT lo_unlink(424242)',
        "SELECT lo_from_bytea(0, '\\x00')",
        "SELECT lo_put(424242, 0, '\\x00')",
        'SELECT lo_create(0)',
        'SELECT lo_truncate(lo_open(424242, 131072), 0)',
        'SELECT txid_current()',
        'SELECT pg_current_xact_id()',
        "SELECT pg_notify('c', 'x')",
        'NOTIFY c',
        'SELECT pg_advisory_lock(1)',
        'COPY victims FROM STDIN',
        'SELECT pg_stat_reset()',
        "SELECT pg_replication_origin_create('o')",
        "SELECT pg_import_system_collations('public')",
        'SELECT * FROM victims FOR KEY SHARE',
        'SELECT * FROM victims FOR NO KEY UPDATE',
      ]) {
        const s = await sqlstate(c.query(sql));
        if (s !== '42501' && s !== '25006') ran.push(`${sql} → ${s}`);
        await c.query('ROLLBACK').catch(() => undefined);
      }
    } finally {
      await c.end();
    }
    assert.deepEqual(ran, []);
    assert.equal(await victims(), before.n);
    assert.equal(await seqValue(), before.seq);
    assert.equal(await loExists(), '1');
    assert.equal(Number(await scalar("SELECT count(*) FROM pg_replication_origin WHERE roname = 'o'")), 0);
  });

  test(
    'PREPARE TRANSACTION is tcl: a read-only transaction is parked in pg_prepared_xacts, holding its locks past the session (and a restart)',
    async () => {
      const before = await prepared();
      const c = await wire(ro);
      let outcome: string;
      try {
        await c.query('BEGIN');
        await c.query('SELECT count(*) FROM victims');
        outcome = await sqlstate(c.query("PREPARE TRANSACTION 'parked-by-agent'"));
      } finally {
        await c.end();
      }
      const after = await prepared();
      const locks = Number(await scalar("SELECT count(*) FROM pg_locks WHERE relation = 'victims'::regclass AND pid IS NULL"));
      // The parked transaction's lock blocks DDL on victims for everyone.
      const truncate = await sqlstate(direct.query("BEGIN; SET LOCAL lock_timeout = '200ms'; TRUNCATE victims")).finally(() => direct.query('ROLLBACK').catch(() => undefined));
      assert.equal(truncate, after > before ? '55P03' : 'ran');
      await direct.query("ROLLBACK PREPARED 'parked-by-agent'").catch(() => undefined);
      assert.deepEqual({ outcome, prepared: after - before, locks }, { outcome: '42501', prepared: 0, locks: 0 });
    },
  );

  test(
    'index maintenance functions write pages in a read-only transaction: brin_summarize_new_values, gin_clean_pending_list',
    async () => {
      const c = await wire(ro);
      const got: Record<string, string> = {};
      try {
        for (const [k, sql] of [
          ['brin', "SELECT brin_summarize_new_values('brin_wire')"],
          ['gin', "SELECT gin_clean_pending_list('gin_wire')"],
        ] as const) {
          got[k] = await c.query(sql).then((r) => `ran: ${String(Object.values(r.rows[0] as object)[0])}`, (e: { code?: string }) => e.code ?? 'failed');
        }
      } finally {
        await c.end();
      }
      // What is left to do, asked directly: 0 means the gateway's call already did it.
      const left = { brin: Number(await scalar("SELECT brin_summarize_new_values('brin_wire')")), gin: Number(await scalar("SELECT gin_clean_pending_list('gin_wire')")) };
      assert.ok(!got.brin!.startsWith('ran') && !got.gin!.startsWith('ran'), JSON.stringify(got));
      assert.ok(left.brin > 0 && left.gin > 0, JSON.stringify(left));
    },
  );

  test(
    'a function that turns default_transaction_read_only off (set_config inside, invisible to the analyzer): the server reports it and the session ends',
    async () => {
      const before = await victims();
      const c = await wire(ro);
      try {
        const e = await c.query('SELECT ro_off()').then(() => undefined, (err: Error) => err);
        assert.match(e?.message ?? '', /default_transaction_read_only off.*ERR_SQL_READING_CHANGED/);
        await assert.rejects(c.query('SELECT drop_victim(20)'));
      } finally {
        await c.end().catch(() => undefined);
      }
      assert.equal(await victims(), before);
    },
  );
});

// ---- defense 1 over HTTP, read-write-with-review -----------------------------------------------

describe('read-write-with-review over HTTP: plain reads run in a read-only transaction', () => {
  const http = async (sql: string): Promise<string> => {
    const res = await fetch(`${rw.httpUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rw.keys.agent}` },
      body: JSON.stringify({ connection: 'main', sql }),
    });
    const body = (await res.json()) as { error?: { sqlstate?: string; code?: string }; rows?: unknown[][] };
    return body.error ? (body.error.sqlstate ?? body.error.code ?? 'failed') : `ran: ${JSON.stringify(body.rows?.[0] ?? null)}`;
  };

  test('held: writing functions, views, CTEs, EXPLAIN ANALYZE, cursor and transaction tricks fail or are refused', async () => {
    const before = { n: await victims(), seq: await seqValue(), px: await prepared() };
    const ran: string[] = [];
    for (const sql of [
      'SELECT drop_victim(30)',
      'WITH x AS MATERIALIZED (SELECT drop_victim(30)) SELECT * FROM x',
      'EXPLAIN ANALYZE SELECT drop_victim(30)',
      'SELECT * FROM (SELECT drop_victim(30)) s',
      'SELECT ro_off()',
      'SELECT drop_victim(30)',
      'COMMIT',
      'BEGIN',
      'ROLLBACK',
      'BEGIN READ WRITE',
      'SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE',
      'SET default_transaction_read_only = off',
      "SELECT set_config('default_transaction_read_only', 'off', false)",
      "PREPARE TRANSACTION 'http-parked'",
      "SELECT nextval('seq')",
      'SELECT lo_unlink(424242)',
      "SELECT legacy_escapes()",
      "SELECT '\\', $$', drop_victim(31) --$$",
      'SELECT use_sjis()',
      "SELECT drop_victim(32)",
      'DISCARD ALL',
      'RESET ALL',
      'SELECT 1; SELECT drop_victim(33)',
    ]) {
      const s = await http(sql);
      // A refusal is a clean error; a function that writes must fail read-only (25006).
      if (/^SELECT (drop_victim|nextval|lo_unlink)/.test(sql) && s.startsWith('ran')) ran.push(`${sql} → ${s}`);
    }
    assert.deepEqual(ran, []);
    assert.equal(await victims(), before.n);
    assert.equal(await seqValue(), before.seq);
    assert.equal(await loExists(), '1');
    assert.equal(await prepared(), before.px);
  });

  test(
    'index maintenance functions run as plain reads and change index pages in the read-only transaction',
    async () => {
      const got = { brin: await http("SELECT brin_summarize_new_values('brin_http')"), gin: await http("SELECT gin_clean_pending_list('gin_http')") };
      const left = { brin: Number(await scalar("SELECT brin_summarize_new_values('brin_http')")), gin: Number(await scalar("SELECT gin_clean_pending_list('gin_http')")) };
      assert.ok(!got.brin.startsWith('ran') && !got.gin.startsWith('ran'), JSON.stringify(got));
      assert.ok(left.brin > 0 && left.gin > 0, JSON.stringify(left));
    },
  );

  test('held: on the wire, read-write-with-review (the documented known limit) — a write itself is still refused', async () => {
    const before = await victims();
    const c = await wire(rw);
    try {
      assert.equal(await sqlstate(c.query('DELETE FROM victims WHERE id = 40')), '42501');
      assert.equal(await sqlstate(c.query("SET standard_conforming_strings = off")), '42501');
    } finally {
      await c.end();
    }
    assert.equal(await victims(), before);
  });
});

describe('pipelining still works, in order, with the waits in place', () => {
  const queries = (...sqls: string[]): Buffer => {
    for (const sql of sqls) w.begin(0x51).cstring(sql).end();
    return take();
  };
  const rowsOf = (msgs: RawMessage[]): string[] =>
    msgs.filter((m) => m.code === 'D').map((m) => {
      const len = m.body.readInt32BE(2);
      return m.body.subarray(6, 6 + len).toString('utf8');
    });

  for (const [label, gw] of [
    ['a read-only session (every message waits for the one before)', () => ro],
    ['a read-write session (text with backslashes or non-ASCII waits)', () => rw],
  ] as const) {
    test(label, async () => {
      const c = await authenticated(gw().port, gw().keys.agent!);
      try {
        c.write(queries('SELECT 1', "SELECT E'a\\\\b'", "SELECT 'é'", 'SELECT 4'));
        const got: RawMessage[] = [];
        for (let i = 0; i < 4; i++) got.push(...(await c.untilReady(5000)));
        assert.equal(errorOf(got), undefined);
        assert.deepEqual(rowsOf(got), ['1', 'a\\b', 'é', '4']);
      } finally {
        c.close();
      }
    });
  }
});
