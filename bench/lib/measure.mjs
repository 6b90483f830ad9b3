/**
 * One measurement over one path: a pgbench run or a bulk `SELECT *` into psql. Each returns
 * throughput plus the CPU time the path's proxy process spent meanwhile (from /proc), so the
 * report can show CPU per transaction next to TPS.
 */
import { cleanEnv, cpuSeconds, run } from './proc.mjs';

/** `pgbench` prints e.g. `tps = 1234.5 (without initial connection time)` and `latency average = 0.81 ms`. */
export function parsePgbench(out) {
  const tps = /^tps = ([\d.]+) \(without initial connection time\)/m.exec(out) ?? /^tps = ([\d.]+)/m.exec(out);
  const lat = /^latency average = ([\d.]+) ms/m.exec(out);
  const tx = /^number of transactions actually processed: (\d+)/m.exec(out);
  const failed = /^number of failed transactions: (\d+)/m.exec(out);
  return {
    tps: tps ? Number(tps[1]) : undefined,
    latencyMs: lat ? Number(lat[1]) : undefined,
    transactions: tx ? Number(tx[1]) : undefined,
    failed: failed ? Number(failed[1]) : 0,
  };
}

/**
 * @param workload { script: 'select-only' | 'tpcb', mode: 'simple' | 'extended', clients }
 * -n: no VACUUM before each run (done once after `pgbench -i`); through a read-only gateway
 * the VACUUM would be refused, and it would make runs on different paths unequal anyway.
 */
export async function runPgbench(path, workload, seconds) {
  const args = ['-n', '-M', workload.mode, '-c', String(workload.clients), '-j', String(Math.min(workload.clients, 2)), '-T', String(seconds)];
  if (workload.script === 'select-only') args.push('-S');
  const cpu0 = cpuSeconds(path.pid);
  const main0 = cpuSeconds(path.pid, { mainThread: true });
  const sys0 = cpuSeconds(path.pid, { part: 'system' });
  const r = await run('pgbench', args, { env: cleanEnv(path.env) });
  const cpu1 = cpuSeconds(path.pid);
  const main1 = cpuSeconds(path.pid, { mainThread: true });
  const sys1 = cpuSeconds(path.pid, { part: 'system' });
  const p = parsePgbench(r.stdout);
  if (r.code !== 0 || p.tps === undefined || p.failed > 0) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
    return { ok: false, error: `pgbench exited with ${r.code}: ${why}` };
  }
  const cpu = cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined;
  const main = main0 !== undefined && main1 !== undefined ? main1 - main0 : undefined;
  const sys = sys0 !== undefined && sys1 !== undefined ? sys1 - sys0 : undefined;
  return {
    ok: true,
    ...p,
    cpuSeconds: cpu,
    cpuUsPerTx: cpu !== undefined && p.transactions ? (cpu / p.transactions) * 1e6 : undefined,
    mainCpuUsPerTx: main !== undefined && p.transactions ? (main / p.transactions) * 1e6 : undefined,
    sysCpuUsPerTx: sys !== undefined && p.transactions ? (sys / p.transactions) * 1e6 : undefined,
  };
}

export const BULK_SQL = 'SELECT * FROM pgbench_accounts';

/**
 * psql fetches the whole result (no FETCH_COUNT), formats it, and writes it to /dev/null.
 * Wall time covers connect, query, transfer and formatting: what a user of the path waits for.
 */
export async function runBulk(path, rows) {
  const cpu0 = cpuSeconds(path.pid);
  const t0 = process.hrtime.bigint();
  const r = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', BULK_SQL], { env: cleanEnv(path.env), stdout: 'ignore' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = cpuSeconds(path.pid);
  if (r.code !== 0) return { ok: false, error: `psql exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { ok: true, seconds, rowsPerSec: rows / seconds, cpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined };
}
