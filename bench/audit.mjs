#!/usr/bin/env node
/**
 * Micro-benchmark of the record stage alone: a Recorder on a temp SQLite file, statements with
 * a one-row result, no sockets and no PostgreSQL. Prints µs per statement (wall, main-thread
 * CPU, event-loop busy time, whole-process CPU) and statements per second, for one client and
 * for eight concurrent ones (what group commit is for).
 *
 * The main thread is the one that relays every byte of every session, so its CPU is the number
 * that matters; process CPU adds what any other threads spend beside it.
 *
 *   node bench/audit.mjs [--quick] [--n 20000] [--clients 1,8] [--shape batch,spread] [--dist] [--json]
 *
 * Shapes: `batch` — every client yields one turn between statements, so a turn holds one
 * statement per client (the best case for group commit); `spread` — each client waits 1–8
 * turns at random, so a turn holds one or two statements, as behind a real gateway where each
 * client's next statement arrives a network round trip later.
 *
 * Loads src/ through tsx by default (the code being worked on); `--dist` loads the compiled
 * dist/ that the gateway runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const asJson = argv.includes('--json');
const useDist = argv.includes('--dist');
const nArg = argv.indexOf('--n');
const N = nArg >= 0 ? Number(argv[nArg + 1]) : quick ? 5000 : 20_000;
const cArg = argv.indexOf('--clients');
const CLIENTS = cArg >= 0 ? argv[cArg + 1].split(',').map(Number) : [1, 8];
const sArg = argv.indexOf('--shape');
const SHAPES = sArg >= 0 ? argv[sArg + 1].split(',') : ['batch', 'spread'];

async function load(rel) {
  if (useDist) return import(pathToFileURL(join(ROOT, 'dist', `${rel}.js`)).href);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(pathToFileURL(join(ROOT, 'src', `${rel}.ts`)).href, import.meta.url);
}

const { Recorder } = await load('audit/recorder');
const { parseAuditConfig } = await load('audit/schema');

const ANALYSIS = {
  statements: [{ kind: 'read', tag: 'SELECT', reads: ['public.pgbench_accounts'], writes: [], functions: [], risks: [] }],
  kind: 'read',
  risks: [],
  reads: ['public.pgbench_accounts'],
  writes: [],
  functions: [],
};
const VERDICT = { decision: { action: 'allow', rule: 'audit-only' }, analysis: ANALYSIS };
const SQL = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1';

function session(i) {
  return {
    id: `bench-${process.pid}-${i}`,
    principal: { subject: 'bench', groups: ['bench'], issuer: 'portcullis', authMethod: 'service-key', tokenId: null },
    client: { address: '127.0.0.1:5555', frontend: 'pgwire', userName: 'agent', applicationName: 'pgbench', tls: false },
    connection: 'main',
  };
}

const TICK_US = 1e6 / 100; // USER_HZ: /proc reports thread times in 1/100 s on Linux

/** User+system CPU of the main thread alone (its task id is the pid), µs; null off Linux. */
function mainThreadCpuUs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return null;
  }
}

/** `clients` loops, each recording its statements one after another as a pgwire session would. */
async function measure(clients, n, shape) {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-audit-'));
  const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${join(dir, 'audit.db')}` }), { gateway: 'bench' });
  try {
    const one = async (s, i) => {
      const cap = await rec.statement(s, SQL, VERDICT, { params: [String(i)] });
      cap.columns(['abalance']);
      cap.row(['0']);
      cap.complete('SELECT 1');
    };
    const loop = async (c, count) => {
      const s = session(c);
      rec.onSessionStart(s);
      for (let i = 0; i < count; i++) {
        await one(s, i);
        // A real client waits a round trip before its next statement: let the loop turn.
        const turns = shape === 'spread' ? 1 + Math.floor(Math.random() * 8) : 1;
        for (let t = 0; t < turns; t++) await new Promise((r) => setImmediate(r));
      }
    };
    // Warm-up: JIT, prepared statements, page cache.
    await Promise.all(Array.from({ length: clients }, (_, c) => loop(1000 + c, Math.ceil(1000 / clients))));
    await rec.store.flush();
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadCpuUs();
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    const per = Math.ceil(n / clients);
    await Promise.all(Array.from({ length: clients }, (_, c) => loop(c, per)));
    await rec.store.flush();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    const main1 = mainThreadCpuUs();
    const total = per * clients;
    return {
      shape,
      clients,
      statements: total,
      wallUs: (wallMs * 1000) / total,
      mainCpuUs: main0 === null || main1 === null ? null : (main1 - main0) / total,
      loopBusyUs: (elu.active * 1000) / total,
      cpuUs: (cpu.user + cpu.system) / total,
      perSec: total / (wallMs / 1000),
    };
  } finally {
    await rec.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const shape of SHAPES) for (const clients of CLIENTS) results.push(await measure(clients, N, shape));

if (asJson) {
  process.stdout.write(JSON.stringify({ n: N, from: useDist ? 'dist' : 'src', results }, null, 2) + '\n');
} else {
  const lines = [
    `Recorder on SQLite (${useDist ? 'dist/' : 'src/ via tsx'}), ${N.toLocaleString('en-US')} statements, each with a 1-row result; statement durable before it returns.`,
    '',
    '| shape | clients | µs/statement (wall) | main-thread CPU µs/statement | event-loop busy µs/statement | process CPU µs/statement | statements/s |',
    '|--|--:|--:|--:|--:|--:|--:|',
    ...results.map(
      (r) =>
        `| ${r.shape} | ${r.clients} | ${r.wallUs.toFixed(1)} | ${r.mainCpuUs === null ? '–' : r.mainCpuUs.toFixed(1)} | ${r.loopBusyUs.toFixed(1)} | ${r.cpuUs.toFixed(1)} | ${Math.round(r.perSec).toLocaleString('en-US')} |`,
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
