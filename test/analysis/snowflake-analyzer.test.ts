import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createSnowflakeAnalyzer } from '../../src/analysis/snowflake/analyzer.js';
import { parseSnowflake } from '../../src/analysis/snowflake/parser.js';
import { INFORMATIONAL_RISKS, RISK_FLAGS, type Analysis, type RiskFlag } from '../../src/analysis/facts.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import { DANGEROUS_RISKS } from '../../src/policy/presets.js';
import type { ClientInfo, Principal } from '../../src/pipeline/principal.js';

interface Entry {
  sql: string;
  kind: string;
  risks: RiskFlag[];
  reads?: string[];
  writes?: string[];
  functions?: string[];
  ro: 'allow' | 'deny' | 'review';
  rw: 'allow' | 'deny' | 'review';
}

const corpus = parse(readFileSync(new URL('../fixtures/snowflake-corpus.yaml', import.meta.url), 'utf8')) as Entry[];
const analyzer = await createSnowflakeAnalyzer();
const principal: Principal = { subject: 'agent-1', groups: ['agents'], issuer: 'test', authMethod: 'service-key' };
const client: ClientInfo = { address: '127.0.0.1', frontend: 'snowflake', tls: true };
const readOnly = createPolicyEngine({ preset: 'read-only' });
const readWrite = createPolicyEngine({ preset: 'read-write-with-review' });

const has = (e: Entry, ...flags: RiskFlag[]) => flags.some((f) => e.risks.includes(f));

test('the corpus holds at least 100 statements and covers every Snowflake risk category several times', () => {
  assert.ok(corpus.length >= 100, `only ${corpus.length}`);
  const wanted: RiskFlag[] = ['export', 'file-transfer', 'egress', 'sharing', 'destructive', 'privilege', 'session-tampering', 'dynamic-code', 'system-function', 'clone', 'time-travel', 'multi-statement', 'unparseable'];
  for (const flag of wanted) {
    const n = corpus.filter((e) => e.risks.includes(flag)).length;
    assert.ok(n >= 3, `${flag}: only ${n} entries`);
  }
  assert.ok(corpus.filter((e) => e.kind === 'unknown').length >= 10, 'garbage and undecidable statements');
  assert.ok(corpus.filter((e) => e.kind === 'read' && e.risks.length === 0).length >= 20, 'plain reads');
});

test('corpus: kind, risks and relations of every statement', () => {
  const failures: string[] = [];
  for (const e of corpus) {
    const a = analyzer.analyze(e.sql);
    const where = `\n  sql: ${e.sql.length > 160 ? `${e.sql.slice(0, 160)}…` : e.sql}\n  got: ${JSON.stringify(a.statements.length === 1 ? a.statements[0] : a).slice(0, 600)}`;
    if (a.kind !== e.kind) failures.push(`kind ${a.kind} ≠ ${e.kind}${where}`);
    if (e.risks.length === 0) {
      const extra = a.risks.filter((r) => !INFORMATIONAL_RISKS.has(r));
      if (extra.length > 0) failures.push(`unexpected risks ${extra.join(',')}${where}`);
    }
    for (const r of e.risks) if (!a.risks.includes(r)) failures.push(`missing risk ${r}${where}`);
    if (e.reads && [...a.reads].sort().join() !== [...e.reads].sort().join()) failures.push(`reads ${a.reads.join(',')} ≠ ${e.reads.join(',')}${where}`);
    if (e.writes && [...a.writes].sort().join() !== [...e.writes].sort().join()) failures.push(`writes ${a.writes.join(',')} ≠ ${e.writes.join(',')}${where}`);
    for (const f of e.functions ?? []) if (!a.functions.includes(f)) failures.push(`missing function ${f}${where}`);
    if (a.kind === 'unknown' && !a.statements.some((s) => s.error !== undefined)) failures.push(`unknown without an error${where}`);
  }
  assert.deepEqual(failures, []);
});

test('corpus: decisions under read-only and read-write-with-review', () => {
  const failures: string[] = [];
  for (const e of corpus) {
    const analysis = analyzer.analyze(e.sql);
    const ro = readOnly.decide({ principal, client, connection: 'warehouse', analysis });
    const rw = readWrite.decide({ principal, client, connection: 'warehouse', analysis });
    if (ro.action !== e.ro) failures.push(`read-only: ${ro.action} (${ro.rule}) ≠ ${e.ro}: ${e.sql.slice(0, 120)}`);
    if (rw.action !== e.rw) failures.push(`read-write-with-review: ${rw.action} (${rw.rule}) ≠ ${e.rw}: ${e.sql.slice(0, 120)}`);
  }
  assert.deepEqual(failures, []);
});

test('the corpus itself holds the preset promises: reads run, dangerous statements never do', () => {
  for (const e of corpus) {
    const plain = ['read', 'tcl', 'session'].includes(e.kind) && e.risks.every((r) => INFORMATIONAL_RISKS.has(r));
    assert.equal(e.ro, plain ? 'allow' : 'deny', e.sql);
    if (has(e, 'export', 'file-transfer', 'destructive', 'privilege', 'egress', 'system-function')) assert.equal(e.ro, 'deny', e.sql);
    if (has(e, ...DANGEROUS_RISKS) || e.kind === 'unknown') assert.equal(e.rw, 'deny', e.sql);
  }
  for (const tag of [/^COPY INTO @/i, /^PUT /i, /^GET /i, /^DROP /i, /^GRANT /i, /^CREATE STAGE/i, /SYSTEM\$/i]) {
    const hits = corpus.filter((e) => tag.test(e.sql));
    assert.ok(hits.length > 0, `no entry for ${tag}`);
    for (const e of hits) assert.equal(e.ro, 'deny', e.sql);
  }
});

test('the new risk flags exist and read-write-with-review refuses file transfer, egress and sharing', () => {
  for (const flag of ['file-transfer', 'egress', 'sharing', 'system-function', 'clone', 'time-travel'] as const) assert.ok(RISK_FLAGS.includes(flag), flag);
  for (const flag of ['file-transfer', 'egress', 'sharing', 'destructive', 'privilege'] as const) assert.ok((DANGEROUS_RISKS as readonly string[]).includes(flag), flag);
  assert.doesNotThrow(() => createPolicyEngine({ rules: [{ name: 'x', what: { risks: ['egress', 'sharing', 'time-travel'] }, action: 'deny' }] }));
});

test('extremely long and deeply nested input is bounded: it never hangs, throws, or breaks the parser', () => {
  const cases = [
    'SELECT ' + '('.repeat(20_000) + '1' + ')'.repeat(20_000),
    'SELECT 1 FROM t WHERE ' + Array.from({ length: 5000 }, (_, i) => `a = ${i}`).join(' OR '),
    'SELECT ' + 'CASE WHEN a THEN '.repeat(2000) + '1' + ' END'.repeat(2000),
    'EXECUTE IMMEDIATE ' + "'".repeat(1) + 'EXECUTE IMMEDIATE '.repeat(50) + "'",
    'BEGIN ' + 'IF (a) THEN '.repeat(3000) + 'SELECT 1;' + ' END IF;'.repeat(3000) + ' END',
    "SELECT '" + 'x'.repeat(900_000) + "'",
    'SELECT 1;'.repeat(5000),
    'BEGIN ' + 'INSERT INTO t VALUES (1); '.repeat(3000) + 'END',
    'x'.repeat(2_000_000),
    '/*' + '*'.repeat(100_000),
    '$$'.repeat(50_001),
  ];
  let nested = 'DROP TABLE t';
  for (let i = 0; i < 12; i++) nested = `EXECUTE IMMEDIATE '${nested.replace(/'/g, "''")}'`;
  cases.push(nested);
  for (const sql of cases) {
    const started = Date.now();
    let a: Analysis | undefined;
    assert.doesNotThrow(() => (a = analyzer.analyze(sql)));
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms: ${sql.slice(0, 60)}`);
    assert.ok(a !== undefined && (a.kind === 'unknown' || a.kind === 'read' || a.kind === 'utility' || a.kind === 'ddl'), `${sql.slice(0, 60)} → ${a?.kind}`);
  }
  assert.equal(analyzer.analyze(nested).kind, 'unknown', 'past the nesting limit SQL is not analyzed');
  assert.equal(analyzer.analyze('SELECT 1;'.repeat(5000)).kind, 'unknown', 'past the statement limit');
  assert.equal(analyzer.analyze('BEGIN ' + 'INSERT INTO t VALUES (1); '.repeat(3000) + 'END').kind, 'unknown', 'statements inside blocks count too');
  assert.deepEqual(analyzer.analyze('SELECT * FROM customers').reads, ['customers'], 'the parser still works afterwards');
});

test('a parser trap is recovered from: the next statement is parsed by a fresh instance', () => {
  // 1000 chained operators overflow the WASM stack; the analyzer never sends this, but if it did…
  const trap = parseSnowflake('SELECT ' + Array.from({ length: 1000 }, (_, i) => i).join(' + '));
  assert.equal(trap.ok, false);
  const after = parseSnowflake('SELECT 1');
  assert.equal(after.ok, true);
  assert.equal(analyzer.analyze('SELECT 2 FROM orders').kind, 'read');
});

test('the analyzer caches by exact text and counts hits', async () => {
  const a = await createSnowflakeAnalyzer({ exactCacheSize: 2 });
  const first = a.analyze('SELECT 1 FROM t1');
  assert.equal(a.analyze('SELECT 1 FROM t1'), first);
  a.analyze('SELECT 1 FROM t2');
  a.analyze('SELECT 1 FROM t3');
  a.analyze('SELECT 1 FROM t1');
  assert.deepEqual(a.stats(), { exactHits: 1, normalizedHits: 0, misses: 4 });
  const huge = `SELECT '${'y'.repeat(20_000)}'`;
  a.analyze(huge);
  a.analyze(huge);
  assert.equal(a.stats().misses, 6, 'long texts are not pinned in the cache');
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.statements[0]));
});

test('USE SCHEMA: later unqualified names are reported bare and in every schema the session named', () => {
  const s = analyzer.openSession();
  assert.deepEqual(s.analyze('SELECT * FROM customers').reads, ['customers']);
  assert.equal(s.analyze('USE SCHEMA secret').kind, 'session');
  assert.deepEqual([...s.analyze('SELECT * FROM customers').reads].sort(), ['customers', 'secret.customers']);
  assert.deepEqual(s.analyze('SELECT * FROM public.orders').reads, ['public.orders']);
  // USE DATABASE starts in that database's PUBLIC schema.
  const both = s.analyze('USE DATABASE other; DELETE FROM orders WHERE id = 1');
  assert.deepEqual([...both.writes].sort(), ['orders', 'public.orders', 'secret.orders']);
  assert.deepEqual([...s.analyze('SELECT 1 FROM t').reads].sort(), ['public.t', 'secret.t', 't']);
  assert.deepEqual(analyzer.openSession().analyze('SELECT * FROM customers').reads, ['customers'], 'sessions do not share what they USEd');
  const deny = createPolicyEngine({ rules: [{ name: 'no-secret', what: { tables: ['secret.*'] }, action: 'deny' }], preset: 'read-only' });
  const d = deny.decide({ principal, client, connection: 'w', analysis: s.analyze('SELECT * FROM customers') });
  assert.equal(d.action, 'deny');
  s.remember('p', analyzer.analyze('SELECT 1'));
  s.forget(null);
});

test('a USE inside EXECUTE IMMEDIATE or a block cannot be followed, so it is unknown', () => {
  assert.equal(analyzer.analyze("EXECUTE IMMEDIATE 'USE SCHEMA secret'").kind, 'unknown');
  assert.equal(analyzer.analyze('BEGIN USE SCHEMA secret; END').kind, 'unknown');
  assert.equal(analyzer.analyze("EXECUTE IMMEDIATE 'USE WAREHOUSE big'").kind, 'utility');
});

test('command tags and names follow Snowflake', () => {
  const tag = (sql: string) => analyzer.analyze(sql).statements[0]?.tag;
  assert.equal(tag('COPY INTO @s FROM t'), 'COPY INTO');
  assert.equal(tag('PUT file:///x @~'), 'PUT');
  assert.equal(tag('rm @~'), 'REMOVE');
  assert.equal(tag('DROP MATERIALIZED VIEW v'), 'DROP MATERIALIZED VIEW');
  assert.equal(tag('CREATE OR REPLACE SECURE VIEW v AS SELECT 1'), 'CREATE VIEW');
  assert.equal(tag('CREATE STORAGE INTEGRATION i TYPE = EXTERNAL_STAGE'), 'CREATE STORAGE INTEGRATION');
  assert.equal(tag('USE SECONDARY ROLES NONE'), 'USE SECONDARY ROLES');
  assert.equal(tag('BEGIN SELECT 1; END'), 'ANONYMOUS BLOCK');
  assert.equal(tag('WITH c AS (SELECT 1) SELECT * FROM c'), 'SELECT');
  assert.deepEqual(analyzer.analyze('SELECT "Mixed"."Case", lower(x) FROM "Mixed" JOIN DB.SCH.T ON TRUE').reads.slice().sort(), ['Mixed', 'sch.t']);
  assert.deepEqual(analyzer.analyze('SELECT SYSTEM$WHITELIST(), My_Func(1) FROM t').functions.slice().sort(), ['my_func', 'system$whitelist']);
  assert.deepEqual(analyzer.analyze('SELECT $1 FROM @my_stage/path/file.csv').reads, ['@my_stage']);
});
