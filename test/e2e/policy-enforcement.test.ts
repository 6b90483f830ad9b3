/**
 * Policy enforcement in the PostgreSQL frontend, end to end: real clients (psql, node-postgres,
 * postgres.js) → gateway → real PostgreSQL, with a policy of user rules over the read-only
 * preset. What a refusal must guarantee (issue 3, "Enforcement in the PostgreSQL frontend"):
 * the statement never reaches the database, the client gets 42501 naming the rule and the
 * reason, the session stays usable, a transaction around it is aborted, a message holding it
 * runs none of its statements, and the extended protocol skips to Sync as PostgreSQL does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { stringify } from 'yaml';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { run } from '../helpers/run.js';
import { authenticated, errorOf, type RawMessage } from '../helpers/raw-client.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { Fe } from '../../src/codecs/pgwire/message-codes.js';

const EXPORT_REASON = 'Exports need a ticket; ask the data team.';

const POLICY = {
  preset: 'read-only',
  rules: [
    { name: 'no-exports', what: { risks: ['export'] }, action: 'deny', reason: EXPORT_REASON },
    { name: 'hold-deletes', who: { groups: ['writers'] }, what: { tags: ['DELETE'] }, action: 'review', reason: 'deletes need a second pair of eyes' },
    // No `risks`: a write carrying any risk flag (DROP, TRUNCATE, DELETE without WHERE…) is not covered.
    { name: 'writers-write', who: { groups: ['writers'] }, what: { kinds: ['read', 'write', 'tcl', 'session'] }, action: 'allow' },
    { name: 'analysts-capped', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow', max_rows: 5 },
  ],
  limits: {
    subjects: {
      'key:hasty': { statements_per_minute: 3 },
      'key:prepared': { statements_per_minute: 3 },
      'key:single': { sessions_per_identity: 1 },
    },
  },
};

const KEYS = { writer: ['writers'], reader: ['readers'], analyst: ['analysts'], hasty: ['readers'], prepared: ['readers'], single: ['readers'] };

let db: PgCluster;
let gw: TestGateway;
let direct: pg.Client;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance int NOT NULL);
                 INSERT INTO accounts SELECT g, 'owner ' || g, g * 10 FROM generate_series(1, 20) g;
                 CREATE TABLE ledger (id serial PRIMARY KEY, note text NOT NULL);`);
  direct = new pg.Client({ connectionString: db.url() });
  await direct.connect();
  gw = await startTestGateway(db, { policy: POLICY, keys: KEYS });
});

after(async () => {
  await direct?.end();
  await gw?.stop();
  await db?.stop();
});

// ---------------------------------------------------------------------------------------------

async function count(table: string, where = 'true'): Promise<number> {
  return (await direct.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)).rows[0].n;
}

async function tableExists(name: string): Promise<boolean> {
  return (await direct.query('SELECT to_regclass($1) IS NOT NULL AS x', [name])).rows[0].x;
}

/**
 * psql through the gateway as the given key; VERBOSITY verbose puts the SQLSTATE in the message.
 * Not quiet: command tags (ROLLBACK) are part of what the tests read.
 */
function psql(key: keyof typeof KEYS, args: string[], input?: string) {
  return run('psql', ['-X', '-v', 'VERBOSITY=verbose', '-d', gw.url(), ...args], { env: gw.env(key), input, timeoutMs: 30000 });
}

async function client(key: keyof typeof KEYS): Promise<pg.Client> {
  const c = new pg.Client(gw.pgConfig(key));
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

async function withClient<T>(key: keyof typeof KEYS, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await client(key);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The error a promise rejects with, as node-postgres reports it. */
async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  assert.fail('expected the statement to be refused, it succeeded');
}

/** Extended-protocol messages for the raw client, text parameters only. */
const wire = {
  parse: (name: string, sql: string) => new MessageWriter().begin(Fe.Parse).cstring(name).cstring(sql).int16(0).end().take(),
  bind: (portal: string, stmt: string, params: string[] = []) => {
    const w = new MessageWriter().begin(Fe.Bind).cstring(portal).cstring(stmt).int16(0).int16(params.length);
    for (const p of params) w.int32(Buffer.byteLength(p)).bytes(Buffer.from(p));
    return w.int16(0).end().take();
  },
  execute: (portal: string, maxRows = 0) => new MessageWriter().begin(Fe.Execute).cstring(portal).int32(maxRows).end().take(),
  sync: () => new MessageWriter().begin(Fe.Sync).end().take(),
};

const codes = (msgs: RawMessage[]): string => msgs.map((m) => m.code).join('');

const READ_ONLY_RULE = /denied by rule "preset:read-only\/refuse": this connection is read-only for you/;

// ---------------------------------------------------------------------------------------------

describe('a denied statement', () => {
  test('never reaches the database; psql shows 42501 with the rule and reason; the session goes on', async () => {
    const r = await psql('reader', ['-v', 'ON_ERROR_STOP=0', '-A', '-t', '-c', 'DROP TABLE accounts', '-c', 'SELECT count(*) FROM accounts']);
    assert.match(r.stderr, /^ERROR: {2}42501: permission denied by Portcullis policy: /m);
    assert.match(r.stderr, READ_ONLY_RULE);
    assert.match(r.stderr, /\[ERR_POLICY_DENIED\]/);
    // The next statement in the same session ran.
    assert.equal(r.stdout.trim(), '20');
    assert.equal(await tableExists('accounts'), true);
    assert.equal(await count('accounts'), 20);
  });

  test('a deny rule with a custom reason: the client reads that reason and the rule name', async () => {
    const r = await psql('writer', ['-c', 'SELECT * INTO stolen FROM accounts']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ERROR: {2}42501: .*denied by rule "no-exports": Exports need a ticket; ask the data team\./);
    assert.equal(await tableExists('stolen'), false);
    await withClient('writer', async (c) => {
      const e = await failure(c.query('COPY accounts TO STDOUT'));
      assert.equal(e.code, '42501');
      assert.ok(e.message.includes(`denied by rule "no-exports": ${EXPORT_REASON}`), e.message);
      assert.equal((await c.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n, 20);
    });
  });

  test('a review decision is refused with "requires approval" until approvals exist', async () => {
    await withClient('writer', async (c) => {
      const e = await failure(c.query('DELETE FROM accounts WHERE id = 1'));
      assert.equal(e.code, '42501');
      assert.match(e.message, /requires approval, .*held by rule "hold-deletes": deletes need a second pair of eyes \[ERR_APPROVAL_REQUIRED\]/);
    });
    assert.equal(await count('accounts', 'id = 1'), 1);
  });
});

describe('transactions', () => {
  test('psql: BEGIN; INSERT; a denied DROP; COMMIT → rolled back, the INSERT is not there', async () => {
    const r = await psql('writer', ['-v', 'ON_ERROR_STOP=0', '-A', '-t'], "BEGIN;\nINSERT INTO ledger (note) VALUES ('psql-tx');\nDROP TABLE accounts;\nCOMMIT;\n");
    assert.match(r.stderr, /ERROR: {2}42501: permission denied by Portcullis policy: .*preset:read-only\/refuse/);
    assert.match(r.stdout, /^ROLLBACK$/m);
    assert.equal(await count('ledger', "note = 'psql-tx'"), 0);
    assert.equal(await tableExists('accounts'), true);
  });

  test('node-postgres: the statements after the refusal fail as in an aborted transaction, COMMIT reports ROLLBACK', async () => {
    await withClient('writer', async (c) => {
      await c.query('BEGIN');
      await c.query("INSERT INTO ledger (note) VALUES ('pg-tx')");
      const e = await failure(c.query('TRUNCATE accounts'));
      assert.equal(e.code, '42501');
      const aborted = await failure(c.query('SELECT 1'));
      assert.equal(aborted.code, '25P02', aborted.message);
      const end = await c.query('COMMIT');
      assert.equal(end.command, 'ROLLBACK');
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1);
    });
    assert.equal(await count('ledger', "note = 'pg-tx'"), 0);
    assert.equal(await count('accounts'), 20);
  });

  test('a message with any denied statement runs none of it', async () => {
    await withClient('writer', async (c) => {
      // The writers rule allows the INSERT on its own…
      await c.query("INSERT INTO ledger (note) VALUES ('alone')");
      // …but not next to a DROP.
      const e = await failure(c.query("INSERT INTO ledger (note) VALUES ('multi'); DROP TABLE ledger"));
      assert.equal(e.code, '42501');
      assert.match(e.message, /preset:read-only\/refuse/);
      // The DROP first and the INSERT after it: still nothing runs.
      const e2 = await failure(c.query("SELECT 1; DROP TABLE ledger; INSERT INTO ledger (note) VALUES ('multi')"));
      assert.equal(e2.code, '42501');
    });
    const r = await psql('writer', ['-c', "INSERT INTO ledger (note) VALUES ('multi-psql'); DROP TABLE ledger"]);
    assert.match(r.stderr, /ERROR: {2}42501: /);
    assert.equal(await count('ledger', "note = 'alone'"), 1);
    assert.equal(await count('ledger', "note LIKE 'multi%'"), 0);
    assert.equal(await tableExists('ledger'), true);
  });
});

describe('extended protocol', () => {
  test('node-postgres: a denied parameterized query gets 42501, the connection keeps working', async () => {
    await withClient('reader', async (c) => {
      const e = await failure(c.query('DELETE FROM accounts WHERE id = $1', [2]));
      assert.equal(e.code, '42501');
      assert.match(e.message, READ_ONLY_RULE);
      assert.equal((await c.query('SELECT $1::int * 2 AS v', [21])).rows[0].v, 42);
      const e2 = await failure(c.query('UPDATE accounts SET balance = $1 WHERE id = $2', [0, 3]));
      assert.equal(e2.code, '42501');
      assert.equal((await c.query('SELECT balance FROM accounts WHERE id = $1', [3])).rows[0].balance, 30);
    });
    assert.equal(await count('accounts', 'id = 2'), 1);
  });

  test('postgres.js: pipelined queries, the denied one in the middle rejects alone', async () => {
    const sql = postgres(gw.url(), { password: gw.keys.reader, max: 1, prepare: true, onnotice: () => {} });
    try {
      const results = await Promise.allSettled([
        sql`SELECT ${1}::int AS n`,
        sql`SELECT owner FROM accounts WHERE id = ${4}`,
        sql`DELETE FROM accounts WHERE id = ${4}`,
        sql`SELECT ${3}::int AS n`,
        sql`SELECT count(*)::int AS n FROM accounts`,
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
      );
      const denied = (results[2] as PromiseRejectedResult).reason as { code?: string; message: string };
      assert.equal(denied.code, '42501');
      assert.match(denied.message, /\[ERR_POLICY_DENIED\]/);
      const first = (i: number): postgres.Row => (results[i] as PromiseFulfilledResult<postgres.Row[]>).value[0]!;
      assert.equal(first(1).owner, 'owner 4');
      assert.equal(first(3).n, 3);
      assert.equal(first(4).n, 20);
    } finally {
      await sql.end();
    }
    assert.equal(await count('accounts', 'id = 4'), 1);
  });

  test('a denied named prepared statement stays refused when executed again', async () => {
    await withClient('reader', async (c) => {
      const q = { name: 'wipe-one', text: 'DELETE FROM accounts WHERE id = $1', values: [5] };
      const e = await failure(c.query(q));
      assert.equal(e.code, '42501');
      const again = await failure(c.query(q));
      assert.equal(again.code, '42501', again.message);
      // A different, allowed statement under another name works on the same connection.
      assert.equal((await c.query({ name: 'read-one', text: 'SELECT owner FROM accounts WHERE id = $1', values: [5] })).rows[0].owner, 'owner 5');
    });
    assert.equal(await count('accounts', 'id = 5'), 1);
  });
});

describe('extended protocol on the wire', () => {
  test('a denied Parse in the middle of a batch: error, the rest skipped until Sync, then the session goes on', async () => {
    const c = await authenticated(gw.port, gw.keys.reader!);
    try {
      c.write(
        Buffer.concat([
          wire.parse('', 'SELECT 1'),
          wire.bind('', ''),
          wire.execute(''),
          wire.parse('', 'DELETE FROM accounts WHERE id = 8'),
          wire.bind('', ''),
          wire.execute(''),
          wire.parse('', 'SELECT 2'),
          wire.bind('', ''),
          wire.execute(''),
          wire.sync(),
        ]),
      );
      const msgs = await c.untilReady();
      // ParseComplete, BindComplete, DataRow, CommandComplete for SELECT 1; then the error; nothing for SELECT 2.
      assert.equal(codes(msgs), '12DCEZ');
      const e = errorOf(msgs)!;
      assert.equal(e.code, '42501');
      assert.match(e.message, /ERR_POLICY_DENIED/);
      c.write(Buffer.concat([wire.parse('', 'SELECT $1::int'), wire.bind('', '', ['9']), wire.execute(''), wire.sync()]));
      const next = await c.untilReady();
      assert.equal(codes(next), '12DCZ');
    } finally {
      c.close();
    }
    assert.equal(await count('accounts', 'id = 8'), 1);
  });
});

describe('SQL-level PREPARE / EXECUTE', () => {
  test('PREPARE of a DELETE and its EXECUTE are both refused under read-only; nothing is deleted', async () => {
    await withClient('reader', async (c) => {
      const p = await failure(c.query('PREPARE p AS DELETE FROM accounts'));
      assert.equal(p.code, '42501');
      const x = await failure(c.query('EXECUTE p'));
      assert.equal(x.code, '42501');
    });
    const r = await psql('reader', ['-v', 'ON_ERROR_STOP=0'], 'PREPARE p AS DELETE FROM accounts WHERE id = 6;\nEXECUTE p;\nSELECT 1;\n');
    assert.equal((r.stderr.match(/ERROR: {2}42501: /g) ?? []).length, 2, r.stderr);
    assert.equal(await count('accounts'), 20);
  });
});

describe('groups', () => {
  test('a key in writers may write, a key in readers may not', async () => {
    await withClient('writer', (c) => c.query("INSERT INTO ledger (note) VALUES ('by writer')"));
    const e = await withClient('reader', (c) => failure(c.query("INSERT INTO ledger (note) VALUES ('by reader')")));
    assert.equal(e.code, '42501');
    assert.match(e.message, READ_ONLY_RULE);
    assert.equal(await count('ledger', "note = 'by writer'"), 1);
    assert.equal(await count('ledger', "note = 'by reader'"), 0);
    // Writers may write, but a write with a risk flag is not covered by their rule.
    const d = await withClient('writer', (c) => failure(c.query('UPDATE accounts SET balance = 0')));
    assert.equal(d.code, '42501');
    assert.equal(await count('accounts', 'balance = 0'), 0);
  });
});

describe('limits', () => {
  test('over the statements-per-minute limit: 53400 saying how long to wait; others are not affected', async () => {
    await withClient('hasty', async (c) => {
      for (let i = 0; i < 3; i++) await c.query('SELECT 1');
      const e = await failure(c.query('SELECT 1'));
      assert.equal(e.code, '53400');
      assert.match(e.message, /key:hasty is over its limit of 3 statements per minute; wait \d+ ms/);
      assert.match(e.message, /\[ERR_RATE_LIMITED\]/);
    });
    await withClient('reader', async (c) => {
      for (let i = 0; i < 5; i++) await c.query('SELECT 1');
    });
  });

  test(
    'executing a named prepared statement counts against the rate like any other statement',

    async () => {
    await withClient('prepared', async (c) => {
      const q = { name: 'one', text: 'SELECT $1::int AS v', values: [1] };
      for (let i = 0; i < 3; i++) assert.equal((await c.query(q)).rows[0].v, 1);
      const e = await failure(c.query(q));
      assert.equal(e.code, '53400', e.message);
    });
  },
  );

  test('over the session cap: 53300, and a session frees its slot when it ends', async () => {
    const first = await client('single');
    try {
      const second = new pg.Client(gw.pgConfig('single'));
      second.on('error', () => undefined);
      const e = await failure(second.connect());
      assert.equal(e.code, '53300');
      assert.match(e.message, /\[ERR_SESSION_LIMIT\]/);
      await second.end().catch(() => undefined);
      assert.equal((await first.query('SELECT 1 AS one')).rows[0].one, 1);
    } finally {
      await first.end();
    }
    // The slot is released asynchronously once the gateway sees the close.
    for (let attempt = 0; ; attempt++) {
      try {
        await withClient('single', (c) => c.query('SELECT 1'));
        break;
      } catch (e) {
        if (attempt >= 20) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});

describe('portcullis policy explain', () => {
  test('exit code 0 allow, 1 deny, 2 review', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc-policy-'));
    const file = join(dir, 'portcullis.yaml');
    writeFileSync(file, stringify({ listen: { postgres: { port: 0 } }, connections: { main: { type: 'embedded' } }, policy: POLICY }));
    const explain = (as: string, sql: string) =>
      run(process.execPath, ['bin/portcullis.js', 'policy', 'explain', '--config', file, '--as', as, '--connection', 'main', sql], { timeoutMs: 30000 });
    const [allow, deny, review, exported] = await Promise.all([
      explain('key:writer:writers', "INSERT INTO ledger (note) VALUES ('x')"),
      explain('key:reader:readers', 'DROP TABLE accounts'),
      explain('key:writer:writers', 'DELETE FROM accounts WHERE id = 1'),
      explain('key:writer:writers', 'COPY accounts TO STDOUT'),
    ]);
    assert.equal(allow.code, 0, allow.stdout + allow.stderr);
    assert.match(allow.stdout, /writers-write/);
    assert.equal(deny.code, 1, deny.stdout + deny.stderr);
    assert.match(deny.stdout, /preset:read-only\/refuse/);
    assert.equal(review.code, 2, review.stdout + review.stderr);
    assert.match(review.stdout, /hold-deletes/);
    assert.equal(exported.code, 1, exported.stdout + exported.stderr);
    assert.ok(exported.stdout.includes(EXPORT_REASON), exported.stdout);
  });
});

describe('max_rows', () => {
  test('simple query: the result stops after N rows, a NOTICE says so, the tag reports N', async () => {
    await withClient('analyst', async (c) => {
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(n.message ?? ''));
      const r = await c.query('SELECT id FROM accounts ORDER BY id');
      assert.deepEqual(
        r.rows.map((x) => x.id),
        [1, 2, 3, 4, 5],
      );
      assert.equal(r.rowCount, 5);
      assert.equal(r.command, 'SELECT');
      assert.ok(notices.some((m) => /truncat/i.test(m)), `notices: ${JSON.stringify(notices)}`);
      // The session is in step afterwards: the next statement gets its own full answer.
      assert.equal((await c.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n, 20);
      // A result under the limit is left alone.
      assert.equal((await c.query('SELECT id FROM accounts WHERE id <= 3')).rowCount, 3);
    });
  });

  test('extended protocol: a parameterized query and a named statement are cut at N rows too', async () => {
    await withClient('analyst', async (c) => {
      const r = await c.query('SELECT id FROM accounts WHERE id > $1 ORDER BY id', [0]);
      assert.equal(r.rows.length, 5);
      assert.equal(r.rowCount, 5);
      for (let i = 0; i < 2; i++) {
        const n = await c.query({ name: 'all-accounts', text: 'SELECT id FROM accounts WHERE balance >= $1', values: [0] });
        assert.equal(n.rows.length, 5);
      }
      assert.equal((await c.query('SELECT $1::int AS v', [7])).rows[0].v, 7);
    });
  });

  test('psql: prints N rows, and the NOTICE on stderr', async () => {
    const r = await psql('analyst', ['-A', '-t', '-c', 'SELECT id FROM accounts ORDER BY id']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1\n2\n3\n4\n5');
    assert.match(r.stderr, /NOTICE: .*truncat/i);
  });

  test('several statements in one message: each result is cut on its own', async () => {
    await withClient('analyst', async (c) => {
      c.on('notice', () => undefined);
      const results = (await c.query('SELECT id FROM accounts ORDER BY id; SELECT id FROM accounts WHERE id <= 2; SELECT id FROM accounts ORDER BY id DESC')) as unknown as pg.QueryResult[];
      assert.deepEqual(
        results.map((r) => r.rows.map((x) => x.id)),
        [
          [1, 2, 3, 4, 5],
          [1, 2],
          [20, 19, 18, 17, 16],
        ],
      );
    });
  });

  test('postgres.js: pipelined limited queries each get their own N rows', async () => {
    const sql = postgres(gw.url(), { password: gw.keys.analyst, max: 1, prepare: true, onnotice: () => {} });
    try {
      const [a, b, c, d] = await Promise.all([
        sql`SELECT id FROM accounts WHERE id > ${0} ORDER BY id`,
        sql`SELECT ${42}::int AS v`,
        sql`SELECT id FROM accounts WHERE id > ${10} ORDER BY id`,
        sql`SELECT count(*)::int AS n FROM accounts`,
      ]);
      assert.deepEqual(
        a.map((r) => r.id),
        [1, 2, 3, 4, 5],
      );
      assert.equal(b[0]!.v, 42);
      assert.deepEqual(
        c.map((r) => r.id),
        [11, 12, 13, 14, 15],
      );
      assert.equal(d[0]!.n, 20);
    } finally {
      await sql.end();
    }
  });

  test('a portal fetched in chunks (Execute with a row count) still yields at most N rows', async () => {
    const c = await authenticated(gw.port, gw.keys.analyst!);
    try {
      c.write(
        Buffer.concat([
          wire.parse('', 'SELECT id FROM accounts ORDER BY id'),
          wire.bind('', ''),
          wire.execute('', 3),
          wire.execute('', 3),
          wire.execute('', 3),
          wire.sync(),
        ]),
      );
      const msgs = await c.untilReady();
      assert.ok(!msgs.some((m) => m.code === 'E'), errorOf(msgs)?.message);
      assert.equal(msgs.filter((m) => m.code === 'D').length, 5, codes(msgs));
    } finally {
      c.close();
    }
  });

  test(
    'a named portal fetched in chunks across Syncs inside a transaction (JDBC fetchSize) still yields at most N rows',

    async () => {
    const c = await authenticated(gw.port, gw.keys.analyst!);
    try {
      c.write(Buffer.concat([wire.parse('', 'BEGIN'), wire.bind('', ''), wire.execute(''), wire.sync()]));
      assert.equal(errorOf(await c.untilReady()), undefined);
      c.write(Buffer.concat([wire.parse('all', 'SELECT id FROM accounts ORDER BY id'), wire.bind('cur', 'all'), wire.execute('cur', 3), wire.sync()]));
      const first = await c.untilReady();
      c.write(Buffer.concat([wire.execute('cur', 3), wire.sync()]));
      const second = await c.untilReady();
      c.write(Buffer.concat([wire.execute('cur', 0), wire.sync()]));
      const third = await c.untilReady();
      const all = [...first, ...second, ...third];
      assert.ok(!all.some((m) => m.code === 'E'), errorOf(all)?.message);
      assert.equal(all.filter((m) => m.code === 'D').length, 5, `${codes(first)} ${codes(second)} ${codes(third)}`);
    } finally {
      c.close();
    }
  },
  );

  test('the limit binds only the rule that sets it: a writer reads everything', async () => {
    await withClient('writer', async (c) => {
      assert.equal((await c.query('SELECT id FROM accounts')).rowCount, 20);
    });
  });
});
