#!/usr/bin/env node
/**
 * Masking throughput (issue 5): a 1,000,000-row SELECT with 3 masked columns through
 * Portcullis, against the same SELECT unmasked through Portcullis and direct, interleaved in
 * rounds. psql reads the whole result and writes it to /dev/null.
 *
 *   npm run build && node bench/masking.mjs [--rows N] [--rounds N] [--strategy partial|redact|hash]
 *                                           [--pgbench-rounds N] [--pgbench-seconds S]
 *
 * Recording is off on both gateways so the number is masking's own cost.
 */
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';
import { directPath, startNodePipe, startPortcullis } from './lib/paths.mjs';
import { runPgbench } from './lib/measure.mjs';
import { cleanEnv, cpuSeconds, killTracked, run, runOk } from './lib/proc.mjs';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, strategy: { type: 'string', default: 'partial' }, 'pgbench-seconds': { type: 'string', default: '6' }, 'pgbench-rounds': { type: 'string', default: '5' } } });
const rows = Number(args.rows);
const rounds = Number(args.rounds);
const SQL = 'SELECT * FROM people';

const { startPostgres } = await tsImport('../test/helpers/pg-cluster.ts', import.meta.url);
const pg = await startPostgres({ settings: { max_connections: '50' } });
process.on('exit', () => killTracked());
try {
  await pg.exec(`CREATE TABLE people AS
    SELECT g AS id, 'Person ' || g AS name,
           'person' || g || '@example.com' AS email,
           lpad((g % 899 + 100)::text, 3, '0') || '-' || lpad((g % 89 + 10)::text, 2, '0') || '-' || lpad((g % 8999 + 1000)::text, 4, '0') AS ssn,
           '4111' || lpad(g::text, 12, '0') AS card,
           now() AS created_at
      FROM generate_series(1, ${rows}) g`);
  const bytes = Number((await pg.exec(`SELECT sum(pg_column_size(p.*)) FROM people p`)).trim());
  const masking = {
    hash_key: 'bench-hash-key-0123456789abcdef',
    columns: ['email', 'ssn', 'card'].map((c) => ({ match: `public.people.${c}`, strategy: args.strategy, ...(args.strategy === 'partial' ? { keep_last: 4 } : {}) })),
  };
  const paths = [
    directPath(pg),
    await startPortcullis(pg, { preset: 'audit-only', id: 'plain', label: 'Portcullis, no masking', audit: false }),
    await startPortcullis(pg, { preset: 'audit-only', id: 'masked', label: `Portcullis, 3 columns masked (${args.strategy})`, audit: false, extra: { masking } }),
  ];
  const results = new Map(paths.map((p) => [p.id, []]));
  for (let r = 0; r < rounds; r++) {
    for (const p of paths) {
      const cpu0 = cpuSeconds(p.pid);
      const t0 = process.hrtime.bigint();
      const out = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', SQL], { env: cleanEnv(p.env), stdout: 'ignore' });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (out.code !== 0) throw new Error(`${p.label}: ${out.stderr}`);
      const cpu = cpuSeconds(p.pid);
      results.get(p.id).push({ s, cpu: cpu0 !== undefined && cpu !== undefined ? cpu - cpu0 : undefined });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const direct = median(results.get('direct').map((x) => x.s));
  console.log(`\n## Masking throughput: ${rows.toLocaleString('en')} rows (~${Math.round(bytes / 1e6)} MB of row data), ${rounds} rounds, medians\n`);
  console.log('| path | seconds | rows/s | MB/s | × direct | proxy CPU (µs/row) |');
  console.log('|---|--:|--:|--:|--:|--:|');
  for (const p of paths) {
    const xs = results.get(p.id);
    const s = median(xs.map((x) => x.s));
    const cpu = xs[0].cpu === undefined ? undefined : median(xs.map((x) => x.cpu));
    console.log(`| ${p.label} | ${s.toFixed(2)} | ${Math.round(rows / s).toLocaleString('en')} | ${(bytes / 1e6 / s).toFixed(1)} | ${(direct / s).toFixed(2)} | ${cpu === undefined ? '–' : ((cpu * 1e6) / rows).toFixed(2)} |`);
  }
  console.log('\nTarget (issue 5): masked ≥ 0.60 × direct.');

  // pgbench -S with masking rules configured (they cover `people`, not pgbench's tables).
  await runOk('pgbench', ['-i', '-q', '-s', '1'], { env: cleanEnv(paths[0].env) });
  const pipe = await startNodePipe(pg);
  const bench = [pipe, paths[1], paths[2]];
  const runs = new Map(bench.map((p) => [p.id, []]));
  const workload = { mode: 'simple', clients: 8, script: 'select-only' };
  const pgRounds = Number(args['pgbench-rounds']);
  // Warm-up (JIT, the analyzer cache), then rounds in a rotating order: each round's ratios
  // compare runs seconds apart, which cancels the slow drifts in load this machine has.
  for (const p of bench) await runPgbench(p, workload, 1);
  for (let r = 0; r < pgRounds; r++) {
    for (let i = 0; i < bench.length; i++) {
      const p = bench[(i + r) % bench.length];
      const out = await runPgbench(p, workload, Number(args['pgbench-seconds']));
      if (!out.ok) throw new Error(`${p.label}: ${out.error}`);
      runs.get(p.id)[r] = out;
    }
  }
  const base = runs.get(pipe.id);
  console.log(`\n## pgbench -S, -M simple, 8 clients, masking rules configured, ${pgRounds} rounds, medians\n`);
  console.log('| path | TPS | × Node pipe (median of per-round ratios) | per round | proxy CPU (µs/tx) |');
  console.log('|---|--:|--:|---|--:|');
  for (const p of bench) {
    const xs = runs.get(p.id);
    const ratios = xs.map((x, i) => x.tps / base[i].tps);
    const cpu = xs.every((x) => x.cpuUsPerTx !== undefined) ? median(xs.map((x) => x.cpuUsPerTx)).toFixed(1) : '–';
    console.log(`| ${p.label} | ${Math.round(median(xs.map((x) => x.tps))).toLocaleString('en')} | ${median(ratios).toFixed(2)} | ${ratios.map((x) => x.toFixed(2)).join(', ')} | ${cpu} |`);
  }
  console.log('\nTarget (issue 5): with masking rules configured ≥ 0.90 × the Node pipe.');
  await pipe.stop();
  for (const p of paths) await p.stop();
} finally {
  await pg.stop();
}
