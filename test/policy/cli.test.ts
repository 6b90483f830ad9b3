import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyCommand, parseAs, type PolicyIo } from '../../src/cli/policy.js';
import { validateConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

const config: Config = validateConfig({
  listen: { postgres: { port: 0 } },
  connections: { main: { type: 'embedded' } },
  policy: {
    preset: 'read-write-with-review',
    rules: [{ name: 'no-secrets', what: { tables: ['secrets'] }, action: 'deny', reason: 'ask security' }],
  },
});

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  let code = -1;
  const io: PolicyIo = { out: (t) => void (out += t), err: (t) => void (out += t), exit: (c) => void (code = c) };
  const cmd = policyCommand(() => config, io).exitOverride();
  await cmd.parseAsync(['node', 'policy', ...args]);
  return { code, out };
}

test('policy explain prints facts, rule and decision with exit 0/1/2', async () => {
  const base = ['explain', '--config', 'x.yaml', '--as', 'alice:analysts', '--connection', 'main'];
  const allow = await run([...base, 'SELECT * FROM orders']);
  assert.equal(allow.code, 0);
  assert.match(allow.out, /kind: +read/);
  const deny = await run([...base, 'SELECT * FROM secrets']);
  assert.equal(deny.code, 1);
  assert.match(deny.out, /no-secrets.*ask security/);
  const review = await run([...base, 'INSERT INTO orders VALUES (1)']);
  assert.equal(review.code, 2);
  await assert.rejects(run(['explain', '--config', 'x', '--as', 'a', '--connection', 'nope', 'SELECT 1']), /no connection named "nope"/);
});

test('policy check', async () => {
  const r = await run(['check', '--config', 'x.yaml']);
  assert.equal(r.code, 0);
  assert.match(r.out, /ok: 1 rule, then preset read-write-with-review, then deny/);
});

test('--as parsing', () => {
  assert.deepEqual(parseAs('alice').groups, []);
  assert.deepEqual(parseAs('alice:a,b'), { subject: 'alice', groups: ['a', 'b'], issuer: 'portcullis:explain', authMethod: 'service-key' });
  assert.equal(parseAs('key:ci-bot').subject, 'key:ci-bot');
  assert.deepEqual(parseAs('key:ci-bot:etl').groups, ['etl']);
});
