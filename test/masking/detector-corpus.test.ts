import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUILTIN_DETECTORS, builtinDetector } from '../../src/masking/detectors/registry.js';
import type { DetectorMatch } from '../../src/masking/detectors/detector.js';

interface Line {
  text: string;
  expect: Record<string, string[]>;
}

const corpus = JSON.parse(readFileSync(new URL('../fixtures/detector-corpus.json', import.meta.url), 'utf8')) as Line[];

/** Floors per detector; the measured numbers are printed by the test. */
const PRECISION_FLOOR = 0.95;
const RECALL_FLOOR = 0.9;

function spans(text: string, values: readonly string[]): [number, number][] {
  return values.map((v) => {
    const at = text.indexOf(v);
    assert.ok(at >= 0, `corpus value ${JSON.stringify(v)} is not in its line`);
    return [at, at + v.length];
  });
}

test('the corpus is large enough and labelled', () => {
  assert.ok(corpus.length >= 200, `corpus has ${corpus.length} lines`);
  assert.ok(corpus.filter((l) => Object.keys(l.expect).length === 0).length >= 80, 'hard negatives');
});

test('precision and recall per detector on the labelled corpus', () => {
  const rows: string[] = [];
  const failures: string[] = [];
  for (const name of BUILTIN_DETECTORS) {
    const d = builtinDetector(name);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const misses: string[] = [];
    for (const line of corpus) {
      const found: DetectorMatch[] = [];
      d.find(line.text, found);
      const mine = spans(line.text, line.expect[name] ?? []);
      // A hit on another detector's value (the token detector on an AWS secret or a JWT
      // segment) is merged with that detector's range by the engine: masked once, not a false positive.
      const others = Object.entries(line.expect).filter(([k]) => k !== name).flatMap(([, v]) => spans(line.text, v));
      const hit = new Set<number>();
      for (const f of found) {
        const i = mine.findIndex(([s, e]) => f.start < e && f.end > s);
        if (i >= 0) {
          hit.add(i);
          // The range must cover the whole value, or the rest would leak.
          const [s, e] = mine[i]!;
          if (f.start > s || f.end < e) misses.push(`partial ${name}: ${JSON.stringify(line.text.slice(f.start, f.end))} of ${JSON.stringify(line.text.slice(s, e))}`);
        } else if (others.some(([s, e]) => f.start < e && f.end > s)) {
          continue;
        } else {
          fp++;
          misses.push(`FP ${name}: ${JSON.stringify(line.text.slice(f.start, f.end))} in ${JSON.stringify(line.text)}`);
        }
      }
      tp += hit.size;
      fn += mine.length - hit.size;
      mine.forEach((m, i) => !hit.has(i) && misses.push(`FN ${name}: ${JSON.stringify(line.text.slice(m[0], m[1]))}`));
    }
    const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
    rows.push(`${name.padEnd(12)} tp=${String(tp).padStart(3)} fp=${String(fp).padStart(2)} fn=${String(fn).padStart(2)}  precision=${precision.toFixed(3)} recall=${recall.toFixed(3)}`);
    if (precision < PRECISION_FLOOR || recall < RECALL_FLOOR || misses.some((m) => m.startsWith('partial'))) failures.push(`${name}: precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}\n  ${misses.join('\n  ')}`);
    else if (misses.length > 0) rows.push(`  ${misses.join('\n  ')}`);
  }
  console.log(`detector corpus: ${corpus.length} lines\n${rows.join('\n')}`);
  assert.deepEqual(failures, []);
});
