/**
 * The ways a client can reach the benchmark database. Every proxy runs as its own process so
 * its CPU time can be read from /proc and it competes for the two cores like it would in
 * production. Each path exposes the libpq environment (PGHOST, PGPORT…) that pgbench and psql
 * use to go through it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopChild, track, waitForPort } from './proc.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
const IS_ROOT = process.getuid?.() === 0;

function pgUser() {
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('running as root needs a `postgres` OS user (the Debian postgresql package creates it)');
  return { uid, gid };
}

function libpqEnv(port, database, user, password) {
  return {
    PGHOST: '127.0.0.1',
    PGPORT: String(port),
    PGDATABASE: database,
    PGUSER: user,
    // Plaintext on every path: TLS would measure OpenSSL, not the proxies.
    PGSSLMODE: 'disable',
    PGCONNECT_TIMEOUT: '10',
    ...(password ? { PGPASSWORD: password } : {}),
  };
}

/** (a) Straight to PostgreSQL. */
export function directPath(pg) {
  return { id: 'direct', label: 'direct', pid: undefined, env: libpqEnv(pg.port, 'postgres', 'postgres'), stop: async () => {} };
}

function findPgBouncer() {
  for (const p of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) if (spawnSync('test', ['-x', p]).status === 0) return p;
  const w = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  if (w.status === 0) return w.stdout.trim();
  throw new Error('pgbouncer not found; run `bash scripts/install-system-deps.sh pgbouncer`');
}

/**
 * (b) PgBouncer in transaction pooling, the usual way to put something between many clients
 * and PostgreSQL. Pool size 8 lets every one of 8 clients hold a server connection for its
 * transaction, so pooling costs latency, never queueing. The test cluster trusts loopback, so
 * PgBouncer trusts its clients too (the user still has to be listed in auth_file).
 * PgBouncer refuses to run as root: as root it runs as the `postgres` OS user.
 */
export async function startPgBouncer(pg) {
  const bin = findPgBouncer();
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-pgbouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `main = host=127.0.0.1 port=${pg.port} dbname=postgres user=postgres`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 8',
      'min_pool_size = 0',
      'max_client_conn = 200',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'log_connections = 0',
      'log_disconnections = 0',
      'log_pooler_errors = 1',
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  );
  const ids = IS_ROOT ? pgUser() : undefined;
  if (ids) {
    chownSync(dir, ids.uid, ids.gid);
    for (const f of ['userlist.txt', 'pgbouncer.ini']) chownSync(join(dir, f), ids.uid, ids.gid);
  }
  // Spawned directly with the postgres uid (not through runuser) so child.pid is PgBouncer itself.
  const child = track(spawn(bin, ['-q', join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...(ids ?? {}) }));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitForPort('127.0.0.1', port, 10000, child);
  } catch (e) {
    throw new Error(`PgBouncer did not start: ${e.message}\n${stderr}`);
  }
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  return { id: 'pgbouncer', label: 'PgBouncer (transaction)', pid: child.pid, env: libpqEnv(port, 'main', 'postgres'), stop };
}

/**
 * (c) A plain Node.js TCP pipe (bench/node-pipe.mjs). With `stats`, it reports the bytes each
 * connection carried, which is how the bulk benchmark measures bytes on the wire.
 */
export async function startNodePipe(pg, { stats = false } = {}) {
  const port = await freePort();
  const args = [join(ROOT, 'bench', 'node-pipe.mjs'), '--listen', `127.0.0.1:${port}`, '--target', `127.0.0.1:${pg.port}`, ...(stats ? ['--stats'] : [])];
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const closed = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      closed.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    await waitForPort('127.0.0.1', port, 10000, child);
  } catch (e) {
    throw new Error(`node-pipe did not start: ${e.message}\n${stderr}`);
  }
  return { id: 'pipe', label: 'Node pipe', pid: child.pid, env: libpqEnv(port, 'postgres', 'postgres'), closed, stop: () => stopChild(child) };
}

/**
 * (d) Portcullis as `portcullis serve --config FILE` from the compiled dist/, with a fresh
 * service key passed through the environment (as in production) and in PGPASSWORD.
 * `audit: false` turns recording off (`--no-audit`), to tell the audit stage's cost apart.
 */
export async function startPortcullis(pg, { preset, id, label, audit = true, extra = {}, root = ROOT, env = {} }) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-gw-'));
  const port = await freePort();
  const key = 'pcs_' + randomBytes(32).toString('base64url');
  const config = {
    listen: { postgres: { host: '127.0.0.1', port } },
    connections: { main: { type: 'postgres', url: `postgres://postgres@127.0.0.1:${pg.port}/postgres` } },
    identities: { keys: [{ name: 'bench', groups: ['bench'], secret: '${env:PORTCULLIS_BENCH_KEY}' }] },
    security: { allow_insecure_loopback: true },
    logging: { level: 'warn' },
    policy: { preset },
    // Recording is part of what Portcullis costs, so it stays on, in this gateway's own temp
    // dir: the default ./data/portcullis.db would be shared by both gateways and left behind.
    audit: audit ? { store: `sqlite:${join(dir, 'audit.db')}` } : { enabled: false },
    // Other sections a benchmark needs (masking rules, …).
    ...extra,
  };
  const file = join(dir, 'portcullis.yaml');
  // JSON is YAML; the file shows exactly what the gateway was given.
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  const child = track(
    // BENCH_GATEWAY_NODE_ARGS passes Node flags to the gateway only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
    spawn(process.execPath, [...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), join(root, 'bin', 'portcullis.js'), 'serve', '--config', file], {
      env: { ...process.env, ...env, PORTCULLIS_BENCH_KEY: key, PORTCULLIS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    // Keep only the tail: a chatty gateway must not grow this for the whole run.
    if (stderr.length > 65536) stderr = stderr.slice(-16384);
  });
  try {
    await waitForPort('127.0.0.1', port, 30000, child);
  } catch (e) {
    await stopChild(child);
    throw new Error(`Portcullis (${preset}) did not start: ${e.message}\n${stderr.trim()}`);
  }
  const stop = async () => {
    await stopChild(child);
    // The audit database grows with every statement: hundreds of MB over a full run.
    rmSync(dir, { recursive: true, force: true });
  };
  return { id, label, pid: child.pid, env: libpqEnv(port, 'main', 'agent', key), configFile: file, stderr: () => stderr, stop };
}
