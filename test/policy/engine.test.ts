import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import assert from 'node:assert/strict';
import { createAnalyzer } from '../../src/analysis/analyzer.js';
import { createPolicyEngine } from '../../src/policy/engine.js';
import { checkPolicy } from '../../src/policy/check.js';
import { policySchema } from '../../src/policy/schema.js';
import { IdentityLimits } from '../../src/pipeline/limits.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';
import type { ClientInfo, Principal } from '../../src/pipeline/principal.js';

const analyzer = await createAnalyzer();
const alice: Principal = { subject: 'alice', groups: ['analysts'], issuer: 'test', authMethod: 'oidc' };
const bob: Principal = { subject: 'bob', groups: ['etl'], issuer: 'test', authMethod: 'oidc' };
const client: ClientInfo = { address: '127.0.0.1', frontend: 'pgwire', tls: true };

const issuePolicy = {
  preset: 'read-only',
  rules: [
    { name: 'analysts-read', who: { groups: ['analysts'] }, what: { kinds: ['read'] }, action: 'allow', max_rows: 1000 },
    { name: 'no-exports', what: { risks: ['export'] }, action: 'deny', reason: 'Exports need a ticket; ask the data team.' },
  ],
};

function decide(policy: unknown, sql: string, who = alice, connection = 'main') {
  return createPolicyEngine(policy).decide({ principal: who, client, connection, analysis: analyzer.analyze(sql) });
}

test('the issue example: allow with max_rows, then a deny reason the agent can act on', () => {
  const d = decide(issuePolicy, 'SELECT * FROM customers');
  assert.deepEqual({ ...d }, { action: 'allow', rule: 'analysts-read', maxRows: 1000 });
  const e = decide(issuePolicy, 'COPY customers TO STDOUT');
  assert.equal(e.action, 'deny');
  assert.equal(e.action === 'deny' && e.code, 'ERR_POLICY_DENIED');
  assert.match(e.action === 'deny' ? e.reason : '', /no-exports.*ticket/);
  assert.equal(decide(issuePolicy, 'DELETE FROM t WHERE id = 1').rule, 'preset:read-only/refuse');
  assert.equal(decide(issuePolicy, 'SELECT * FROM customers', bob).rule, 'preset:read-only');
});

test('allow rules cover the whole statement; deny rules catch any part', () => {
  const policy = {
    rules: [
      { name: 'no-secrets', what: { tables: ['*.secrets'] }, action: 'deny', reason: 'secrets are off limits' },
      { name: 'public-reads', what: { kinds: ['read'], tables: ['public.*'] }, action: 'allow', timeout: '30s' },
    ],
  };
  assert.equal(decide(policy, 'SELECT * FROM orders').action, 'allow');
  assert.equal(decide(policy, 'SELECT * FROM orders').action === 'allow' && decide(policy, 'SELECT * FROM orders').timeoutMs, 30_000);
  assert.equal(decide(policy, 'SELECT * FROM public.orders o JOIN secrets s ON true').rule, 'no-secrets');
  assert.equal(decide(policy, 'SELECT * FROM sales.orders').rule, 'default', 'not every table is public');
  assert.equal(decide(policy, "SELECT pg_read_file('/etc/passwd')").rule, 'default', 'allow tolerates no risk unless listed');
  assert.equal(decide({ rules: [{ name: 'r', what: { kinds: ['read'], risks: ['file-access', 'export'] }, action: 'allow' }] }, "SELECT pg_read_file('x')").action, 'allow');
});

test('who: groups, subjects, connections and frontends', () => {
  const policy = { rules: [{ name: 'etl-prod', who: { subjects: ['b*'], connections: ['prod-*'], frontends: ['pgwire'] }, what: { kinds: ['write'] }, action: 'allow' }] };
  assert.equal(decide(policy, 'INSERT INTO t VALUES (1)', bob, 'prod-eu').action, 'allow');
  assert.equal(decide(policy, 'INSERT INTO t VALUES (1)', bob, 'staging').action, 'deny');
  assert.equal(decide(policy, 'INSERT INTO t VALUES (1)', alice, 'prod-eu').action, 'deny');
});

test('unknown is denied with ERR_ANALYSIS_FAILED unless a rule names it', () => {
  const d = decide({ preset: 'audit-only' }, 'SELEKT 1');
  assert.equal(d.action === 'deny' && d.code, 'ERR_ANALYSIS_FAILED');
  assert.equal(decide({ rules: [{ name: 'anything', action: 'allow', what: { risks: ['*'] } }] }, 'SELEKT 1').action, 'deny');
  assert.equal(decide({ rules: [{ name: 'yolo', action: 'allow', what: { kinds: ['unknown'], risks: ['*'] } }] }, 'SELEKT 1').action, 'allow');
});

test('audit-only allows and records what read-write-with-review would have done', () => {
  const d = decide({ preset: 'audit-only' }, 'DROP TABLE customers');
  assert.equal(d.action, 'allow');
  assert.equal(d.action === 'allow' && d.wouldHave?.action, 'deny');
  const r = decide({ preset: 'audit-only' }, 'INSERT INTO t VALUES (1)');
  assert.equal(r.action === 'allow' && r.wouldHave?.action, 'review');
  assert.equal(decide({ preset: 'audit-only' }, 'SELECT 1').action === 'allow' && decide({ preset: 'audit-only' }, 'SELECT 1').action, 'allow');
});

test('review passes its settings through; multi-statement takes the strictest', () => {
  const policy = { rules: [{ name: 'hold-writes', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'] } }], preset: 'read-only' };
  const d = decide(policy, 'UPDATE t SET a = 1 WHERE id = 2');
  assert.equal(d.action, 'review');
  assert.deepEqual(d.action === 'review' && d.review, { approvers: ['dba'] });
  assert.equal(decide(policy, 'SELECT 1; UPDATE t SET a = 1 WHERE id = 2').action, 'review');
  assert.equal(decide(policy, 'SELECT 1; UPDATE t SET a = 1 WHERE id = 2; DROP TABLE t').action, 'deny');
  const multi = { rules: [{ name: 'no-batches', what: { risks: ['multi-statement'] }, action: 'deny' }], preset: 'read-only' };
  assert.equal(decide(multi, 'SELECT 1; SELECT 2').rule, 'no-batches');
});

test('schema: durations, unknown keys, modifiers only on allow', () => {
  assert.equal(policySchema.parse({ rules: [{ name: 'a', action: 'allow', timeout: '1.5s' }] }).rules[0]!.timeout, 1500);
  assert.equal(policySchema.safeParse({ rules: [{ name: 'a', action: 'deny', max_rows: 5 }] }).success, false);
  assert.equal(policySchema.safeParse({ rules: [{ name: 'a', action: 'allow', wat: 1 }] }).success, false);
  assert.equal(policySchema.safeParse({ rules: [{ name: 'a', action: 'allow' }, { name: 'a', action: 'deny' }] }).success, false);
  assert.equal(policySchema.safeParse({ preset: 'read-mostly' }).success, false);
});

test('checkPolicy reports shadowed rules and risky allows', () => {
  const report = checkPolicy({
    rules: [
      { name: 'deny-risky', what: { risks: ['export', 'file-access'] }, action: 'deny' },
      { name: 'deny-export-analysts', who: { groups: ['analysts'] }, what: { risks: ['export'] }, action: 'deny' },
      { name: 'reads', what: { kinds: ['read', 'tcl'] }, action: 'allow' },
      { name: 'analyst-reads', who: { groups: ['analysts'] }, what: { kinds: ['read'], tables: ['public.*'] }, action: 'allow' },
      { name: 'risky-reads', what: { kinds: ['read'], risks: ['lock'] }, action: 'allow' },
      { name: 'everything', action: 'allow', what: { kinds: ['unknown'], risks: ['*'] } },
    ],
  });
  assert.equal(report.ok, false);
  const unreachable = report.findings.filter((f) => f.severity === 'error').map((f) => f.rule);
  assert.deepEqual(unreachable, ['deny-export-analysts', 'analyst-reads']);
  assert.ok(report.findings.some((f) => f.rule === 'everything' && /unknown/.test(f.message)));
  assert.equal(checkPolicy({ rules: [{ name: 'x', action: 'maybe' }] }).errors.length, 1);
  assert.equal(checkPolicy(issuePolicy).ok, true);
});

test('limits: token bucket per identity and a session cap', () => {
  const limits = new IdentityLimits({ statements_per_minute: 3, sessions_per_identity: 1, groups: { etl: { statements_per_minute: 600 } } });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) assert.equal(limits.checkRate(alice, t0), undefined);
  const d = limits.checkRate(alice, t0);
  assert.equal(d?.code, 'ERR_RATE_LIMITED');
  assert.match(d?.reason ?? '', /3 statements per minute/);
  assert.equal(limits.checkRate(alice, t0 + 20_000), undefined, 'one token back after 20 s');
  for (let i = 0; i < 100; i++) assert.equal(limits.checkRate(bob, t0), undefined, 'etl group override');
  const release = limits.acquireSession(alice);
  assert.throws(() => limits.acquireSession(alice), (e: unknown) => e instanceof PortcullisError && e.code === 'ERR_SESSION_LIMIT');
  release();
  release();
  limits.acquireSession(alice)();
});

test('decide() answers exactly what explain() does, for every corpus statement under every preset, with and without rules', () => {
  const corpus = parse(readFileSync(new URL('../fixtures/policy-corpus.yaml', import.meta.url), 'utf8')) as { sql: string }[];
  const policies = [
    ...(['read-only', 'read-write-with-review', 'audit-only'] as const).map((preset) => ({ preset })),
    ...(['read-only', 'audit-only'] as const).map((preset) => ({ ...issuePolicy, preset })),
  ];
  for (const policy of policies) {
    const engine = createPolicyEngine(policy);
    const session = analyzer.openSession();
    for (const { sql } of corpus) {
      const input = { principal: alice, client, connection: 'main', analysis: session.analyze(sql) };
      assert.deepEqual(engine.decide(input), engine.explain(input).decision, `${policy.preset}${'rules' in policy ? ' + rules' : ''}: ${sql}`);
    }
  }
});

test('readsOnly: a session is read-only when no rule can let anything but a plain read through, approvals included', () => {
  const readsOnly = (policy: unknown, who = alice, connection = 'main') => createPolicyEngine(policy).readsOnly(who, client, connection);
  assert.equal(readsOnly({ preset: 'read-only' }), true);
  assert.equal(readsOnly(issuePolicy), true, 'an allow of reads with a row cap, and a deny of exports');
  assert.equal(readsOnly({ preset: 'read-write-with-review' }), false, 'a person may approve a write');
  assert.equal(readsOnly({ preset: 'audit-only' }), false, 'audit-only must not change what runs');
  assert.equal(readsOnly({ rules: [] }), true, 'nothing is allowed at all');
  // Rules for other principals do not count; an unconditional deny ends the list.
  const etlWrites = { preset: 'read-only', rules: [{ name: 'etl', who: { groups: ['etl'] }, what: { kinds: ['write'] }, action: 'allow' }] };
  assert.equal(readsOnly(etlWrites), true);
  assert.equal(readsOnly(etlWrites, bob), false);
  assert.equal(readsOnly({ rules: [{ name: 'stop', action: 'deny' }, { name: 'late', what: { kinds: ['write'] }, action: 'allow' }] }), true);
  // An allow with no kinds allows every kind; one that tolerates a risk may allow nextval or COPY FROM.
  assert.equal(readsOnly({ rules: [{ name: 'any', what: { tables: ['public.*'] }, action: 'allow' }] }), false);
  assert.equal(readsOnly({ rules: [{ name: 'seq', what: { kinds: ['read'], risks: ['side-effect-function'] }, action: 'allow' }] }), false);
  assert.equal(readsOnly({ rules: [{ name: 'held', what: { kinds: ['read'], tables: ['x'] }, action: 'review' }] }), false);
});

test('runsReadOnly: a plain read runs read-only unless the same statement would pass as a write to any table', () => {
  const runs = (policy: unknown, sql: string, who = alice) => createPolicyEngine(policy).runsReadOnly({ principal: who, client, connection: 'main', analysis: analyzer.analyze(sql) });
  assert.equal(runs({ preset: 'read-write-with-review' }, 'SELECT report_total()'), true);
  assert.equal(runs({ preset: 'read-only' }, 'SELECT * FROM t'), true);
  assert.equal(runs({ preset: 'audit-only' }, 'SELECT * FROM t'), false);
  assert.equal(runs({ preset: 'read-write-with-review' }, "SELECT nextval('s')"), false, 'not a plain read: it writes by design');
  assert.equal(runs({ preset: 'read-write-with-review' }, 'DELETE FROM t WHERE id = 1'), false);
  const writers = { preset: 'read-write-with-review', rules: [{ name: 'w', who: { groups: ['etl'] }, what: { kinds: ['read', 'write'], tables: ['victims'] }, action: 'allow' }, { name: 'all', who: { groups: ['dba'] }, what: { kinds: ['read', 'write'] }, action: 'allow' }] };
  assert.equal(runs(writers, 'SELECT f() FROM victims', bob), true, 'may write victims only: a function may write elsewhere');
  assert.equal(runs(writers, 'SELECT f()', { ...bob, groups: ['dba'] }), false, 'may write anything anyway');
});
