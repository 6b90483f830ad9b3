import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { startSnowflakeEmulator, type SnowflakeEmulator } from '../../src/dev/snowflake-emulator/index.js';
import { fixUpSql } from '../../src/dev/snowflake-emulator/sql-fixup.js';

// snowflake-sdk probes cloud metadata addresses on import unless told not to.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE = 'true';
const snowflake = (await import('snowflake-sdk')).default;
snowflake.configure({ logLevel: 'OFF' } as never);

type Conn = ReturnType<typeof snowflake.createConnection>;
type Row = Record<string, unknown>;

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const users = {
  alice: { password: 'correct horse' },
  robot: { publicKeyPem: keys.publicKey.export({ format: 'pem', type: 'spki' }).toString() },
  app: { oauthToken: 'oauth-token-123' },
};

let emu: SnowflakeEmulator;
const open: Conn[] = [];

before(async () => {
  emu = await startSnowflakeEmulator({ seed: 'demo', users, chunkRows: 5000 });
});
after(async () => {
  for (const c of open) if (c.isUp()) await new Promise<void>((r) => c.destroy(() => r()));
  await emu.close();
});

async function connect(options: Record<string, unknown>, target: SnowflakeEmulator = emu): Promise<Conn> {
  const conn = snowflake.createConnection({ accessUrl: target.url, account: 'emulator', database: 'DEMO', schema: 'PUBLIC', ...options } as never);
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  open.push(conn);
  return conn;
}

function query(conn: Conn, sqlText: string, extra: Record<string, unknown> = {}): Promise<Row[]> {
  return new Promise((resolve, reject) =>
    conn.execute({ sqlText, ...extra, complete: (err: unknown, _s: unknown, rows: unknown) => (err ? reject(err) : resolve((rows ?? []) as Row[])) } as never),
  );
}

test('password login works; a wrong password and an unknown user are refused', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  assert.deepEqual(await query(conn, 'select id, full_name from customers order by id limit 1'), [{ ID: 1, FULL_NAME: 'Linda Allen' }]);
  for (const [username, password] of [['alice', 'wrong'], ['mallory', 'correct horse']]) {
    await assert.rejects(connect({ username, password }), (e: { code?: string; message: string }) => {
      assert.equal(String(e.code), '390100');
      return true;
    });
  }
});

test('key-pair (SNOWFLAKE_JWT) login verifies the signature and claims; a different key is refused', async () => {
  const conn = await connect({ username: 'robot', authenticator: 'SNOWFLAKE_JWT', privateKey: privatePem });
  assert.deepEqual(await query(conn, 'select current_user() as u, current_account() as a'), [{ U: 'ROBOT', A: 'EMULATOR' }]);
  const wrong = otherKeys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  await assert.rejects(connect({ username: 'robot', authenticator: 'SNOWFLAKE_JWT', privateKey: wrong }), (e: { code?: string }) => String(e.code) === '390144');
});

test('OAuth login with the configured token', async () => {
  const conn = await connect({ username: 'app', authenticator: 'OAUTH', token: 'oauth-token-123' });
  assert.deepEqual(await query(conn, 'select 1 as one'), [{ ONE: 1 }]);
  await assert.rejects(connect({ username: 'app', authenticator: 'OAUTH', token: 'nope' }));
});

test('every Snowflake type reaches the driver as the value it stands for', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  const [row] = await query(
    conn,
    `select 12::number(10,2) as fixed_n, 42::bigint as int_n, 1.5::double as real_n, 'inf'::double as inf_n, 'x''y' as text_v,
            true as bool_v, date '1969-12-31' as date_v, date '0001-01-01' as old_date, time '12:34:56.123456' as time_v,
            timestamp '1969-12-31 23:59:59.5' as ntz_v, timestamp_ltz '2020-01-01 05:00:00+05:00' as ltz_v,
            parse_json('{"a":[1,2]}') as variant_v, {'k': 1} as object_v, [1, 2] as array_v, '\\xAB\\x00'::binary as bin_v,
            null::varchar as null_v`,
  );
  assert.ok(row);
  assert.equal(row.FIXED_N, 12);
  assert.equal(row.INT_N, 42);
  assert.equal(row.REAL_N, 1.5);
  assert.equal(row.INF_N, Infinity);
  assert.equal(row.TEXT_V, "x'y");
  assert.equal(row.BOOL_V, true);
  assert.equal((row.DATE_V as Date).toISOString(), '1969-12-31T00:00:00.000Z');
  assert.equal((row.OLD_DATE as Date).toISOString(), '0001-01-01T00:00:00.000Z');
  assert.equal(row.TIME_V, '12:34:56');
  assert.equal((row.NTZ_V as Date).toISOString(), '1969-12-31T23:59:59.500Z');
  assert.equal((row.LTZ_V as Date).toISOString(), '2020-01-01T00:00:00.000Z');
  assert.deepEqual(row.VARIANT_V, { a: [1, 2] });
  assert.deepEqual(row.OBJECT_V, { k: 1 });
  assert.deepEqual(row.ARRAY_V, [1, 2]);
  assert.deepEqual([...(row.BIN_V as Buffer)], [0xab, 0x00]);
  assert.equal(row.NULL_V, null);
});

test('binds (positional ? and :n), DML row counts, and the catalog queries the gateway connector sends', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  assert.deepEqual(await query(conn, 'select ? + 1 as x, :2 as y, :3 as z', { binds: [41, 'hi', null] }), [{ X: 42, Y: 'hi', Z: null }]);
  assert.deepEqual(await query(conn, 'select full_name from customers where id = ?', { binds: [2] }), [{ FULL_NAME: 'Anthony Walker' }]);
  await query(conn, 'create table notes (id number(10,0), body string)');
  const inserted = await new Promise<number>((resolve, reject) =>
    conn.execute({
      sqlText: 'insert into notes values (?, ?)',
      binds: [[1, 'a'], [2, 'b'], [3, null]],
      complete: (err, stmt) => (err ? reject(err) : resolve(stmt.getNumUpdatedRows() as number)),
    }),
  );
  assert.equal(inserted, 3);
  assert.deepEqual(await query(conn, 'select count(*) as n from notes where body is not null'), [{ N: 2 }]);

  const tables = await query(conn, 'SELECT table_schema, table_name, table_type FROM information_schema.tables');
  assert.ok(tables.some((t) => t.TABLE_SCHEMA === 'PUBLIC' && t.TABLE_NAME === 'CUSTOMERS' && t.TABLE_TYPE === 'BASE TABLE'));
  assert.ok(tables.some((t) => t.TABLE_NAME === 'CUSTOMER_SUMMARY' && t.TABLE_TYPE === 'VIEW'));
  assert.ok(tables.every((t) => t.TABLE_SCHEMA === 'PUBLIC'), 'no DuckDB catalog schemas leak');
  const columns = await query(conn, 'SELECT table_schema, table_name, column_name, ordinal_position FROM information_schema.columns');
  assert.ok(columns.some((c) => c.TABLE_NAME === 'CUSTOMERS' && c.COLUMN_NAME === 'EMAIL' && c.ORDINAL_POSITION === 3));
  const views = await query(conn, 'SELECT table_schema, table_name, view_definition FROM information_schema.views');
  assert.deepEqual(views.map((v) => v.TABLE_NAME), ['CUSTOMER_SUMMARY']);
  assert.match(String(views[0]!.VIEW_DEFINITION), /CUSTOMERS/);
  const shown = await query(conn, 'show tables');
  assert.ok(shown.some((t) => t.name === 'ORDERS'));
});

test('SQL errors surface as driver errors with Snowflake codes and SQLSTATE', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  await assert.rejects(query(conn, 'selec 1'), (e: { code?: string; sqlState?: string }) => {
    assert.equal(e.code, '001003');
    assert.equal(e.sqlState, '42000');
    return true;
  });
  await assert.rejects(query(conn, 'select * from no_such_table'), (e: { code?: string; sqlState?: string; message: string }) => {
    assert.equal(e.code, '002003');
    assert.equal(e.sqlState, '42S02');
    assert.match(e.message, /NO_SUCH_TABLE/);
    return true;
  });
  // The session survives errors.
  assert.deepEqual(await query(conn, 'select 2 as two'), [{ TWO: 2 }]);
});

test('QUERY_TAG is recorded per statement: statement parameters, ALTER SESSION, and the connection option', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  await query(conn, 'select 1 as tagged_by_statement', { parameters: { QUERY_TAG: 'stmt-tag', STATEMENT_TIMEOUT_IN_SECONDS: 30 } });
  await query(conn, "alter session set query_tag = 'session-tag'");
  await query(conn, 'select 1 as tagged_by_session');
  await query(conn, 'select 1 as tag_overridden', { parameters: { QUERY_TAG: 'override' } });
  await query(conn, 'alter session unset query_tag');
  await query(conn, 'select 1 as untagged');
  const optConn = await connect({ username: 'alice', password: 'correct horse', queryTag: 'login-tag' });
  await query(optConn, 'select 1 as tagged_at_login');
  const tagOf = (marker: string) => emu.history().find((h) => h.sqlText.includes(marker));
  assert.equal(tagOf('tagged_by_statement')?.queryTag, 'stmt-tag');
  assert.equal(tagOf('tagged_by_statement')?.parameters.STATEMENT_TIMEOUT_IN_SECONDS, 30);
  assert.equal(tagOf('tagged_by_session')?.queryTag, 'session-tag');
  assert.equal(tagOf('tag_overridden')?.queryTag, 'override');
  assert.equal(tagOf('untagged')?.queryTag, null);
  assert.equal(tagOf('tagged_at_login')?.queryTag, 'login-tag');
  assert.equal(tagOf('tagged_at_login')?.user, 'ALICE');
});

test('a 100,000-row result arrives whole through downloaded chunks', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  let count = 0;
  let sum = 0;
  let last: Row | undefined;
  await new Promise<void>((resolve, reject) => {
    const stmt = conn.execute({ sqlText: "select range as id, 'row ' || range as label from range(100000) order by id", streamResult: true });
    stmt
      .streamRows()
      .on('data', (row: Row) => {
        count++;
        sum += row.ID as number;
        last = row;
      })
      .on('error', reject)
      .on('end', () => resolve());
  });
  assert.equal(count, 100_000);
  assert.equal(sum, (99_999 * 100_000) / 2);
  assert.deepEqual(last, { ID: 99_999, LABEL: 'row 99999' });
  assert.equal(emu.history().find((h) => h.sqlText.includes('range(100000)'))?.rowCount, 100_000);
});

test('asyncExec returns at once; the result is fetched by query id after polling', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  const queryId = await new Promise<string>((resolve, reject) =>
    conn.execute({ sqlText: 'select count(*) as n from orders', asyncExec: true, complete: (err, stmt) => (err ? reject(err) : resolve(stmt.getQueryId())) }),
  );
  assert.match(queryId, /^[0-9a-f-]{36}$/);
  const stmt = await conn.getResultsFromQueryId({ queryId, sqlText: '' } as never);
  const rows = await new Promise<Row[]>((resolve, reject) => {
    const out: Row[] = [];
    (stmt as unknown as { streamRows(): NodeJS.ReadableStream }).streamRows().on('data', (r: Row) => out.push(r)).on('error', reject).on('end', () => resolve(out));
  });
  assert.deepEqual(rows, [{ N: 2000 }]);
  assert.equal(emu.history().find((h) => h.queryId === queryId)?.asyncExec, true);
});

test('a statement still running answers 333334 and the driver polls until the result is there', async () => {
  const slow = await startSnowflakeEmulator({ seed: 'empty', users, syncWaitMs: 0 });
  try {
    const conn = await connect({ username: 'alice', password: 'correct horse', database: undefined, schema: undefined }, slow);
    assert.deepEqual(await query(conn, 'select sum(range) as s from range(2000000)'), [{ S: 1_999_999_000_000 }]);
    await assert.rejects(query(conn, 'select * from missing'), (e: { code?: string }) => e.code === '002003');
    await new Promise<void>((r) => conn.destroy(() => r()));
  } finally {
    await slow.close();
  }
});

test('abort-request cancels a running statement', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  const outcome = new Promise<{ code?: string }>((resolve) => {
    const stmt = conn.execute({
      sqlText: 'select count(*) from range(1000000) a, range(1000000) b',
      complete: (err) => resolve((err ?? {}) as { code?: string }),
    });
    setTimeout(() => stmt.cancel(() => undefined), 300);
  });
  const err = await outcome;
  assert.equal(err.code, '000604');
  assert.equal(emu.history().find((h) => h.sqlText.includes('range(1000000) a'))?.status, 'ABORTED');
});

test('an expired session token is renewed with the master token; logout ends the session', async () => {
  const short = await startSnowflakeEmulator({ seed: 'empty', users, tokenValiditySeconds: 1 });
  try {
    const conn = await connect({ username: 'alice', password: 'correct horse', database: undefined, schema: undefined }, short);
    assert.deepEqual(await query(conn, 'select 1 as a'), [{ A: 1 }]);
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await query(conn, 'select 2 as b'), [{ B: 2 }]);
    await new Promise<void>((resolve, reject) => conn.destroy((err) => (err ? reject(err) : resolve())));
    assert.equal(conn.isUp(), false);
  } finally {
    await short.close();
  }
});

test('hostile requests get clean Snowflake-shaped errors and the server keeps serving', async () => {
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(emu.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  let res = await post('/session/v1/login-request', '{"data":');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { success: boolean }).success, false);
  res = await post('/session/v1/login-request', gzipSync(Buffer.alloc(40 << 20, 0x20)), { 'Content-Encoding': 'gzip' });
  assert.equal(res.status, 400);
  res = await post('/session/v1/login-request', JSON.stringify({ data: { LOGIN_NAME: ['x'] } }));
  assert.equal(((await res.json()) as { code: string }).code, '390400');
  res = await post('/queries/v1/query-request', JSON.stringify({ sqlText: 'select 1' }), { Authorization: 'Snowflake Token="forged"' });
  assert.equal(((await res.json()) as { code: string }).code, '390104');
  res = await post('/queries/v1/query-request', JSON.stringify({ sqlText: 'select 1' }));
  assert.equal(((await res.json()) as { code: string }).code, '390104');
  res = await fetch(`${emu.url}/emulator/chunks/00000000-0000-0000-0000-000000000000/0`);
  assert.equal(res.status, 403);
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  assert.deepEqual(await query(conn, 'select 3 as c'), [{ C: 3 }]);
});

test('the SQL fix-up folds identifiers, maps types and functions, and leaves literals alone', () => {
  const ctx = { warehouse: 'WH', role: 'R', account: 'ACC', user: 'U' };
  const f = (sql: string) => fixUpSql(sql, ctx).sql;
  assert.equal(f("create table t (a number(10,2), b variant, c timestamp_ntz(9), d string, e binary)"), 'CREATE TABLE T (A DECIMAL(10,2), B JSON, C TIMESTAMP, D VARCHAR, E BLOB)');
  assert.equal(f("select 'keep lower', \"Quoted\" from x -- comment stays\n"), "SELECT 'keep lower', \"Quoted\" FROM X -- comment stays\n");
  assert.equal(f('select current_warehouse(), current_role(), current_account(), iff(a, 1, 2), nvl(b, 0) from t where c = :1'), "SELECT 'WH', 'R', 'ACC', IF(A, 1, 2), COALESCE(B, 0) FROM T WHERE C = $1");
  assert.equal(f('select x::number, y::timestamp_ltz from t'), 'SELECT X::DECIMAL(38,0), Y::TIMESTAMPTZ FROM T');
  assert.match(f('select table_name from db2.information_schema.tables'), /FROM \(SELECT \* FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_CATALOG = 'DB2' /);
  assert.deepEqual([...fixUpSql('select "a""b" from t', ctx).quotedNames], ['a"b']);
});

test('session commands: CREATE DATABASE, USE, DESCRIBE, quoted column names', async () => {
  const conn = await connect({ username: 'alice', password: 'correct horse' });
  await query(conn, 'create database scratch');
  assert.deepEqual(await query(conn, 'select current_database() as db, current_schema() as sc'), [{ DB: 'SCRATCH', SC: 'PUBLIC' }]);
  await query(conn, 'create table t ("lower" int, upper int)');
  await query(conn, 'insert into t values (1, 2)');
  assert.deepEqual(await query(conn, 'select * from t'), [{ lower: 1, UPPER: 2 }]);
  assert.deepEqual((await query(conn, 'describe table t')).map((c) => c.name), ['lower', 'UPPER']);
  await query(conn, 'use database demo');
  assert.deepEqual(await query(conn, 'select count(*) from customers'), [{ 'COUNT(*)': 500 }]);
});
