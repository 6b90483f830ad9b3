import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';

const run = promisify(execFile);
const HOSTNAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key'] as const;

export interface DevCertsOptions {
  readonly out: string;
  readonly hosts: readonly string[];
  readonly days: number;
  readonly force: boolean;
  readonly openssl?: string;
}

/**
 * `portcullis dev-certs --out DIR`: a local CA and a server certificate it signs, for trying TLS
 * (psql `sslmode=verify-full`) without a real PKI. Keys are P-256, made by node:crypto and
 * written 0600 before any other process sees them; the openssl CLI only builds certificates,
 * because node:crypto cannot issue X.509.
 *
 * @example
 * portcullis dev-certs --out ./certs --host localhost --host 127.0.0.1
 */
export function devCertsCommand(out: (text: string) => void = (t) => void process.stdout.write(t)): Command {
  return new Command('dev-certs')
    .description('make a local CA and a TLS server certificate for development')
    .requiredOption('--out <dir>', 'directory to write ca.crt, ca.key, server.crt, server.key')
    .option('--host <name>', 'DNS name or IP the server certificate covers (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--days <n>', 'server certificate validity in days', '397')
    .option('--force', 'overwrite existing files', false)
    .action(async function (this: Command, opts: { out: string; host: string[]; days: string; force: boolean }) {
      const hosts = opts.host.length ? opts.host : ['localhost', '127.0.0.1'];
      const bad = hosts.find((h) => isIP(h) === 0 && !HOSTNAME.test(h));
      if (bad !== undefined) this.error(`error: --host ${JSON.stringify(bad)} is neither a DNS name nor an IP address`, { exitCode: 2 });
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) this.error('error: --days must be a whole number from 1 to 3650', { exitCode: 2 });
      const dir = resolve(opts.out);
      try {
        await makeDevCerts({ out: dir, hosts, days, force: opts.force });
      } catch (e) {
        this.error(`error: ${(e as Error).message}`, { exitCode: 1 });
      }
      const p = (f: string) => join(dir, f);
      const host = hosts[0]!;
      out(
        [
          `Wrote ${FILES.map(p).join(', ')}`,
          `The server certificate covers: ${hosts.join(', ')}. Keep ca.key private; trust ca.crt only on this machine.`,
          '',
          'Gateway config:',
          '',
          'listen:',
          '  postgres:',
          '    port: 6432',
          `    tls: { cert: ${JSON.stringify(p('server.crt'))}, key: ${JSON.stringify(p('server.key'))} }`,
          '  http:',
          '    port: 8443',
          `    tls: { cert: ${JSON.stringify(p('server.crt'))}, key: ${JSON.stringify(p('server.key'))} }`,
          '',
          'Connect with full verification:',
          '',
          `  psql "host=${host} port=6432 dbname=<connection> user=<name> sslmode=verify-full sslrootcert=${p('ca.crt')}"`,
          `  curl --cacert ${p('ca.crt')} https://${isIP(host) === 6 ? `[${host}]` : host}:8443/`,
          '',
        ].join('\n'),
      );
    });
}

/** Writes ca.key, ca.crt, server.key, server.crt into `out`. */
export async function makeDevCerts(opts: DevCertsOptions): Promise<void> {
  const openssl = opts.openssl ?? 'openssl';
  mkdirSync(opts.out, { recursive: true, mode: 0o700 });
  const existing = FILES.filter((f) => existsSync(join(opts.out, f)));
  if (existing.length && !opts.force) throw new Error(`${existing.join(', ')} already exist in ${opts.out}; pass --force to replace them`);

  const writeKey = (file: string) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const path = join(opts.out, file);
    rmSync(path, { force: true });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return path;
  };
  const caKey = writeKey('ca.key');
  const serverKey = writeKey('server.key');
  const caCrt = join(opts.out, 'ca.crt');
  const serverCrt = join(opts.out, 'server.crt');
  const work = mkdtempSync(join(tmpdir(), 'portcullis-dev-certs-'));
  try {
    const csr = join(work, 'server.csr');
    const ext = join(work, 'server.ext');
    const san = opts.hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
    writeFileSync(
      ext,
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
        'subjectKeyIdentifier=hash',
        'authorityKeyIdentifier=keyid',
        '',
      ].join('\n'),
    );
    const serial = () => `0x${randomBytes(16).toString('hex')}`;
    await openSsl(openssl, [
      'req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '3650', '-set_serial', serial(),
      '-subj', `/CN=Portcullis development CA ${randomBytes(4).toString('hex')}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-out', caCrt,
    ]);
    await openSsl(openssl, ['req', '-new', '-key', serverKey, '-subj', `/CN=${opts.hosts[0]}`, '-out', csr]);
    await openSsl(openssl, [
      'x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-set_serial', serial(),
      '-days', String(opts.days), '-sha256', '-extfile', ext, '-out', serverCrt,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function openSsl(bin: string, args: string[]): Promise<void> {
  try {
    await run(bin, args, { timeout: 30_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('the openssl command was not found; install OpenSSL (for example apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${(err.stderr ?? '').trim().split('\n')[0] ?? 'unknown error'}`);
  }
}
