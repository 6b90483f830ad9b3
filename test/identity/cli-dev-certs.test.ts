import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { devCertsCommand } from '../../src/cli/dev-certs.js';

async function run(args: string[]) {
  let out = '';
  const cmd = devCertsCommand((t) => void (out += t)).exitOverride().configureOutput({ writeErr: (t) => void (out += t), writeOut: () => {} });
  let exitCode = 0;
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } catch (e) {
    exitCode = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { out, exitCode };
}

test('dev-certs makes a CA and a server certificate that verify-full accepts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-certs-'));
  try {
    const { out, exitCode } = await run(['--out', dir, '--host', 'localhost', '--host', '127.0.0.1', '--host', '::1']);
    assert.equal(exitCode, 0, out);
    assert.match(out, /sslmode=verify-full sslrootcert=.*ca\.crt/);
    assert.match(out, /tls: \{ cert: ".*server\.crt", key: ".*server\.key" \}/);
    for (const k of ['ca.key', 'server.key']) assert.equal(statSync(join(dir, k)).mode & 0o077, 0, `${k} is private`);
    assert.ok(!out.includes('PRIVATE KEY'));

    const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    const server = new X509Certificate(readFileSync(join(dir, 'server.crt')));
    assert.ok(ca.ca);
    assert.ok(!server.ca);
    assert.ok(server.verify(ca.publicKey));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(server.checkIP('::1'), '::1');
    assert.equal(server.checkHost('example.com'), undefined);

    // A real TLS handshake with hostname verification, as psql verify-full does.
    const srv = createServer({ cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) }, (s) => s.end('ok'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, servername: 'localhost', ca: readFileSync(join(dir, 'ca.crt')) }, () => {
          if (!s.authorized) reject(new Error(String(s.authorizationError)));
        });
        let data = '';
        s.on('data', (d) => (data += d)).on('end', () => resolve(data)).on('error', reject);
      });
      assert.equal(got, 'ok');
    } finally {
      srv.close();
    }

    // Existing files are not replaced without --force.
    assert.notEqual((await run(['--out', dir])).exitCode, 0);
    assert.equal((await run(['--out', dir, '--force'])).exitCode, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dev-certs refuses host names that are neither DNS names nor IPs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-certs-'));
  try {
    assert.equal((await run(['--out', dir, '--host', 'bad host,DNS:evil.com'])).exitCode, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
