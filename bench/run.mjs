#!/usr/bin/env node
/**
 * `npm run bench`: pgbench and a bulk transfer over four paths to one throwaway PostgreSQL:
 * direct, PgBouncer (transaction pooling), a plain Node.js TCP pipe, and Portcullis (audit-only,
 * plus read-only for select-only, plus audit-only with recording off unless `--no-audit`). Paths are interleaved round-robin inside every round so a
 * noisy neighbour slows all of them alike; the report shows the median over rounds.
 * See docs/benchmarks.md for how to read the output.
 *
 *   node bench/run.mjs [--quick] [--rounds N] [--time SECONDS] [--scale N] [--strict] [--no-audit]
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { directPath, startNodePipe, startPgBouncer, startPortcullis } from './lib/paths.mjs';
import { BULK_SQL, runBulk, runPgbench } from './lib/measure.mjs';
import { cleanEnv, killTracked, run, runOk } from './lib/proc.mjs';
import { bulkTable, pgbenchTable, summarize, target, targetsTable, workloadTitle } from './lib/report.mjs';

const ROOT = join(import.meta.dirname, '..');

function parseArgs(argv) {
  const o = { rounds: 3, time: 6, scale: 10, warmup: 2, strict: false, quick: false, audit: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--quick') Object.assign(o, { quick: true, rounds: 1, time: 3, warmup: 1 });
    else if (a === '--rounds') o.rounds = Math.trunc(num());
    else if (a === '--time') o.time = Math.trunc(num());
    else if (a === '--scale') o.scale = Math.trunc(num());
    else if (a === '--strict') o.strict = true;
    else if (a === '--no-audit') o.audit = false;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/run.mjs [--quick] [--rounds N (3)] [--time SECONDS (6)] [--scale N (10)] [--strict] [--no-audit]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const loadAtStart = loadavg();
const log = (s) => process.stderr.write(s + '\n');

const WORKLOADS = [];
for (const script of ['select-only', 'tpcb'])
  for (const clients of [1, 8]) for (const mode of ['simple', 'extended']) WORKLOADS.push({ script, mode, clients });

process.on('exit', killTracked);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`\nbench: ${sig}, stopping`);
    // process.exit runs pg-cluster's exit hook, which stops the server.
    process.exit(130);
  });
}

// 1. Setup ------------------------------------------------------------------------------------
log('bench: checking system packages (postgresql, pgbench, pgbouncer)');
await runOk('bash', [join(ROOT, 'scripts', 'install-system-deps.sh'), 'pgbouncer']);

const { startPostgres } = await tsImport('../test/helpers/pg-cluster.ts', import.meta.url);
const pg = await startPostgres({
  settings: {
    max_connections: '300',
    // Scale 10 is ~160 MB: keep it all in shared buffers so runs measure paths, not disks.
    shared_buffers: '256MB',
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
  },
});
const direct = directPath(pg);
log(`bench: PostgreSQL on 127.0.0.1:${pg.port}; pgbench -i -s ${opts.scale}`);
await runOk('pgbench', ['-i', '-q', '-s', String(opts.scale)], { env: cleanEnv(direct.env) });
const rows = opts.scale * 100_000;

const paths = [direct];
const notes = [];
paths.push(await startPgBouncer(pg));
const pipe = await startNodePipe(pg, { stats: true });
paths.push(pipe);

const distBuilt = existsSync(join(ROOT, 'dist', 'cli', 'main.js'));
// With recording on (the default) the audit-only gateway also runs with recording off, in the
// same rounds: the difference between those two rows is what recording costs.
const off = opts.audit ? '' : ', recording off';
const gateways = [
  ['audit-only', 'portcullis', `Portcullis (audit-only${off})`, opts.audit],
  ['read-only', 'portcullis-ro', `Portcullis (read-only${off})`, opts.audit],
];
if (opts.audit) gateways.push(['audit-only', 'portcullis-noaudit', 'Portcullis (audit-only, recording off)', false]);
for (const [preset, id, label, audit] of gateways) {
  if (!distBuilt) {
    notes.push(`${label} not measured: dist/ is not built (run \`npm run build\`).`);
    continue;
  }
  try {
    paths.push(await startPortcullis(pg, { preset, id, label, audit }));
  } catch (e) {
    notes.push(`${label} not measured: ${e.message.split('\n')[0]}`);
    log(`bench: ${e.message}`);
  }
}
for (const n of notes) log(`bench: ${n}`);

/** TPC-B writes, so the read-only gateway refuses it by design: it runs select-only only. */
const pathsFor = (w) => paths.filter((p) => p.id !== 'portcullis-ro' || w.script === 'select-only');
const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

const runsTotal = WORKLOADS.reduce((n, w) => n + pathsFor(w).length, 0) * opts.rounds;
log(`bench: ${paths.map((p) => p.label).join(', ')}`);
log(`bench: ${runsTotal} pgbench runs of ${opts.time} s in ${opts.rounds} round(s) + bulk: about ${Math.ceil((runsTotal * (opts.time + 1) + opts.rounds * paths.length * 5) / 60)} min`);

// 2. Warm-up: caches, JIT, pools; and the bytes the bulk query puts on the wire ----------------
log('bench: warm-up');
await run('psql', ['-X', '-q', '-c', BULK_SQL], { env: cleanEnv(pipe.env), stdout: 'ignore' });
await new Promise((r) => setTimeout(r, 200));
const wireBytes = pipe.closed.at(-1) ? pipe.closed.at(-1).serverBytes + pipe.closed.at(-1).clientBytes : undefined;
for (const p of paths) {
  const r = await runPgbench(p, { script: 'select-only', mode: 'simple', clients: 8 }, opts.warmup);
  if (!r.ok) log(`bench: warm-up on ${p.label} failed: ${r.error}`);
}

// 3. Measure, interleaved ------------------------------------------------------------------
const results = new Map(); // key → path id → runs[]
const record = (key, pathId, r) => {
  if (!results.has(key)) results.set(key, new Map());
  const m = results.get(key);
  if (!m.has(pathId)) m.set(pathId, []);
  m.get(pathId).push(r);
};
const wkey = (w) => `${w.script}/${w.mode}/c${w.clients}`;
const started = Date.now();
let done = 0;
for (let round = 0; round < opts.rounds; round++) {
  for (const [wi, w] of WORKLOADS.entries()) {
    // Rotating the order each round and workload spreads "who runs first after a switch".
    for (const p of rotate(pathsFor(w), round + wi)) {
      const r = await runPgbench(p, w, opts.time);
      record(wkey(w), p.id, r);
      done++;
      log(`[${round + 1}/${opts.rounds}] ${wkey(w).padEnd(22)} ${p.label.padEnd(24)} ${r.ok ? `${r.tps.toFixed(0).padStart(7)} tps  ${r.latencyMs.toFixed(3)} ms` : `FAILED ${r.error}`}  (${done}/${runsTotal}, ${Math.round((Date.now() - started) / 1000)} s)`);
    }
  }
  for (const p of rotate(paths, round)) {
    const r = await runBulk(p, rows);
    record('bulk', p.id, r);
    log(`[${round + 1}/${opts.rounds}] ${'bulk'.padEnd(22)} ${p.label.padEnd(24)} ${r.ok ? `${r.seconds.toFixed(2)} s  ${Math.round(r.rowsPerSec)} rows/s` : `FAILED ${r.error}`}`);
  }
}

for (const p of paths) if (p.id.startsWith('portcullis') && /error|fatal/i.test(p.stderr())) notes.push(`${p.label} wrote to stderr: ${p.stderr().trim().split('\n').slice(-3).join(' | ').slice(0, 300)}`);
for (const p of paths) await p.stop();

// 4. Analyzer micro-benchmark, alone on the machine ------------------------------------------
log('bench: analyzer micro-benchmark');
const analysis = await run(process.execPath, [join(ROOT, 'bench', 'analysis.mjs'), ...(opts.quick ? ['--quick'] : [])]);
const analysisMd = analysis.code === 0 ? analysis.stdout.trim() : `Analyzer micro-benchmark failed: ${analysis.stderr.trim().split('\n').slice(-3).join(' ')}`;

// 5. Report --------------------------------------------------------------------------------
const pgVersion = (await pg.exec('SHOW server_version')).trim();
const bouncerVersion = (await run('pgbouncer', ['--version']).catch(() => ({ stdout: '' }))).stdout.split('\n')[0] || (await run('/usr/sbin/pgbouncer', ['--version'])).stdout.split('\n')[0];
await pg.stop();

const summaries = new Map();
const out = [];
out.push(`# Portcullis benchmark: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
out.push('');
out.push(
  `${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), 1/5/15-min load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} at the start and ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end; PostgreSQL ${pgVersion}, ${bouncerVersion}, Node.js ${process.version}. ` +
    `pgbench scale ${opts.scale}, \`-T ${opts.time}\`, ${opts.rounds} round(s) with paths interleaved; every number is the median over rounds` +
    `${opts.quick ? ' (**--quick**: indicative only)' : ''}. Portcullis audit recording ${opts.audit ? 'on (SQLite in a temp dir) except in the "recording off" row' : '**off** (`--no-audit`)'}. Ratios divide TPS (bulk: rows/s) medians; proxy CPU is the proxy process's user+system time ÷ transactions.`,
);
out.push('');
for (const w of WORKLOADS) {
  const rowsW = pathsFor(w).map((p) => ({ path: p, s: summarize(results.get(wkey(w))?.get(p.id) ?? [], ['tps', 'latencyMs', 'cpuUsPerTx']) }));
  summaries.set(wkey(w), Object.fromEntries(rowsW.map((r) => [r.path.id, r.s])));
  out.push(`## ${workloadTitle(w)}`, '', pgbenchTable(rowsW), '');
}
const bulkRows = paths.map((p) => ({ path: p, s: summarize(results.get('bulk')?.get(p.id) ?? [], ['seconds', 'rowsPerSec', 'cpuSeconds']) }));
summaries.set('bulk', Object.fromEntries(bulkRows.map((r) => [r.path.id, r.s])));
out.push(
  `## Bulk: \`psql -c "${BULK_SQL}" > /dev/null\``,
  '',
  `${rows.toLocaleString('en-US')} rows, ${wireBytes ? `${(wireBytes / 1e6).toFixed(1)} MB on the wire (both directions, counted by the Node pipe; MB = 10⁶ bytes)` : 'bytes on the wire not measured'}. Wall time includes connecting and psql formatting the rows.`,
  '',
  bulkTable(bulkRows, wireBytes),
  '',
);

const runsOf = (key, id) => results.get(key)?.get(id);
const targets = [];
for (const script of ['select-only', 'tpcb'])
  for (const mode of ['simple', 'extended']) {
    const k = `${script}/${mode}/c8`;
    targets.push(target(`Portcullis ÷ Node pipe, ${script} ${mode}, 8 clients`, runsOf(k, 'portcullis'), runsOf(k, 'pipe'), 'tps', 0.95));
    targets.push(target(`Portcullis ÷ PgBouncer, ${script} ${mode}, 8 clients`, runsOf(k, 'portcullis'), runsOf(k, 'pgbouncer'), 'tps', 0.8));
  }
targets.push(target('Portcullis ÷ direct, bulk rows/s', runsOf('bulk', 'portcullis'), runsOf('bulk', 'direct'), 'rowsPerSec', 0.9));
for (const mode of ['simple', 'extended']) {
  const k = `select-only/${mode}/c8`;
  targets.push(target(`Portcullis read-only ÷ Node pipe, select-only ${mode}, 8 clients`, runsOf(k, 'portcullis-ro'), runsOf(k, 'pipe'), 'tps', 0.9));
  targets.push(target(`Portcullis read-only ÷ PgBouncer, select-only ${mode}, 8 clients`, runsOf(k, 'portcullis-ro'), runsOf(k, 'pgbouncer'), 'tps', 0.75));
}
if (opts.audit) {
  for (const mode of ['simple', 'extended']) {
    const k = `select-only/${mode}/c8`;
    targets.push(target(`Portcullis recording on ÷ Node pipe, select-only ${mode}, 8 clients`, runsOf(k, 'portcullis'), runsOf(k, 'pipe'), 'tps', 0.85));
    targets.push(target(`Portcullis recording on ÷ recording off, select-only ${mode}, 8 clients`, runsOf(k, 'portcullis'), runsOf(k, 'portcullis-noaudit'), 'tps', 0.85));
  }
}
out.push('## Targets (issues 2 and 3, and recording cost)', '', targetsTable(targets), '');
out.push('## Analyzer cost per statement', '', analysisMd, '');
if (notes.length) out.push('## Notes', '', ...notes.map((n) => `- ${n}`), '');

const md = out.join('\n');
process.stdout.write(md + '\n');
mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), md + '\n');
writeFileSync(
  join(ROOT, 'bench', 'results', 'latest.json'),
  JSON.stringify({ date: new Date().toISOString(), opts, wireBytes, rows, paths: paths.map((p) => ({ id: p.id, label: p.label })), results: Object.fromEntries([...results].map(([k, m]) => [k, Object.fromEntries(m)])), targets, notes }, null, 2) + '\n',
);
log(`bench: wrote bench/results/latest.md and latest.json in ${Math.round((Date.now() - started) / 1000)} s of measuring`);
const missed = targets.filter((t) => t.pass === false).length;
if (opts.strict && (missed > 0 || targets.some((t) => t.pass === undefined))) process.exit(1);
