/**
 * A throwaway real PostgreSQL server for tests: its own data directory, port and socket, torn
 * down by `stop()`, by a process 'exit' hook, and by a watchdog shell if the test process is
 * killed outright. Tests talk to a real server (STYLE.md §8), never a mock.
 *
 * @example
 *   const pg = await startPostgres({ auth: 'scram-sha-256', tls: true });
 *   try { await pg.exec('select 1'); } finally { await pg.stop(); }
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { makeTestCerts, type TestCerts } from './certs.js';

export type PgAuth = 'trust' | 'md5' | 'scram-sha-256';

export interface StartPostgresOptions {
  /** Method for TCP connections; the unix socket is always `trust` so `exec()` needs no password. */
  auth?: PgAuth;
  /** Serve TLS with a fresh test CA (see certs.ts); `hostssl` lines come first in pg_hba. */
  tls?: boolean;
  /** With `tls`, refuse plaintext TCP entirely (only `hostssl` lines). */
  tlsOnly?: boolean;
  /** Extra postgresql.conf settings, applied last so they win. */
  settings?: Record<string, string>;
}

export interface PgCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dataDir: string;
  readonly superuser: 'postgres';
  readonly socketDir: string;
  readonly auth: PgAuth;
  /** The superuser's password, and the default for `createUser`. Set even under trust (harmless). */
  readonly password: string;
  readonly certs?: TestCerts;
  /** A libpq URL over TCP; carries the password unless auth is trust. */
  url(db?: string, user?: string): string;
  /** PG* variables for running psql/libpq tools against this server over TCP. */
  psqlEnv(): Record<string, string>;
  /** Runs SQL as the superuser over the unix socket; resolves with psql's unaligned, tuples-only output. */
  exec(sql: string, db?: string): Promise<string>;
  createUser(name: string, password?: string): Promise<void>;
  stop(): Promise<void>;
}

const IS_ROOT = process.getuid?.() === 0;

/** The newest installed major version, e.g. /usr/lib/postgresql/16/bin. */
function findBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    : [];
  if (versions.length === 0) throw new Error(`no PostgreSQL server binaries under ${base}/*/bin`);
  return join(base, versions[0]!, 'bin');
}

let binDirMemo: string | undefined;
const binDir = (): string => (binDirMemo ??= findBinDir());

/** initdb refuses to run as root, and the server must own its files: drop to the `postgres` user. */
function asPg(cmd: string, args: string[]): [string, string[]] {
  return IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    if (child.stdin) {
      // A child that fails before reading its input closes the pipe; its exit code tells why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Non-recursive on purpose: the copied data directory already belongs to postgres. */
function chownToPg(...paths: string[]): Promise<unknown> {
  return IS_ROOT ? run('chown', ['postgres:postgres', ...paths]) : Promise.resolve();
}

/**
 * initdb costs about a second; copying a finished data directory costs ~0.1 s. The template
 * is built once per machine (per server binary) and published with an atomic rename, so
 * concurrent test processes never see a half-built one. It is left in tmpdir on purpose.
 */
let templateMemo: Promise<string> | undefined;
function template(): Promise<string> {
  return (templateMemo ??= buildTemplate());
}

async function buildTemplate(): Promise<string> {
  const initdb = join(binDir(), 'initdb');
  const stamp = `${Math.trunc(statSync(initdb).mtimeMs)}`;
  const final = join(tmpdir(), `portcullis-pg-template-v1-${binDir().split('/').at(-2)}-${stamp}-${IS_ROOT ? 'pg' : process.getuid?.()}`);
  if (existsSync(join(final, 'global', 'pg_control'))) return final;
  const work = await mkdtemp(join(tmpdir(), 'portcullis-pg-build-'));
  try {
    await chownToPg(work);
    const [cmd, args] = asPg(initdb, ['-D', join(work, 'data'), '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    await run(cmd, args, { cwd: work });
    try {
      await rename(join(work, 'data'), final);
    } catch (e) {
      // Another process published first; theirs is as good as ours.
      if (!existsSync(join(final, 'global', 'pg_control'))) throw e;
    }
    return final;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const confValue = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const sqlLiteral = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const sqlIdent = (v: string): string => `"${v.replace(/"/g, '""')}"`;

interface Live {
  tmp: string;
  dataDir: string;
  watchdog: number | undefined;
}
const live = new Set<Live>();
let exitHookInstalled = false;

function stopSync(l: Live): void {
  if (existsSync(join(l.dataDir, 'postmaster.pid'))) {
    const [cmd, args] = asPg(join(binDir(), 'pg_ctl'), ['stop', '-D', l.dataDir, '-m', 'immediate', '-w', '-t', '10']);
    spawnSync(cmd, args, { stdio: 'ignore', cwd: l.tmp });
  }
  rmSync(l.tmp, { recursive: true, force: true });
  killWatchdog(l);
}

function killWatchdog(l: Live): void {
  if (l.watchdog === undefined) return;
  try {
    process.kill(-l.watchdog, 'SIGTERM');
  } catch {
    // already gone
  }
  l.watchdog = undefined;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of live) stopSync(l);
    live.clear();
  });
}

/**
 * 'exit' does not run when the process is killed by a signal (a runner timeout, Ctrl-C twice).
 * A detached shell polls for our pid and stops the server once we are gone.
 */
function startWatchdog(l: Live): number | undefined {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'if [ -f "$3/postmaster.pid" ]; then',
    '  if [ "$5" = root ]; then runuser -u postgres -- "$2" stop -D "$3" -m immediate -w; else "$2" stop -D "$3" -m immediate -w; fi',
    'fi',
    'rm -rf "$4"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), join(binDir(), 'pg_ctl'), l.dataDir, l.tmp, IS_ROOT ? 'root' : 'user'], {
    detached: true,
    stdio: 'ignore',
    cwd: l.tmp,
  });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgCluster> {
  const auth = opts.auth ?? 'trust';
  const bin = binDir();
  const tpl = await template();
  const tmp = await mkdtemp(join(tmpdir(), 'portcullis-pg-'));
  const dataDir = join(tmp, 'data');
  const l: Live = { tmp, dataDir, watchdog: undefined };
  installExitHook();
  live.add(l);
  let started = false;
  try {
    await run('cp', ['-a', tpl, dataDir]);
    let certs: TestCerts | undefined;
    if (opts.tls) {
      await mkdir(join(tmp, 'certs'));
      certs = await makeTestCerts(join(tmp, 'certs'));
    }
    const port = await freePort();
    const password = `pw-${randomBytes(12).toString('base64url')}`;

    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: tmp,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      shared_buffers: '16MB',
      password_encryption: auth === 'md5' ? 'md5' : 'scram-sha-256',
      ...(certs ? { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' } : {}),
      ...opts.settings,
    };
    await appendFile(
      join(dataDir, 'postgresql.conf'),
      '\n# portcullis test cluster\n' + Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n') + '\n',
    );
    const hba = ['local all all trust'];
    if (certs) hba.push(`hostssl all all 127.0.0.1/32 ${auth}`);
    if (!(certs && opts.tlsOnly)) hba.push(`host all all 127.0.0.1/32 ${auth}`);
    await writeFile(join(dataDir, 'pg_hba.conf'), hba.join('\n') + '\n');
    if (certs) {
      await copyFile(certs.serverCert, join(dataDir, 'server.crt'));
      await copyFile(certs.serverKey, join(dataDir, 'server.key'));
      await chmod(join(dataDir, 'server.key'), 0o600);
    }
    const owned = [tmp];
    if (certs) owned.push(join(dataDir, 'server.crt'), join(dataDir, 'server.key'));
    await chownToPg(...owned);

    const logFile = join(tmp, 'postgres.log');
    l.watchdog = startWatchdog(l);
    const [cmd, args] = asPg(join(bin, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '30', '-s']);
    try {
      await run(cmd, args, { cwd: tmp });
    } catch (e) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      throw new Error(`PostgreSQL did not start: ${(e as Error).message}\n${log.split('\n').slice(-20).join('\n')}`);
    }
    started = true;

    const psqlEnvBase = (): NodeJS.ProcessEnv => {
      // Inherited PG* variables (PGSSLMODE, PGSERVICE…) would silently change what exec() does.
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
      return env;
    };
    const exec = (sql: string, db = 'postgres'): Promise<string> =>
      run(join(bin, 'psql'), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', tmp, '-p', String(port), '-U', 'postgres', '-d', db, '-f', '-'], {
        input: sql,
        env: psqlEnvBase(),
        cwd: tmp,
      });

    await exec(`ALTER ROLE postgres PASSWORD ${sqlLiteral(password)};`);

    let stopped: Promise<void> | undefined;
    const cluster: PgCluster = {
      host: '127.0.0.1',
      port,
      dataDir,
      superuser: 'postgres',
      socketDir: tmp,
      auth,
      password,
      ...(certs ? { certs } : {}),
      url(db = 'postgres', user = 'postgres') {
        const cred = auth === 'trust' ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
        return `postgres://${cred}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
      },
      psqlEnv() {
        return {
          PGHOST: '127.0.0.1',
          PGPORT: String(port),
          PGUSER: 'postgres',
          PGDATABASE: 'postgres',
          PGPASSWORD: password,
          PGCONNECT_TIMEOUT: '5',
          ...(certs ? { PGSSLROOTCERT: certs.caCert } : {}),
        };
      },
      exec,
      async createUser(name, pw = password) {
        await exec(`CREATE ROLE ${sqlIdent(name)} LOGIN PASSWORD ${sqlLiteral(pw)};`);
      },
      stop() {
        return (stopped ??= (async () => {
          live.delete(l);
          const [c, a] = asPg(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10', '-s']);
          await run(c, a, { cwd: tmp }).catch(() => undefined);
          killWatchdog(l);
          await rm(tmp, { recursive: true, force: true });
        })());
      },
    };
    return cluster;
  } catch (e) {
    live.delete(l);
    if (started || existsSync(join(dataDir, 'postmaster.pid'))) stopSync(l);
    else {
      killWatchdog(l);
      await rm(tmp, { recursive: true, force: true });
    }
    throw e;
  }
}

let shared: Promise<PgCluster> | undefined;

/**
 * One trust-auth cluster per test process, for the many files that just need "a PostgreSQL".
 * Never stop it yourself: the exit hook does. Tests sharing it should use their own
 * database or schema names.
 */
export function startPostgresShared(): Promise<PgCluster> {
  if (!shared) {
    shared = startPostgres();
    shared.catch(() => {
      shared = undefined;
    });
  }
  return shared;
}

/** For diagnostics in failing tests: the server log so far. */
export function serverLog(cluster: PgCluster): Promise<string> {
  return readFile(join(cluster.socketDir, 'postgres.log'), 'utf8').catch(() => '');
}
