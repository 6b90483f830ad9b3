import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createAnalyzer } from '../../src/analysis/analyzer.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import { PRESETS } from '../../src/policy/schema.js';
import type { ClientInfo, Principal } from '../../src/pipeline/principal.js';

/** mulberry32: small, seedable, good enough to explore inputs reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  'SELECT', 'FROM', 'WHERE', 'DELETE', 'DROP', 'TABLE', 'INSERT', 'INTO', 'VALUES', 'UPDATE', 'SET', 'WITH', 'AS', 'DO', 'BEGIN', 'END',
  'EXECUTE', 'PREPARE', 'EXPLAIN', 'ANALYZE', 'COPY', 'TO', 'PROGRAM', 'ROLE', 'GRANT', 't', 'customers', '"Q"', "'s'", "E'\\''", '$$', '$x$',
  '1', '1.5', '(', ')', ',', ';', '*', '=', '--', '/*', '*/', '\\', "U&'\\0041'", 'nextval(', 'pg_read_file(', 'set_config(', '::', '||', '\n', ' ',
];
const principal: Principal = { subject: 'fuzz', groups: [], issuer: 'test', authMethod: 'service-key' };
const client: ClientInfo = { address: '127.0.0.1', frontend: 'pgwire', tls: true };
const corpus = (parse(readFileSync(new URL('../fixtures/policy-corpus.yaml', import.meta.url), 'utf8')) as { sql: string }[]).map((e) => e.sql);

test('fuzz: the analyzer never throws and no preset allows an unknown statement', async () => {
  const seeds = [0x5eed, (Math.random() * 2 ** 32) >>> 0];
  const analyzer = await createAnalyzer({ exactCacheSize: 2000, normalizedCacheSize: 2000 });
  const engines = PRESETS.map((p) => createPolicyEngine({ preset: p }));
  for (const seed of seeds) {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    const session = analyzer.openSession();
    for (let i = 0; i < 3000; i++) {
      let sql: string;
      if (r() < 0.5) {
        sql = Array.from({ length: 1 + Math.floor(r() * 14) }, () => pick(TOKENS)).join(r() < 0.7 ? ' ' : '');
      } else {
        const base = pick(corpus);
        const chars = [...base];
        const edits = 1 + Math.floor(r() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(r() * (chars.length + 1));
          const op = r();
          if (op < 0.33) chars.splice(at, 1);
          else if (op < 0.66) chars.splice(at, 0, pick(TOKENS));
          else chars.splice(at, 0, String.fromCharCode(Math.floor(r() * 128)));
        }
        sql = chars.join('');
      }
      let analysis;
      try {
        analysis = session.analyze(sql);
      } catch (e) {
        assert.fail(`seed ${seed}: analyzer threw on ${JSON.stringify(sql)}: ${String(e)}`);
      }
      const unknown = analysis.kind === 'unknown' || analysis.statements.some((s) => s.kind === 'unknown');
      if (!unknown) continue;
      for (const engine of engines) {
        const d = engine.decide({ principal, client, connection: 'main', analysis });
        assert.notEqual(d.action, 'allow', `seed ${seed}: unknown allowed: ${JSON.stringify(sql)}`);
      }
    }
  }
});
