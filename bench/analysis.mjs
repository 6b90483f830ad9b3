#!/usr/bin/env node
/**
 * Micro-benchmark of the analyze stage alone: µs per statement when the exact text is cached,
 * when only its literal-normalized shape is (pgbench -S in simple mode: a new aid every call),
 * and uncached (libpg-query parse + tree walk). No sockets, no database.
 *
 *   node bench/analysis.mjs [--quick] [--json]
 *
 * Loads createAnalyzer from dist/ (what the gateway runs); falls back to src/ through tsx when
 * dist/ is not built. Prints a Markdown table, or a note when the analyzer is not there yet.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');

async function loadCreateAnalyzer() {
  const dist = join(ROOT, 'dist', 'analysis', 'analyzer.js');
  if (existsSync(dist)) {
    const m = await import(pathToFileURL(dist).href);
    if (typeof m.createAnalyzer === 'function') return { createAnalyzer: m.createAnalyzer, from: 'dist/analysis/analyzer.js' };
  }
  const src = join(ROOT, 'src', 'analysis', 'analyzer.ts');
  if (existsSync(src)) {
    try {
      const { tsImport } = await import('tsx/esm/api');
      const m = await tsImport(pathToFileURL(src).href, import.meta.url);
      if (typeof m.createAnalyzer === 'function') return { createAnalyzer: m.createAnalyzer, from: 'src/analysis/analyzer.ts (via tsx)' };
    } catch {
      // fall through: reported as absent
    }
  }
  return undefined;
}

/**
 * Statement families. `text(i, lit)` returns variant i's text with literal lit: the same i and
 * a new lit keeps the shape (a normalized-cache hit); a new i changes an identifier so even
 * the shape is new (a miss).
 */
const FAMILIES = [
  {
    name: 'pgbench -S, simple: `SELECT abalance FROM pgbench_accounts WHERE aid = N`',
    text: (i, lit) => `SELECT abalance${i === 0 ? '' : ` AS v${i}`} FROM pgbench_accounts WHERE aid = ${lit};`,
  },
  {
    name: 'pgbench -S, extended: `… WHERE aid = $1`',
    text: (i) => `SELECT abalance${i === 0 ? '' : ` AS v${i}`} FROM pgbench_accounts WHERE aid = $1`,
    literals: false,
  },
  {
    name: 'TPC-B: `UPDATE pgbench_accounts SET abalance = abalance + D WHERE aid = N`',
    text: (i, lit) => `UPDATE pgbench_accounts SET abalance = abalance + ${lit % 5000}${i === 0 ? '' : `, v${i} = v${i}`} WHERE aid = ${lit};`,
  },
  {
    name: 'report: join, filter, group, order, limit (~250 chars)',
    text: (i, lit) =>
      `SELECT c.name${i === 0 ? '' : ` AS v${i}`}, count(*) AS orders, sum(o.total) AS revenue FROM customers c JOIN orders o ON o.customer_id = c.id ` +
      `WHERE o.created_at >= '2024-01-${String((lit % 28) + 1).padStart(2, '0')}' AND o.status IN ('paid', 'shipped') GROUP BY c.name ORDER BY revenue DESC LIMIT ${lit}`,
  },
];

/** Median of `reps` timings, each of `n` calls, in µs per call. */
function timePerCall(fn, texts, reps) {
  const samples = [];
  for (let r = 0; r < reps; r++) {
    const batch = texts[r % texts.length];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch.length; i++) fn(batch[i]);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e3 / batch.length);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

const loaded = await loadCreateAnalyzer();
if (!loaded) {
  process.stdout.write('Analyzer micro-benchmark skipped: no `createAnalyzer` export in dist/analysis/analyzer.js or src/analysis/analyzer.ts yet.\n');
  process.exit(0);
}

const N = quick ? 2_000 : 10_000;
const REPS = quick ? 5 : 9;
const rows = [];
for (const f of FAMILIES) {
  const hasLiterals = f.literals !== false;
  // A fresh analyzer per family so one family's entries never help another's.
  const analyzer = await loaded.createAnalyzer();
  const session = analyzer.openSession();
  const analyze = (sql) => session.analyze(sql);

  // Exact-text hits: one text, analyzed once to warm, then the same string every call.
  const same = f.text(0, 4242);
  analyze(same);
  const s0 = analyzer.stats();
  const exactUs = timePerCall(analyze, [Array.from({ length: N }, () => same)], REPS);
  const s1 = analyzer.stats();

  // Shape hits: the variant-0 shape is cached; every call carries new literals.
  let normalizedUs;
  let s2 = s1;
  if (hasLiterals) {
    const batches = Array.from({ length: REPS }, (_, r) => Array.from({ length: N }, (_, i) => f.text(0, 1_000_000 + r * N + i)));
    normalizedUs = timePerCall(analyze, batches, REPS);
    s2 = analyzer.stats();
  }

  // Misses: every text has an identifier never seen before, so neither cache can answer.
  const missN = quick ? 500 : 2_000;
  const missBatches = Array.from({ length: REPS }, (_, r) => Array.from({ length: missN }, (_, i) => f.text(1 + r * missN + i, 7 + i)));
  const missUs = timePerCall(analyze, missBatches, REPS);
  const s3 = analyzer.stats();

  const check = {
    exactHits: s1.exactHits - s0.exactHits,
    normalizedHits: s2.normalizedHits - s1.normalizedHits,
    misses: s3.misses - s2.misses,
  };
  rows.push({ family: f.name, sample: same, exactUs, normalizedUs, missUs, check });
}

if (asJson) {
  process.stdout.write(JSON.stringify({ from: loaded.from, rows }, null, 2) + '\n');
} else {
  const f = (x) => (x === undefined ? 'n/a (no literals)' : x < 10 ? x.toFixed(2) : x.toFixed(1));
  const lines = [
    `Analyzer from ${loaded.from}, one thread, median of ${REPS} batches; µs per statement.`,
    '',
    '| statement | exact text cached (µs) | same shape, new literals (µs) | uncached: parse + walk (µs) | calls by cache level (exact / shape / miss) |',
    '|---|--:|--:|--:|---|',
  ];
  for (const r of rows) lines.push(`| ${r.family} | ${f(r.exactUs)} | ${f(r.normalizedUs)} | ${f(r.missUs)} | ${r.check.exactHits} / ${r.check.normalizedHits} / ${r.check.misses} |`);
  process.stdout.write(lines.join('\n') + '\n');
}
