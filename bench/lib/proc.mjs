/**
 * Process plumbing for the benchmark: run a command to completion, wait for a port, read a
 * process's CPU time from /proc, and keep track of children so none outlive the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** The environment without inherited PG* variables (PGSSLMODE, PGSERVICE… would change what libpq does). */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller decides). */
export function run(cmd, args, { env = process.env, stdout = 'pipe', input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', stdout, 'pipe'] });
    const out = [];
    const err = [];
    child.stdout?.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    if (input !== undefined) child.stdin.end(input);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Like run(), but rejects unless the command exits 0. */
export async function runOk(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-10).join('\n')}`);
  return r;
}

/** Resolves once something accepts TCP connections on host:port. */
export async function waitForPort(host, port, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * User + system CPU seconds a process has used so far (proc(5): fields 14 and 15 of
 * /proc/PID/stat, in clock ticks). The command name in field 2 may contain spaces, so fields
 * are counted from the closing parenthesis.
 */
export function cpuSeconds(pid, { mainThread = false, part = 'all' } = {}) {
  if (pid === undefined) return undefined;
  try {
    // A process's main thread is the task whose id is the pid: the one that relays every byte.
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14 → rest[11], stime field 15 → rest[12].
    // `part` splits user from kernel time: on loopback most of a relay's cost is the kernel's send path.
    const ticks = part === 'user' ? Number(rest[11]) : part === 'system' ? Number(rest[12]) : Number(rest[11]) + Number(rest[12]);
    return ticks / CLK_TCK;
  } catch {
    return undefined;
  }
}

const children = new Set();

/** Remembers a long-running child so it is killed (by its own pid) when the benchmark exits. */
export function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killTracked() {
  for (const c of children) {
    try {
      c.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Stops a tracked child and waits for it, escalating to SIGKILL after a grace period. */
export async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** A TCP port on 127.0.0.1 the OS just handed out (port 0); the reuse race is accepted here. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
