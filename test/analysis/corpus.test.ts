import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createAnalyzer } from '../../src/analysis/analyzer.js';
import { INFORMATIONAL_RISKS, type RiskFlag } from '../../src/analysis/facts.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import { PRESETS } from '../../src/policy/schema.js';
import type { ClientInfo, Principal } from '../../src/pipeline/principal.js';

interface Entry {
  sql: string;
  kind: string;
  risks?: RiskFlag[];
  reads?: string[];
  writes?: string[];
  functions?: string[];
  decisions: Record<string, 'allow' | 'deny' | 'review'>;
  unchanged?: string;
  table_exists?: string;
  table_absent?: string;
  schema_exists?: string;
  schema_absent?: string;
}

const corpus = parse(readFileSync(new URL('../fixtures/policy-corpus.yaml', import.meta.url), 'utf8')) as Entry[];
const principal: Principal = { subject: 'agent-1', groups: ['agents'], issuer: 'test', authMethod: 'service-key' };
const client: ClientInfo = { address: '127.0.0.1', frontend: 'pgwire', tls: true };

test('the corpus holds at least 150 statements', () => {
  assert.ok(corpus.length >= 150, `only ${corpus.length}`);
});

test('every statement the presets refuse that could change the database says how to check it did not', () => {
  for (const e of corpus) {
    if (!/^\s*(INSERT|UPDATE|DELETE|TRUNCATE|DROP|CREATE TABLE|GRANT|COPY \w+ FROM)/i.test(e.sql)) continue;
    assert.ok(e.unchanged ?? e.table_exists ?? e.table_absent ?? e.schema_exists ?? e.schema_absent, `no check for: ${e.sql}`);
  }
});

test('corpus: facts and decisions under every preset', async () => {
  const analyzer = await createAnalyzer();
  const session = analyzer.openSession();
  const engines = Object.fromEntries(PRESETS.map((p) => [p, createPolicyEngine({ preset: p })]));
  const failures: string[] = [];
  for (const e of corpus) {
    const a = session.analyze(e.sql);
    const where = `\n  sql: ${e.sql}\n  got: ${JSON.stringify(a)}`;
    if (a.kind !== e.kind) failures.push(`kind ${a.kind} ≠ ${e.kind}${where}`);
    if (e.risks) {
      if (e.risks.length === 0) {
        const extra = a.risks.filter((r) => !INFORMATIONAL_RISKS.has(r));
        if (extra.length) failures.push(`unexpected risks ${extra.join(',')}${where}`);
      }
      for (const r of e.risks) if (!a.risks.includes(r)) failures.push(`missing risk ${r}${where}`);
    }
    if (e.reads && [...a.reads].sort().join() !== [...e.reads].sort().join()) failures.push(`reads ${a.reads.join(',')} ≠ ${e.reads.join(',')}${where}`);
    if (e.writes && [...a.writes].sort().join() !== [...e.writes].sort().join()) failures.push(`writes ${a.writes.join(',')} ≠ ${e.writes.join(',')}${where}`);
    for (const f of e.functions ?? []) if (!a.functions.includes(f)) failures.push(`missing function ${f}${where}`);
    for (const p of PRESETS) {
      const d = engines[p]!.decide({ principal, client, connection: 'main', analysis: a });
      if (d.action !== e.decisions[p]) failures.push(`${p}: ${d.action} (${d.rule}) ≠ ${e.decisions[p]}${where}`);
      if (p === 'audit-only' && d.action === 'allow' && e.decisions['read-write-with-review'] !== 'allow') {
        if (d.wouldHave?.action !== e.decisions['read-write-with-review']) failures.push(`audit-only wouldHave ${d.wouldHave?.action} ≠ ${e.decisions['read-write-with-review']}${where}`);
      }
    }
  }
  assert.equal(failures.length, 0, failures.join('\n'));
});
