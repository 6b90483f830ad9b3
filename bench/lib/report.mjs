/**
 * Turns per-round measurements into Markdown: one table per workload with the median over
 * rounds and each path's ratio to direct, to PgBouncer and to the Node pipe, then the targets
 * from issues 2 and 3 with a pass/miss verdict.
 */

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const fmt = (x, digits = 0) => (x === undefined ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
const fmtRatio = (r) => (r === undefined ? '–' : r.toFixed(2));

/**
 * Median of each metric over the rounds that succeeded. A path that failed in any round says
 * so: a median over fewer rounds would look more certain than it is.
 */
export function summarize(runs, metrics) {
  const ok = runs.filter((r) => r.ok);
  const out = { rounds: runs.length, okRounds: ok.length, errors: runs.filter((r) => !r.ok).map((r) => r.error) };
  for (const m of metrics) out[m] = median(ok.map((r) => r[m]));
  out.perRound = runs.map((r) => (r.ok ? r : undefined));
  return out;
}

export function workloadTitle(w) {
  const script = w.script === 'select-only' ? 'select-only (`pgbench -S`)' : 'TPC-B (pgbench default script)';
  return `${script}, \`-M ${w.mode}\`, ${w.clients} client${w.clients === 1 ? '' : 's'}`;
}

/** @param rows [{ path, s }] where s = summarize(...) with tps, latencyMs, cpuUsPerTx. */
export function pgbenchTable(rows) {
  const by = Object.fromEntries(rows.map((r) => [r.path.id, r.s]));
  const lines = [
    '| path | TPS | mean latency (ms) | × direct | × PgBouncer | × Node pipe | proxy CPU (µs/tx) | TPS per round |',
    '|---|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const { path, s } of rows) {
    if (s.okRounds === 0) {
      lines.push(`| ${path.label} | failed | | | | | | ${escapeCell(s.errors[0] ?? '')} |`);
      continue;
    }
    const perRound = s.perRound.map((r) => (r ? fmt(r.tps) : 'failed')).join(', ');
    lines.push(
      `| ${path.label} | ${fmt(s.tps)} | ${fmt(s.latencyMs, 3)} | ${fmtRatio(ratio(s.tps, by.direct?.tps))} | ${fmtRatio(ratio(s.tps, by.pgbouncer?.tps))} | ${fmtRatio(ratio(s.tps, by.pipe?.tps))} | ${path.pid === undefined ? '–' : fmt(s.cpuUsPerTx, 1)} | ${perRound} |`,
    );
  }
  return lines.join('\n');
}

/** @param rows [{ path, s }] where s = summarize(...) with seconds, rowsPerSec, cpuSeconds. */
export function bulkTable(rows, wireBytes) {
  const by = Object.fromEntries(rows.map((r) => [r.path.id, r.s]));
  const lines = [
    '| path | seconds | rows/s | MB/s on the wire | × direct | × PgBouncer | × Node pipe | proxy CPU (s) | seconds per round |',
    '|---|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const { path, s } of rows) {
    if (s.okRounds === 0) {
      lines.push(`| ${path.label} | failed | | | | | | | ${escapeCell(s.errors[0] ?? '')} |`);
      continue;
    }
    const mbps = wireBytes && s.seconds ? wireBytes / 1e6 / s.seconds : undefined;
    const perRound = s.perRound.map((r) => (r ? r.seconds.toFixed(2) : 'failed')).join(', ');
    lines.push(
      `| ${path.label} | ${fmt(s.seconds, 2)} | ${fmt(s.rowsPerSec)} | ${fmt(mbps, 1)} | ${fmtRatio(ratio(s.rowsPerSec, by.direct?.rowsPerSec))} | ${fmtRatio(ratio(s.rowsPerSec, by.pgbouncer?.rowsPerSec))} | ${fmtRatio(ratio(s.rowsPerSec, by.pipe?.rowsPerSec))} | ${path.pid === undefined ? '–' : fmt(s.cpuSeconds, 2)} | ${perRound} |`,
    );
  }
  return lines.join('\n');
}


/**
 * A target compares one path to another on one metric. Two numbers: the ratio of the medians
 * (what the tables show) and the median of per-round ratios. Within a round the two paths ran
 * seconds apart, so a per-round ratio cancels load that drifts between rounds; on a shared
 * machine it is the steadier number, and it decides the verdict. `value` is undefined when
 * either side is missing (not run, or failed), reported as "not measured", never as a pass.
 *
 * @param a, b  per-round results of the two paths (index = round; failed runs have ok: false)
 */
export function target(name, a = [], b = [], metric, goal) {
  const ofMedians = ratio(median(a.filter((r) => r.ok).map((r) => r[metric])), median(b.filter((r) => r.ok).map((r) => r[metric])));
  const paired = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i].ok && b[i].ok) paired.push(ratio(a[i][metric], b[i][metric]));
  const value = median(paired);
  return { name, value, ofMedians, perRound: paired, goal, pass: value === undefined ? undefined : value >= goal };
}

export function targetsTable(targets) {
  const lines = ['| target | median of per-round ratios | per round | ratio of medians | goal | result |', '|---|--:|---|--:|--:|---|'];
  for (const t of targets) {
    const result = t.pass === undefined ? 'not measured' : t.pass ? 'met' : '**missed**';
    lines.push(`| ${t.name} | ${fmtRatio(t.value)} | ${t.perRound.map(fmtRatio).join(', ')} | ${fmtRatio(t.ofMedians)} | ≥ ${t.goal.toFixed(2)} | ${result} |`);
  }
  return lines.join('\n');
}

function escapeCell(s) {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200);
}
