import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  readonly dir: string;
  /** PEM file of the self-signed CA that signed the server certificate. */
  readonly caCert: string;
  readonly serverCert: string;
  /** PEM private key, mode 0600 (PostgreSQL refuses a group/world-readable key). */
  readonly serverKey: string;
}

/**
 * A throwaway CA and a server certificate it signed, valid for `hostnames` (names become DNS
 * SANs, addresses IP SANs). Uses the `openssl` CLI rather than a JS library so tests exercise
 * certificates built the way operators build them. P-256 keys: generation is near-instant,
 * where RSA would add a noticeable pause to every test file.
 *
 * @example
 *   const certs = await makeTestCerts();
 *   tls.connect({ port, ca: readFileSync(certs.caCert), servername: 'localhost' });
 */
export async function makeTestCerts(dir?: string, hostnames: readonly string[] = ['localhost', '127.0.0.1']): Promise<TestCerts> {
  if (hostnames.length === 0) throw new TypeError('makeTestCerts needs at least one hostname');
  const out = dir ?? (await mkdtemp(join(tmpdir(), 'portcullis-certs-')));
  const caKey = join(out, 'ca.key');
  const caCert = join(out, 'ca.crt');
  const serverKey = join(out, 'server.key');
  const serverCsr = join(out, 'server.csr');
  const serverCert = join(out, 'server.crt');
  const extFile = join(out, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  await run('openssl', [
    'req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '30',
    '-subj', '/CN=Portcullis Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);

  const san = hostnames.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  await writeFile(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${san}`,
      '',
    ].join('\n'),
  );
  await run('openssl', ['req', '-new', ...ec, '-keyout', serverKey, '-out', serverCsr, '-subj', `/CN=${hostnames[0]}`]);
  await run('openssl', [
    'x509', '-req', '-in', serverCsr, '-CA', caCert, '-CAkey', caKey,
    // A random serial avoids the .srl file -CAcreateserial would leave behind.
    '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', '30', '-sha256', '-extfile', extFile, '-out', serverCert,
  ]);
  await chmod(serverKey, 0o600);
  await chmod(caKey, 0o600);
  return { dir: out, caCert, serverCert, serverKey };
}
