// Unit tests for the SCRAM and MD5 clients, plus the handshake against scripted hostile servers
// (things a real PostgreSQL never does, so only a fake peer can exercise them).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { ScramSha256Client, ScramError, saslPrep } from '../../src/connectors/postgres/scram.js';
import { md5PasswordResponse } from '../../src/connectors/postgres/md5.js';
import { openUpstream } from '../../src/connectors/postgres/handshake.js';
import { MessageFramer } from '../../src/connectors/postgres/framer.js';
import { Secret } from '../../src/config/secret.js';
import { MessageWriter } from '../../src/codecs/pgwire/writer.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';

// RFC 7677 §3.
const RFC = {
  user: 'user',
  password: 'pencil',
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

const rfcClient = (): ScramSha256Client => new ScramSha256Client(RFC.password, { user: RFC.user, nonce: RFC.nonce });

describe('SCRAM-SHA-256 client', () => {
  it('reproduces the RFC 7677 test vector', () => {
    const c = rfcClient();
    assert.equal(c.clientFirstMessage(), RFC.clientFirst);
    assert.equal(c.serverFirst(RFC.serverFirst), RFC.clientFinal);
    assert.equal(c.verified, false);
    c.serverFinal(RFC.serverFinal);
    assert.equal(c.verified, true);
  });

  it('rejects a server signature that does not match', () => {
    const c = rfcClient();
    c.clientFirstMessage();
    c.serverFirst(RFC.serverFirst);
    assert.throws(() => c.serverFinal('v=' + Buffer.alloc(32, 1).toString('base64')), ScramError);
    assert.equal(c.verified, false);
  });

  it('reports a server error without echoing anything secret', () => {
    const c = rfcClient();
    c.clientFirstMessage();
    c.serverFirst(RFC.serverFirst);
    assert.throws(() => c.serverFinal('e=invalid-proof'), (e: Error) => e instanceof ScramError && /invalid-proof/.test(e.message) && !e.message.includes(RFC.password));
  });

  it('rejects a server nonce that does not extend the client nonce', () => {
    const c = rfcClient();
    c.clientFirstMessage();
    assert.throws(() => c.serverFirst('r=someoneelse123,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'), /nonce/);
    const d = rfcClient();
    d.clientFirstMessage();
    assert.throws(() => d.serverFirst(`r=${RFC.nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`), /nonce/);
  });

  it('rejects iteration counts outside 1000..10,000,000 and malformed ones', () => {
    for (const i of ['999', '10000001', '0', '-5', '4096x', '']) {
      const c = rfcClient();
      c.clientFirstMessage();
      assert.throws(() => c.serverFirst(`r=${RFC.nonce}abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${i}`), ScramError, `i=${i}`);
    }
    const ok = rfcClient();
    ok.clientFirstMessage();
    assert.doesNotThrow(() => ok.serverFirst(`r=${RFC.nonce}abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000`));
  });

  it('rejects a mandatory extension, bad salt and out-of-order messages', () => {
    const c = rfcClient();
    assert.throws(() => c.serverFirst(RFC.serverFirst), /unexpected/);
    c.clientFirstMessage();
    assert.throws(() => c.clientFirstMessage(), ScramError);
    assert.throws(() => c.serverFirst(`m=ext,${RFC.serverFirst}`), /extension/);
    assert.throws(() => c.serverFirst(`r=${RFC.nonce}x,s=not*base64,i=4096`), /salt/);
    assert.throws(() => c.serverFinal(RFC.serverFinal), /unexpected/);
  });

  it('escapes = and , in the username and uses a fresh printable nonce', () => {
    const a = new ScramSha256Client('pw', { user: 'a=b,c' }).clientFirstMessage();
    assert.match(a, /^n,,n=a=3Db=2Cc,r=[\x21-\x2b\x2d-\x7e]{20,}$/);
    assert.notEqual(new ScramSha256Client('pw').clientFirstMessage(), new ScramSha256Client('pw').clientFirstMessage());
  });

  it('SASLprep: ASCII unchanged, spaces mapped, soft hyphen dropped, NFKC, prohibited falls back to raw', () => {
    assert.equal(saslPrep('plain ASCII\t!'), 'plain ASCII\t!');
    assert.equal(saslPrep('a\u00a0b\u3000c'), 'a b c');
    assert.equal(saslPrep('I\u00adX'), 'IX');
    assert.equal(saslPrep('\u2168'), 'IX'); // ROMAN NUMERAL NINE
    assert.equal(saslPrep('\u00aa'), 'a'); // RFC 4013 §3 example
    const withControl = 'caf\u00e9\u0007';
    assert.equal(saslPrep(withControl), withControl);
  });
});

describe('MD5 password response', () => {
  it("matches PostgreSQL's md5 scheme", () => {
    // md5('postgres'+'postgres') is the well-known stored hash md53175bce1d3201d16594cebf9d7eb3f9d.
    assert.equal(md5PasswordResponse('postgres', 'postgres', Buffer.from([1, 2, 3, 4])), 'md568be9ed08db75f318087ab337aaea044');
    assert.equal(md5PasswordResponse('alice', 'pässword', Buffer.from([0xde, 0xad, 0xbe, 0xef])), 'md508dcb5edb8ffa35a23d5bbc85e6a6cc5');
  });

  it('refuses a salt of the wrong size', () => {
    assert.throws(() => md5PasswordResponse('u', 'p', Buffer.alloc(3)), TypeError);
  });
});

// ---- scripted hostile servers ------------------------------------------------------------

type Script = (sock: Socket, read: () => Promise<Buffer>) => Promise<void>;

/** Reads the client's packets (untyped startup first, then typed) and hands them to `script`. */
async function fakeServer(script: Script): Promise<{ port: number; server: Server }> {
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    let first = true;
    let wake: (() => void) | undefined;
    sock.on('data', (b: Buffer) => {
      buf = Buffer.concat([buf, b]);
      wake?.();
    });
    sock.on('error', () => undefined);
    const read = async (): Promise<Buffer> => {
      for (;;) {
        const off = first ? 0 : 1;
        if (buf.length >= off + 4) {
          const len = buf.readInt32BE(off) + off;
          if (buf.length >= len) {
            const msg = buf.subarray(0, len);
            buf = buf.subarray(len);
            first = false;
            return msg;
          }
        }
        await new Promise<void>((r) => (wake = r));
      }
    };
    script(sock, read).catch(() => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { port: addr.port, server };
}

const auth = (kind: number, extra?: (w: MessageWriter) => void): Buffer => {
  const w = new MessageWriter().begin(0x52).int32(kind);
  extra?.(w);
  return w.end().take();
};

async function expectRefused(port: number, pattern: RegExp, password = 'topsecret-pw'): Promise<PortcullisError> {
  const err = await openUpstream(
    { host: '127.0.0.1', port, user: 'u', database: 'd', password: new Secret(password, 'inline'), connection: 'fake' },
    { applicationName: 'test', parameters: new Map(), connectTimeoutMs: 3000 },
  ).then(
    () => assert.fail('expected the handshake to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PortcullisError, String(err));
  assert.equal(err.code, 'ERR_UPSTREAM_UNAVAILABLE');
  assert.match(err.message, pattern);
  assert.ok(!err.message.includes(password), 'message must not contain the password');
  return err;
}

describe('handshake against hostile servers', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const start = async (script: Script): Promise<number> => {
    const { port, server } = await fakeServer(script);
    servers.push(server);
    return port;
  };

  /** Plays the server side of SCRAM up to server-final, with a caller-chosen final step. */
  const scramUntilFinal = (final: (sock: Socket) => void): Script => async (sock, read) => {
    await read(); // startup
    sock.write(auth(10, (w) => w.cstring('SCRAM-SHA-256').int8(0)));
    const init = await read();
    const clientFirst = init.subarray(5 + 'SCRAM-SHA-256'.length + 1 + 4).toString();
    const nonce = /r=([^,]+)/.exec(clientFirst)![1]!;
    sock.write(auth(11, (w) => w.bytes(Buffer.from(`r=${nonce}srv,s=${Buffer.from('salt').toString('base64')},i=4096`))));
    await read(); // client-final
    final(sock);
  };

  it('refuses a server that skips SASLFinal and claims success', async () => {
    const port = await start(scramUntilFinal((sock) => sock.write(auth(0))));
    await expectRefused(port, /without proving/);
  });

  it('refuses a server whose SCRAM signature is wrong (does not know the password)', async () => {
    const port = await start(scramUntilFinal((sock) => sock.write(auth(12, (w) => w.bytes(Buffer.from('v=' + Buffer.alloc(32).toString('base64')))))));
    await expectRefused(port, /signature/);
  });

  it('refuses SASL without SCRAM-SHA-256 (never -PLUS alone)', async () => {
    const port = await start(async (sock, read) => {
      await read();
      sock.write(auth(10, (w) => w.cstring('SCRAM-SHA-256-PLUS').int8(0)));
    });
    await expectRefused(port, /only SCRAM-SHA-256 is supported/);
  });

  it('names unsupported methods (GSSAPI)', async () => {
    const port = await start(async (sock, read) => {
      await read();
      sock.write(auth(7));
    });
    await expectRefused(port, /GSSAPI/);
  });

  it('refuses bytes smuggled after the SSLRequest answer', async () => {
    const port = await start(async (sock, read) => {
      await read();
      sock.write(Buffer.concat([Buffer.from('S'), auth(0)]));
    });
    const err = await openUpstream(
      { host: '127.0.0.1', port, user: 'u', database: 'd' },
      { applicationName: 't', parameters: new Map(), connectTimeoutMs: 3000, tls: { mode: 'require' } },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof PortcullisError);
    assert.match(err.message, /unexpected data in answer to SSLRequest/);
  });

  it('times out a server that accepts and never answers', async () => {
    const port = await start(async () => undefined);
    const t0 = Date.now();
    const err = await openUpstream(
      { host: '127.0.0.1', port, user: 'u', database: 'd' },
      { applicationName: 't', parameters: new Map(), connectTimeoutMs: 300 },
    ).catch((e: unknown) => e);
    assert.ok(err instanceof PortcullisError);
    assert.equal(err.code, 'ERR_UPSTREAM_UNAVAILABLE');
    assert.match(err.message, /within 300 ms/);
    assert.ok(Date.now() - t0 < 2000);
  });

  it('does not forward forbidden startup parameters', async () => {
    let startup: Buffer = Buffer.alloc(0);
    const port = await start(async (sock, read) => {
      startup = await read();
      sock.write(auth(0));
      sock.write(new MessageWriter().begin(0x4b).int32(7).int32(9).end().begin(0x5a).int8(0x49).end().take());
    });
    const up = await openUpstream(
      { host: '127.0.0.1', port, user: 'gateway', database: 'db' },
      {
        applicationName: 'portcullis:alice',
        parameters: new Map([
          ['DateStyle', 'ISO, DMY'],
          ['user', 'postgres'],
          ['Database', 'other'],
          ['options', '-c role=admin'],
          ['replication', 'database'],
          ['role', 'admin'],
          ['_pq_.evil', '1'],
          ['', 'x'],
          ['bad\0name', 'x'],
        ]),
        connectTimeoutMs: 3000,
      },
    );
    up.socket.destroy();
    const fields = startup.subarray(8).toString().split('\0');
    const pairs = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) pairs.set(fields[i]!, fields[i + 1]!);
    assert.deepEqual(Object.fromEntries(pairs), { user: 'gateway', database: 'db', application_name: 'portcullis:alice', DateStyle: 'ISO, DMY' });
    assert.equal(up.backendPid, 7);
    assert.equal(up.backendSecret, 9);
  });
});

describe('MessageFramer', () => {
  const bytes = new MessageWriter()
    .begin(0x52).int32(0).end()
    .begin(0x53).cstring('server_version').cstring('16.0').end()
    .begin(0x4b).int32(42).int32(-7).end()
    .begin(0x5a).int8(0x49).end()
    .begin(0x4e).cstring('after').end()
    .take();

  it('yields the same messages and leftover for every split of the input', async () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const stream = new PassThrough();
      const framer = new MessageFramer(stream);
      stream.write(bytes.subarray(0, cut));
      stream.write(bytes.subarray(cut));
      const codes: number[] = [];
      for (;;) {
        const m = await framer.next();
        codes.push(m.code);
        if (m.code === 0x5a) break;
      }
      // Let any chunk still in flight arrive before detaching, as a real socket would have.
      await new Promise((r) => setImmediate(r));
      const rest = framer.detach();
      assert.deepEqual(codes, [0x52, 0x53, 0x4b, 0x5a], `cut ${cut}`);
      assert.equal(rest?.toString('latin1'), bytes.subarray(bytes.length - 11).toString('latin1'), `cut ${cut}`);
    }
  });

  it('refuses absurd lengths and reports a closed stream', async () => {
    const s1 = new PassThrough();
    const f1 = new MessageFramer(s1);
    s1.write(Buffer.from([0x52, 0x7f, 0, 0, 0]));
    await assert.rejects(f1.next(), /out of range/);
    const s2 = new PassThrough();
    const f2 = new MessageFramer(s2);
    s2.end(Buffer.from([0x52, 0, 0]));
    await assert.rejects(f2.next(), /closed/);
  });
});
