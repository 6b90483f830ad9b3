// The Snowflake connector (the upstream side) through snowflake-sdk against the DuckDB-backed
// Snowflake emulator on loopback.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { SnowflakeConnector } from '../../src/connectors/snowflake/snowflake-connector.js';
import { viewQueryOf } from '../../src/connectors/snowflake/view-query.js';
import { isFileTransfer, leadingKeyword, leavesSessionClean } from '../../src/connectors/snowflake/statement-kind.js';
import { queryTag } from '../../src/connectors/snowflake/statement-parameters.js';
import { scrubberFor } from '../../src/connectors/snowflake/upstream-errors.js';
import { valueDecoder } from '../../src/connectors/snowflake/driver-values.js';
import { isStatementError } from '../../src/connectors/postgres/statement-error.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';
import { Secret } from '../../src/config/secret.js';
import type { SnowflakeConnectionConfig } from '../../src/config/schema.js';
import type { QueryRequest, StatementContext } from '../../src/connectors/connector.js';
import { startSnowflakeEmulator } from '../../src/dev/snowflake-emulator/index.js';

type Emulator = Awaited<ReturnType<typeof startSnowflakeEmulator>>;

const PASSWORD = `pw-${randomBytes(16).toString('hex')}`;
const OAUTH_TOKEN = `oauth-${randomBytes(16).toString('hex')}`;
const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const keyLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
/** Every credential any test hands the connector, right or wrong: none may ever be printed. */
const SECRETS = [PASSWORD, OAUTH_TOKEN, 'wrong-password-7f3a9c', 'wrong-oauth-token-52be1d', ...keyLines(keys.privateKey), ...keyLines(otherKeys.privateKey)];

/** Everything this process writes to stdout/stderr, the driver's log lines included. */
const printed: string[] = [];
/** Every error the connector threw in these tests, as inspect() shows it (cause chain included). */
const thrown: unknown[] = [];
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

const context: StatementContext = { subject: 'alice@example.com', sessionId: 'sess-1', requestId: 'req-1', frontend: 'http' };
const req = (sql: string, over: Partial<QueryRequest> = {}): QueryRequest => ({ sql, maxRows: 1000, applicationName: 'portcullis:test', ...over });

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
  thrown.push(e);
  assert.ok(e instanceof Error, String(e));
  return e;
}

describe('snowflake connector', { timeout: 60_000 }, () => {
  let emu: Emulator;
  let sf: SnowflakeConnector;
  const opened: SnowflakeConnector[] = [];
  const connector = (over: Partial<SnowflakeConnectionConfig> = {}, name = 'wh'): SnowflakeConnector => {
    const config: SnowflakeConnectionConfig = { type: 'snowflake', url: emu.url, user: 'portcullis', password: new Secret(PASSWORD, 'inline'), database: 'DEMO', schema: 'PUBLIC', connect_timeout: 10, ...over };
    const c = new SnowflakeConnector(name, config);
    opened.push(c);
    return c;
  };
  const historyOf = (pred: (sql: string) => boolean) => emu.history().filter((h) => pred(h.sqlText));

  before(async () => {
    emu = await startSnowflakeEmulator({ seed: 'demo', users: { PORTCULLIS: { password: PASSWORD, publicKeyPem: keys.publicKey, oauthToken: OAUTH_TOKEN } } });
    sf = connector();
  });

  after(async () => {
    for (const c of opened) await c.close();
    await emu?.close();
  });

  describe('login', () => {
    it('logs in with a password', async () => {
      const r = await sf.query(req('SELECT 1 AS ONE'));
      assert.deepEqual(r.rows, [['1']]);
      assert.equal(r.columns[0]!.name, 'ONE');
      assert.equal(r.command, 'SELECT 1');
      assert.ok(r.queryId);
    });

    it('logs in with a key pair (SNOWFLAKE_JWT) and with an OAuth token', async () => {
      const jwt = connector({ password: undefined, private_key: new Secret(keys.privateKey, 'inline') }, 'jwt');
      assert.deepEqual((await jwt.query(req('SELECT CURRENT_USER() AS U'))).rows, [['PORTCULLIS']]);
      const oauth = connector({ password: undefined, oauth_token: new Secret(OAUTH_TOKEN, 'inline') }, 'oauth');
      assert.deepEqual((await oauth.query(req('SELECT 2 AS TWO'))).rows, [['2']]);
    });

    it('refuses bad credentials with ERR_UPSTREAM_UNAVAILABLE naming the connection, never the secret', async () => {
      const cases: Partial<SnowflakeConnectionConfig>[] = [
        { password: new Secret('wrong-password-7f3a9c', 'inline') },
        { password: undefined, private_key: new Secret(otherKeys.privateKey, 'inline') },
        { password: undefined, oauth_token: new Secret('wrong-oauth-token-52be1d', 'inline') },
        { password: undefined, private_key: new Secret('-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----', 'inline') },
      ];
      for (const [i, over] of cases.entries()) {
        const c = connector(over, `bad${i}`);
        const e = await rejection(c.query(req('SELECT 1')));
        assert.ok(e instanceof PortcullisError, inspect(e));
        assert.equal(e.code, 'ERR_UPSTREAM_UNAVAILABLE');
        assert.match(e.message, new RegExp(`connection "bad${i}"`));
        assert.equal(e.cause, undefined, 'driver errors (which may hold the login request) are never attached');
        await rejection(c.health());
      }
    });

    it('fails fast when nothing listens, within connect_timeout', async () => {
      const c = connector({ url: 'http://127.0.0.1:9', connect_timeout: 3 }, 'down');
      const started = Date.now();
      const e = await rejection(c.query(req('SELECT 1')));
      assert.ok(e instanceof PortcullisError && e.code === 'ERR_UPSTREAM_UNAVAILABLE', inspect(e));
      assert.ok(Date.now() - started < 5000);
    });
  });

  describe('values', () => {
    it('returns every type in the canonical text form', async () => {
      const r = await sf.query(
        req(
          `SELECT 12.50::NUMBER(10,2) AS FIXED_V, 42 AS INT_V, -7 AS NEG_V, 1.5::FLOAT AS REAL_V, 'NaN'::FLOAT AS NAN_V, 'inf'::FLOAT AS INF_V, '-inf'::FLOAT AS NINF_V,
            'héllo ☃' AS TEXT_V, TRUE AS BOOL_V, FALSE AS BOOLF_V, '2024-02-29'::DATE AS DATE_V, '1969-12-31'::DATE AS OLD_DATE_V,
            '13:45:30.123456'::TIME AS TIME_V, '08:00:00'::TIME AS TIME0_V,
            '2024-02-29 13:45:30.5'::TIMESTAMP_NTZ AS NTZ_V, '1969-12-31 23:59:59.25'::TIMESTAMP_NTZ AS OLD_NTZ_V,
            '2024-02-29 13:45:30.5+02:00'::TIMESTAMP_LTZ AS LTZ_V,
            PARSE_JSON('{"a": [1, 2]}') AS VARIANT_V, {'a': 1} AS OBJECT_V, [1, 2, 3] AS ARRAY_V,
            '\\xAB\\x01'::BINARY AS BINARY_V, NULL::VARCHAR AS NULL_V`,
        ),
      );
      const got = Object.fromEntries(r.columns.map((c, i) => [c.name, r.rows[0]![i]]));
      assert.deepEqual(got, {
        FIXED_V: '12.50',
        INT_V: '42',
        NEG_V: '-7',
        REAL_V: '1.5',
        NAN_V: 'NaN',
        INF_V: 'inf',
        NINF_V: '-inf',
        TEXT_V: 'héllo ☃',
        BOOL_V: 'true',
        BOOLF_V: 'false',
        DATE_V: '2024-02-29',
        OLD_DATE_V: '1969-12-31',
        TIME_V: '13:45:30.123456',
        TIME0_V: '08:00:00',
        NTZ_V: '2024-02-29 13:45:30.5',
        OLD_NTZ_V: '1969-12-31 23:59:59.25',
        LTZ_V: '2024-02-29 11:45:30.5+00:00',
        VARIANT_V: got.VARIANT_V,
        OBJECT_V: '{"a":1}',
        ARRAY_V: '[1,2,3]',
        BINARY_V: 'ab01',
        NULL_V: null,
      });
      assert.deepEqual(JSON.parse(got.VARIANT_V!), { a: [1, 2] });
      const types = Object.fromEntries(r.columns.map((c) => [c.name, c.snowflake?.type]));
      assert.equal(types.FIXED_V, 'fixed');
      assert.equal(types.REAL_V, 'real');
      assert.equal(types.LTZ_V, 'timestamp_ltz');
      assert.equal(types.VARIANT_V, 'variant');
      const fixed = r.columns[0]!;
      assert.deepEqual([fixed.typeOid, fixed.tableOid, fixed.attnum], [0, 0, 0]);
      assert.equal(fixed.snowflake?.precision, 10);
      assert.equal(fixed.snowflake?.scale, 2);
      assert.equal(typeof fixed.snowflake?.nullable, 'boolean');
    });

    it('decodes TIMESTAMP_TZ (local time with its offset) from the driver value', () => {
      const decode = valueDecoder({ name: 'T', type: 'timestamp_tz', nullable: true, scale: 9 });
      // 1970-01-01 00:00:01.5 UTC at +01:00, as snowflake-sdk hands it over.
      const value = { getEpochSeconds: () => 1, getNanoSeconds: () => 500_000_000, getTimezone: () => 60 };
      assert.equal(decode(value), '1970-01-01 01:00:01.5+01:00');
      const before = { getEpochSeconds: () => -1, getNanoSeconds: () => 0, getTimezone: () => -330 };
      assert.equal(decode(before), '1969-12-31 18:29:59-05:30');
      assert.equal(decode(null), null);
    });

    it('binds positional parameters as text', async () => {
      const r = await sf.query(req('SELECT ?::NUMBER + 1 AS N, ? AS S, ? AS Z', { params: ['41', "it's", null] }));
      assert.deepEqual(r.rows, [['42', "it's", null]]);
      const r2 = await sf.query(req('SELECT :2 AS B, :1 AS A', { params: ['a', 'b'] }));
      assert.deepEqual(r2.rows, [['b', 'a']]);
      const h = historyOf((s) => s.startsWith('SELECT ?::NUMBER')).at(-1)!;
      assert.deepEqual(h.bindings?.['1'], { type: 'TEXT', value: '41' });
    });

    it('reports a failed statement with its SQLSTATE and Snowflake code', async () => {
      const e = await rejection(sf.query(req('SELECT * FROM NO_SUCH_TABLE')));
      assert.ok(isStatementError(e), inspect(e));
      assert.equal(e.sqlstate, '42S02');
      assert.equal((e as { snowflakeCode?: string }).snowflakeCode, '002003');
      assert.match(e.message, /NO_SUCH_TABLE/);
      const syntax = await rejection(sf.query(req('SELEC 1')));
      assert.ok(isStatementError(syntax));
      assert.equal(syntax.sqlstate, '42000');
      // The session is still good for the next statement.
      assert.deepEqual((await sf.query(req('SELECT 3 AS X'))).rows, [['3']]);
    });

    it('refuses PUT and GET, which would touch files on the gateway host', async () => {
      const e = await rejection(sf.query(req("PUT file:///etc/passwd @~/stage")));
      assert.ok(isStatementError(e));
      assert.equal(e.sqlstate, '0A000');
      assert.equal(historyOf((s) => s.startsWith('PUT')).length, 0);
    });
  });

  describe('statement parameters', () => {
    it('tags every statement with its context, caps it to one statement and applies the timeout', async () => {
      await sf.query(req('SELECT 10 AS TAGGED', { context, timeoutMs: 2500 }));
      const h = historyOf((s) => s === 'SELECT 10 AS TAGGED').at(-1)!;
      assert.deepEqual(JSON.parse(h.queryTag!), { portcullis: { subject: 'alice@example.com', session: 'sess-1', request: 'req-1', frontend: 'http', connection: 'wh' } });
      assert.equal(h.parameters.MULTI_STATEMENT_COUNT, 1);
      assert.equal(h.parameters.STATEMENT_TIMEOUT_IN_SECONDS, 3);
    });

    it('keeps one caller\'s session settings and tag away from the next statement', async () => {
      await sf.query(req("ALTER SESSION SET QUERY_TAG = 'mine'", { context: { ...context, requestId: 'req-alter' } }));
      const alter = historyOf((s) => s.startsWith('ALTER SESSION SET QUERY_TAG')).at(-1)!;
      await sf.query(req('SELECT 11 AS NEXT', { context: { ...context, requestId: 'req-next' } }));
      const next = historyOf((s) => s === 'SELECT 11 AS NEXT').at(-1)!;
      assert.equal(JSON.parse(next.queryTag!).portcullis.request, 'req-next');
      assert.notEqual(next.sessionId, alter.sessionId, 'a session that ran ALTER SESSION is not reused');
    });
  });

  describe('results', () => {
    it('stops at maxRows and says so', async () => {
      const sql = 'SELECT i AS I FROM range(10) t(i) ORDER BY i';
      const three = await sf.query(req(sql, { maxRows: 3 }));
      assert.deepEqual(three.rows, [['0'], ['1'], ['2']]);
      assert.equal(three.truncated, true);
      assert.equal(three.command, 'SELECT 3');
      const all = await sf.query(req(sql, { maxRows: 10 }));
      assert.equal(all.rows.length, 10);
      assert.equal(all.truncated, false);
      const none = await sf.query(req(sql, { maxRows: 0 }));
      assert.deepEqual(none.rows, []);
      assert.equal(none.truncated, true);
    });

    it('streams 100,000 rows to a slow reader without holding them', async () => {
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const heap = (): number => {
        gc();
        return process.memoryUsage().heapUsed;
      };
      // 100,000 rows of ~1 KB: held whole they would be over 100 MB of strings.
      const rs = await sf.stream(req("SELECT i AS I, repeat('x', 1000) AS PAD FROM range(100000) t(i) ORDER BY i", { maxRows: 200_000 }));
      const base = heap();
      let rows = 0;
      let batches = 0;
      let peak = 0;
      let last: string | null = null;
      for await (const batch of rs) {
        assert.ok(batch.length <= 1000, `batch of ${batch.length}`);
        rows += batch.length;
        last = batch.at(-1)![0]!;
        if (++batches % 10 === 0) {
          peak = Math.max(peak, heap() - base);
          await sleep(5);
        }
      }
      assert.equal(rows, 100_000);
      assert.equal(last, '99999');
      assert.equal(rs.outcome().truncated, false);
      assert.equal(rs.outcome().command, 'SELECT 100000');
      // Measured: ~15 MB streaming, ~115 MB when every batch is kept.
      assert.ok(peak < 40 * 1024 * 1024, `heap grew by ${Math.round(peak / 1024 / 1024)} MB while streaming`);
    });

    it('cancels a running statement when the caller aborts', async () => {
      const ac = new AbortController();
      const started = Date.now();
      setTimeout(() => ac.abort(), 300);
      const e = await rejection(sf.query(req('SELECT SUM(HASH(i)) AS S FROM range(50000000000) t(i)', { signal: ac.signal, context: { ...context, requestId: 'req-cancel' } })));
      assert.ok(Date.now() - started < 10_000, 'cancelled well before the statement could finish');
      assert.ok(isStatementError(e) || e.name === 'AbortError', inspect(e));
      if (isStatementError(e)) assert.equal(e.sqlstate, '57014');
      const h = historyOf((s) => s.includes('range(50000000000)')).at(-1)!;
      assert.notEqual(h.status, 'SUCCESS');
    });

    it('ends a statement past its timeout with 57014', async () => {
      const e = await rejection(sf.query(req('SELECT SUM(HASH(i)) AS S FROM range(50000000000) t(i)', { timeoutMs: 1000 })));
      assert.ok(isStatementError(e), inspect(e));
      assert.equal(e.sqlstate, '57014');
      assert.equal((e as { snowflakeCode?: string }).snowflakeCode, '000630');
    });

    it('labels writes with the rows they changed', async () => {
      await sf.query(req('CREATE TABLE DML_T (ID INT, NAME VARCHAR)'));
      const ins = await sf.query(req("INSERT INTO DML_T SELECT i, 'n' FROM range(3) t(i)"));
      assert.equal(ins.command, 'INSERT 0 3');
      assert.equal(ins.rowCount, 3);
      const upd = await sf.query(req("UPDATE DML_T SET NAME = 'm' WHERE ID > 0"));
      assert.equal(upd.command, 'UPDATE 2');
      const del = await sf.query(req('DELETE FROM DML_T'));
      assert.equal(del.command, 'DELETE 3');
    });

    it('stops reading when the stream is closed early, and the session serves again', async () => {
      const rs = await sf.stream(req('SELECT i AS I FROM range(50000) t(i)', { maxRows: 100_000 }));
      for await (const batch of rs) {
        assert.ok(batch.length > 0);
        break;
      }
      await rs.close();
      assert.throws(() => rs.outcome());
      assert.deepEqual((await sf.query(req('SELECT 5 AS F'))).rows, [['5']]);
    });
  });

  describe('catalog and health', () => {
    it('reads tables, columns and views lower-cased, with view queries', async () => {
      await sf.query(req('CREATE TABLE CAT_T (ID INT, SSN VARCHAR)'));
      await sf.query(req('CREATE VIEW CAT_V AS SELECT ID, SSN AS TAXID FROM CAT_T'));
      sf.invalidateCatalog();
      const cat = await sf.catalog();
      assert.equal(cat.complete, true, cat.reason);
      assert.deepEqual(cat.searchPath, ['public']);
      assert.deepEqual(cat.relation('public', 'cat_t')?.columns, ['id', 'ssn']);
      const view = cat.relation(undefined, 'cat_v');
      assert.deepEqual(view?.columns, ['id', 'taxid']);
      assert.match(view?.viewQuery ?? '', /^SELECT/i);
      assert.ok(cat.relation(undefined, 'customers'), 'the demo tables are there');
      // INFORMATION_SCHEMA is described by the gateway itself (catalog queries are metadata, not unknown data).
      assert.ok(cat.relation('information_schema', 'tables')?.columns.includes('table_name'));
      const tag = historyOf((s) => s.includes('information_schema.tables')).at(-1)!;
      assert.deepEqual(JSON.parse(tag.queryTag!), { portcullis: { connection: 'wh' } });
    });

    it('answers health with the round-trip time', async () => {
      const ms = await sf.health();
      assert.ok(ms >= 0 && ms < 10_000);
    });
  });

  describe('reconnect', () => {
    it('logs in again when Snowflake no longer knows the pooled session', async () => {
      const c = connector({}, 'again');
      assert.deepEqual((await c.query(req('SELECT 1 AS A'))).rows, [['1']]);
      // A restarted server has forgotten every session: the pooled one now gets 390104.
      const port = emu.port;
      await emu.close();
      emu = await startSnowflakeEmulator({ port, seed: 'empty', users: { PORTCULLIS: { password: PASSWORD } } });
      assert.deepEqual((await c.query(req('SELECT 2 AS B', { context }))).rows, [['2']]);
      const logins = emu.history().filter((h) => h.sqlText === 'SELECT 2 AS B');
      assert.equal(logins.length, 1, 'the statement ran once, on the new session');
    });
  });

  describe('pieces', () => {
    it('finds the query of a view definition', () => {
      assert.equal(viewQueryOf("create or replace secure view V (A COMMENT 'as is', \"AS\") comment = 'x as y' as select a, b from t"), 'select a, b from t');
      assert.equal(viewQueryOf('CREATE VIEW v AS\n  WITH x AS (SELECT 1) SELECT * FROM x'), 'WITH x AS (SELECT 1) SELECT * FROM x');
      assert.equal(viewQueryOf('SELECT 1'), 'SELECT 1');
      assert.equal(viewQueryOf('create view v'), undefined);
    });

    it('reads statement kinds the way the driver and the session pool need them', () => {
      assert.equal(leadingKeyword('/* hi */ -- c\n (select 1)'), 'SELECT');
      assert.equal(isFileTransfer('  put file:///x @s'), true);
      assert.equal(isFileTransfer('/* c */ put file:///x @s'), false, 'the driver only looks at the first three characters');
      assert.equal(leavesSessionClean('SELECT'), true);
      for (const k of ['USE', 'ALTER', 'SET', 'BEGIN', 'CALL', 'CREATE', '']) assert.equal(leavesSessionClean(k), false, k);
    });

    it('keeps the QUERY_TAG within Snowflake\'s 2000 characters', () => {
      const tag = queryTag('wh', { ...context, subject: 'x'.repeat(5000) });
      assert.ok(tag.length <= 2000);
      assert.equal(JSON.parse(tag).portcullis.connection, 'wh');
    });

    it('scrubs credentials out of driver text, whole or by line', () => {
      const scrub = scrubberFor([PASSWORD, keys.privateKey]);
      const line = keys.privateKey.split('\n')[3]!;
      assert.equal(scrub(`bad ${PASSWORD}!`), 'bad [redacted]!');
      assert.ok(!scrub(`key line ${line}`).includes(line));
    });
  });

  after(() => {
    const everything = [...printed, ...thrown.map((e) => inspect(e, { depth: 8, showHidden: true }))].join('\n');
    for (const s of SECRETS) assert.ok(!everything.includes(s), 'a credential appeared in output or in an error');
    assert.ok(thrown.length >= 8);
  });
});
