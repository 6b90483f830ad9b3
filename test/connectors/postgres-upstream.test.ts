// The upstream side of the PostgreSQL connector against real PostgreSQL servers.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { freePort } from '../helpers/net.js';
import { openUpstream, type UpstreamTarget, type OpenUpstreamOptions } from '../../src/connectors/postgres/handshake.js';
import { PostgresConnector } from '../../src/connectors/postgres/postgres-connector.js';
import { MessageFramer } from '../../src/connectors/postgres/framer.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { BodyReader } from '../../src/codecs/pgwire/body-reader.js';
import { Be, Fe } from '../../src/codecs/pgwire/message-codes.js';
import { Secret } from '../../src/config/secret.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';
import type { WireUpstream } from '../../src/connectors/connector.js';

const baseOpts: OpenUpstreamOptions = { applicationName: 'portcullis:test', parameters: new Map(), connectTimeoutMs: 5000 };

const target = (pg: PgCluster, over: Partial<UpstreamTarget> = {}): UpstreamTarget => ({
  host: '127.0.0.1',
  port: pg.port,
  user: 'postgres',
  database: 'postgres',
  password: new Secret(pg.password, 'inline'),
  connection: 'main',
  ...over,
});

async function refused(p: Promise<unknown>): Promise<PortcullisError> {
  const e = await p.then(
    (up) => {
      (up as WireUpstream).socket.destroy();
      return assert.fail('expected the connection to be refused');
    },
    (err: unknown) => err,
  );
  assert.ok(e instanceof PortcullisError, String(e));
  assert.equal(e.code, 'ERR_UPSTREAM_UNAVAILABLE');
  return e;
}

interface Result {
  rows: Array<Array<string | null>>;
  error?: { code: string; message: string };
}

/** Runs one simple Query over the raw upstream socket and reads until ReadyForQuery. */
async function simpleQuery(up: WireUpstream, sql: string, framer = new MessageFramer(up.socket, up.leftover)): Promise<Result> {
  up.socket.write(new MessageWriter().begin(Fe.Query).cstring(sql).end().take());
  const out: Result = { rows: [] };
  for (;;) {
    const m = await framer.next();
    const r = new BodyReader(m.body);
    if (m.code === Be.DataRow) {
      const n = r.int16();
      const row: Array<string | null> = [];
      for (let i = 0; i < n; i++) {
        const len = r.int32();
        row.push(len < 0 ? null : r.bytes(len).toString('utf8'));
      }
      out.rows.push(row);
    } else if (m.code === Be.ErrorResponse) {
      const f = new Map<string, string>();
      for (let t = r.int8(); t !== 0; t = r.int8()) f.set(String.fromCharCode(t), r.cstring());
      out.error = { code: f.get('C') ?? '', message: f.get('M') ?? '' };
    } else if (m.code === Be.ReadyForQuery) {
      return out;
    }
  }
}

async function close(up: WireUpstream): Promise<void> {
  up.socket.end(new MessageWriter().begin(Fe.Terminate).end().take());
  up.socket.destroy();
}

describe('PostgreSQL upstream handshake (real servers)', () => {
  let trust: PgCluster;
  let md5: PgCluster;
  let scram: PgCluster;
  let tls: PgCluster;

  before(async () => {
    [trust, md5, scram, tls] = await Promise.all([
      startPostgres(),
      startPostgres({ auth: 'md5' }),
      startPostgres({ auth: 'scram-sha-256' }),
      startPostgres({ auth: 'scram-sha-256', tls: true, tlsOnly: true }),
    ]);
  });
  after(async () => {
    await Promise.all([trust, md5, scram, tls].filter(Boolean).map((c) => c.stop()));
  });

  it('trust: connects, reports parameters and backend key, then runs a query over the raw socket', async () => {
    const up = await openUpstream(target(trust, { password: undefined }), baseOpts);
    try {
      assert.match(up.parameters.get('server_version') ?? '', /^\d+/);
      assert.equal(up.parameters.get('client_encoding'), 'UTF8');
      assert.ok(up.backendPid > 0);
      const res = await simpleQuery(up, "select 1 as a, 'x' as b, null as c union all select 2, 'y', 'z' order by 1");
      assert.equal(res.error, undefined);
      assert.deepEqual(res.rows, [
        ['1', 'x', null],
        ['2', 'y', 'z'],
      ]);
    } finally {
      await close(up);
    }
  });

  it('shows application_name in pg_stat_activity and forwards safe parameters', async () => {
    const up = await openUpstream(target(trust), {
      ...baseOpts,
      applicationName: 'portcullis:alice via psql',
      parameters: new Map([
        ['DateStyle', 'ISO, DMY'],
        ['user', 'intruder'],
        ['options', '-c statement_timeout=1'],
      ]),
    });
    try {
      const seen = await trust.exec(`select application_name, usename from pg_stat_activity where pid = ${up.backendPid}`);
      assert.equal(seen.trim(), 'portcullis:alice via psql|postgres');
      assert.equal(up.parameters.get('DateStyle'), 'ISO, DMY');
      const res = await simpleQuery(up, 'show statement_timeout');
      assert.deepEqual(res.rows, [['0']]);
    } finally {
      await close(up);
    }
  });

  it('md5: right password works, wrong one is refused without leaking it', async () => {
    assert.equal((await md5.exec("select rolpassword like 'md5%' from pg_authid where rolname = 'postgres'")).trim(), 't');
    const up = await openUpstream(target(md5), baseOpts);
    assert.deepEqual((await simpleQuery(up, 'select current_user')).rows, [['postgres']]);
    await close(up);
    const wrong = 'wrong-md5-password';
    const e = await refused(openUpstream(target(md5, { password: new Secret(wrong, 'inline') }), baseOpts));
    assert.match(e.message, /password authentication failed.*28P01/);
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${md5.port}/postgres`));
    assert.ok(!e.message.includes(wrong));
  });

  it('scram-sha-256: right password works, a created user works, wrong password is refused without leaking it', async () => {
    const up = await openUpstream(target(scram), baseOpts);
    assert.deepEqual((await simpleQuery(up, 'select 40 + 2')).rows, [['42']]);
    await close(up);

    await scram.createUser('agent_ro', 'Ünïcode pässwörd');
    const up2 = await openUpstream(target(scram, { user: 'agent_ro', password: new Secret('Ünïcode pässwörd', 'inline') }), baseOpts);
    assert.deepEqual((await simpleQuery(up2, 'select current_user')).rows, [['agent_ro']]);
    await close(up2);

    const wrong = 'definitely-not-the-password';
    const e = await refused(openUpstream(target(scram, { password: new Secret(wrong, 'inline') }), baseOpts));
    assert.match(e.message, /password authentication failed for user "postgres" \(SQLSTATE 28P01\)/);
    assert.ok(!e.message.includes(wrong));
    assert.ok(!e.message.includes(scram.password));
  });

  it('a password requested but not configured names the field to set', async () => {
    const e = await refused(openUpstream(target(scram, { password: undefined, connection: 'warehouse' }), baseOpts));
    assert.match(e.message, /connections\.warehouse\.password/);
  });

  it('an unknown database is refused with the server message', async () => {
    const e = await refused(openUpstream(target(trust, { database: 'nope' }), baseOpts));
    assert.match(e.message, /database "nope" does not exist \(SQLSTATE 3D000\)/);
  });

  it('TLS verify-full with the test CA works (IP SAN and DNS name), and the session is encrypted', async () => {
    const ca = readFileSync(tls.certs!.caCert, 'utf8');
    const up = await openUpstream(target(tls), { ...baseOpts, tls: { mode: 'verify-full', ca } });
    try {
      const res = await simpleQuery(up, 'select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      assert.deepEqual(res.rows, [['t']]);
    } finally {
      await close(up);
    }
    const up2 = await openUpstream(target(tls, { host: 'localhost' }), { ...baseOpts, tls: { mode: 'verify-full', ca } });
    await close(up2);
  });

  it('TLS verify-full with a wrong servername fails; verify-ca accepts it', async () => {
    const ca = readFileSync(tls.certs!.caCert, 'utf8');
    const e = await refused(openUpstream(target(tls), { ...baseOpts, tls: { mode: 'verify-full', ca, servername: 'db.wrong.example' } }));
    assert.match(e.message, /TLS .*verify-full.*(altnames|does not match)/);
    const up = await openUpstream(target(tls), { ...baseOpts, tls: { mode: 'verify-ca', ca, servername: 'db.wrong.example' } });
    await close(up);
  });

  it('TLS verify-full without the CA (system roots) fails; require accepts the unverified certificate', async () => {
    const e = await refused(openUpstream(target(tls), { ...baseOpts, tls: { mode: 'verify-full' } }));
    assert.match(e.message, /TLS/);
    const up = await openUpstream(target(tls), { ...baseOpts, tls: { mode: 'require' } });
    assert.deepEqual((await simpleQuery(up, 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows, [['t']]);
    await close(up);
  });

  it('a TLS-only server refuses plaintext', async () => {
    const e = await refused(openUpstream(target(tls), baseOpts));
    assert.match(e.message, /no pg_hba\.conf entry|SSL off/);
  });

  it('TLS require against a server without TLS fails', async () => {
    const e = await refused(openUpstream(target(trust), { ...baseOpts, tls: { mode: 'require' } }));
    assert.match(e.message, /does not accept TLS.*'require'/);
  });

  it('a server that is down fails cleanly and fast', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const e = await refused(openUpstream(target(trust, { port }), baseOpts));
    assert.ok(Date.now() - t0 < 1000, 'refused connections do not wait for the timeout');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}/postgres is unavailable: .*ECONNREFUSED`));
  });

  for (const [name, mode] of [
    ['plaintext', undefined],
    ['TLS', 'verify-full'],
  ] as const) {
    it(`cancel() ends a running pg_sleep(30) quickly (${name})`, async () => {
      const pg = mode ? tls : scram;
      const tlsOpts = mode ? { tls: { mode, ca: readFileSync(tls.certs!.caCert, 'utf8') } } : {};
      const up = await openUpstream(target(pg), { ...baseOpts, ...tlsOpts });
      try {
        const t0 = Date.now();
        const running = simpleQuery(up, 'select pg_sleep(30)');
        // Wait until the backend is actually sleeping, or the cancel could land before the query.
        for (let i = 0; i < 100; i++) {
          const state = await pg.exec(`select state from pg_stat_activity where pid = ${up.backendPid}`);
          if (state.trim() === 'active') break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await up.cancel();
        const res = await running;
        assert.equal(res.error?.code, '57014');
        assert.ok(Date.now() - t0 < 5000, `cancel took ${Date.now() - t0} ms`);
        assert.deepEqual((await simpleQuery(up, 'select 1')).rows, [['1']], 'the session survives the cancel');
      } finally {
        await close(up);
      }
    });
  }

  describe('PostgresConnector', () => {
    it('health() runs SELECT 1 and returns milliseconds', async () => {
      const c = new PostgresConnector('main', { type: 'postgres', url: scram.url(), connect_timeout: 5 });
      await c.start();
      const ms = await c.health();
      assert.ok(ms > 0 && ms < 5000, `health took ${ms}`);
      await c.close();
    });

    it('openWire uses the tls block (CA file path) and the separate password field', async () => {
      const c = new PostgresConnector('secure', {
        type: 'postgres',
        url: `postgres://postgres:ignored-url-password@localhost:${tls.port}/postgres`,
        password: new Secret(tls.password, 'env:PG_PASSWORD'),
        tls: { mode: 'verify-full', ca: tls.certs!.caCert },
        connect_timeout: 5,
      });
      const up = await c.openWire({ applicationName: 'portcullis:bob', parameters: new Map() });
      assert.deepEqual((await simpleQuery(up, 'select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows, [['t']]);
      await close(up);
    });

    it('health() against a down server rejects with ERR_UPSTREAM_UNAVAILABLE', async () => {
      const c = new PostgresConnector('down', { type: 'postgres', url: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`, connect_timeout: 2 });
      await refused(c.health());
    });

    it('a bad URL is a config error naming the connection, without the password', () => {
      assert.throws(
        () => new PostgresConnector('x', { type: 'postgres', url: 'postgres://u:hunter22@h/d?sslmode=prefer', connect_timeout: 1 }),
        (e: unknown) => e instanceof PortcullisError && e.code === 'ERR_CONFIG_INVALID' && /connections\.x\.url/.test(e.message) && !e.message.includes('hunter22'),
      );
    });
  });
});
