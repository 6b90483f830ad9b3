#!/usr/bin/env node
/**
 * A focused, interleaved A/B of `pgbench -S` at 8 clients over a few paths, for judging one
 * change to the hot path without the full `npm run bench`: the Node pipe, and Portcullis with
 * recording off, recording on, and masking rules configured. Every round runs each path once,
 * in an order that rotates per round; the verdict is the median of per-round ratios to the
 * Node pipe (paths in one round ran seconds apart, so their ratio cancels slow drifts in load).
 *
 *   npm run build && node bench/ab.mjs [--rounds 4] [--time 5] [--mode simple|extended]
 *                                      [--paths pipe,off,on,masked] [--scale 1]
 *
 * A path written `on@DIR` (or off@, masked@) runs the gateway built in another checkout DIR,
 * for an old-versus-new comparison in one run.
 *
 * BENCH_GATEWAY_NODE_ARGS passes Node flags (e.g. --cpu-prof) to the gateways, as in run.mjs.
 */
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { tsImport } from 'tsx/esm/api';
import { directPath, startNodePipe, startPgBouncer, startPortcullis } from './lib/paths.mjs';
import { runPgbench } from './lib/measure.mjs';
import { cleanEnv, killTracked, runOk } from './lib/proc.mjs';
import { median } from './lib/report.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    time: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'simple' },
    clients: { type: 'string', default: '8' },
    scale: { type: 'string', default: '1' },
    paths: { type: 'string', default: 'pipe,off,on,masked' },
  },
});
const rounds = Number(args.rounds);
const seconds = Number(args.time);
const workload = { script: 'select-only', mode: args.mode, clients: Number(args.clients) };
const wanted = args.paths.split(',').map((s) => s.trim());

// Rules on a table pgbench never reads, as a deployment with masking configured would have.
const MASKING = {
  hash_key: 'bench-hash-key-0123456789abcdef',
  columns: [
    { match: 'public.people.ssn', strategy: 'partial', keep_last: 4 },
    { match: '*.*.email', strategy: 'hash' },
    { match: 'public.people.card', strategy: 'redact' },
  ],
};

const { startPostgres } = await tsImport('../test/helpers/pg-cluster.ts', import.meta.url);
const pg = await startPostgres({ settings: { max_connections: '100', shared_buffers: '128MB' } });
process.on('exit', () => killTracked());
const paths = [];
try {
  await runOk('pgbench', ['-i', '-q', '-s', args.scale], { env: cleanEnv(directPath(pg).env) });
  for (const spec of wanted) {
    // `on@/path/to/other/checkout` runs that checkout's built gateway: an old build beside the new one.
    const [id, root] = spec.split('@');
    if (root !== undefined) {
      const audit = id !== 'off' && id !== 'masked';
      paths.push(await startPortcullis(pg, { preset: 'audit-only', id: spec, label: `${id} (${root})`, audit, root, extra: id.startsWith('masked') ? { masking: MASKING } : {} }));
    } else if (id === 'direct') paths.push(directPath(pg));
    else if (id === 'pipe') paths.push(await startNodePipe(pg));
    else if (id === 'pgbouncer') paths.push(await startPgBouncer(pg));
    else if (id === 'off') paths.push(await startPortcullis(pg, { preset: 'audit-only', id, label: 'Portcullis, recording off', audit: false }));
    else if (id === 'on') paths.push(await startPortcullis(pg, { preset: 'audit-only', id, label: 'Portcullis, recording on' }));
    else if (id === 'masked') paths.push(await startPortcullis(pg, { preset: 'audit-only', id, label: 'Portcullis, masking rules, recording off', audit: false, extra: { masking: MASKING } }));
    else if (id === 'masked-on') paths.push(await startPortcullis(pg, { preset: 'audit-only', id, label: 'Portcullis, masking rules, recording on', extra: { masking: MASKING } }));
    else throw new Error(`unknown path ${id} (direct, pipe, pgbouncer, off, on, masked, masked-on)`);
  }
  // Warm-up: JIT, pools, the analyzer cache.
  for (const p of paths) await runPgbench(p, workload, 1);
  const runs = new Map(paths.map((p) => [p.id, []]));
  process.stderr.write(`ab: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < paths.length; i++) {
      const p = paths[(i + r) % paths.length];
      const out = await runPgbench(p, workload, seconds);
      if (!out.ok) throw new Error(`${p.label}: ${out.error}`);
      runs.get(p.id)[r] = out;
      process.stderr.write(`ab: round ${r + 1} ${p.id} ${Math.round(out.tps)} tps${out.cpuUsPerTx ? `, ${out.cpuUsPerTx.toFixed(1)} µs/tx` : ''}\n`);
    }
  }
  const base = runs.get('pipe');
  console.log(`\n## pgbench -S -M ${workload.mode} -c ${workload.clients}, ${rounds} rounds of ${seconds} s, interleaved\n`);
  console.log('| path | median TPS | × Node pipe (median of per-round ratios) | per round | proxy CPU (µs/tx) | of which main thread | of which kernel |');
  console.log('|---|--:|--:|---|--:|--:|--:|');
  for (const p of paths) {
    const xs = runs.get(p.id);
    const ratios = base ? xs.map((x, i) => x.tps / base[i].tps) : [];
    const cpu = xs.every((x) => x.cpuUsPerTx !== undefined) ? median(xs.map((x) => x.cpuUsPerTx)).toFixed(1) : '–';
    const main = xs.every((x) => x.mainCpuUsPerTx !== undefined) ? median(xs.map((x) => x.mainCpuUsPerTx)).toFixed(1) : '–';
    const sys = xs.every((x) => x.sysCpuUsPerTx !== undefined) ? median(xs.map((x) => x.sysCpuUsPerTx)).toFixed(1) : '–';
    console.log(`| ${p.label} | ${Math.round(median(xs.map((x) => x.tps))).toLocaleString('en')} | ${base ? median(ratios).toFixed(2) : '–'} | ${ratios.map((x) => x.toFixed(2)).join(', ')} | ${cpu} | ${main} | ${sys} |`);
  }
  process.stderr.write(`ab: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
} finally {
  for (const p of paths) await p.stop?.();
  await pg.stop();
}
