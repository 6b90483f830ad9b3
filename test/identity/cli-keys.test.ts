import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { keysCommand } from '../../src/cli/keys.js';
import { KEY_PATTERN, hashServiceKey, generateServiceKey } from '../../src/identity/service-keys.js';
import { identitiesSchema } from '../../src/identity/schema.js';
import { createIdentifier } from '../../src/identity/identifier.js';

async function run(args: string[], stdin = '') {
  let out = '';
  let err = '';
  const cmd = keysCommand({ out: (t) => void (out += t), readStdin: async () => stdin });
  cmd.exitOverride().configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  let exitCode = 0;
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } catch (e) {
    exitCode = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { out, err, exitCode };
}

test('keys create prints the key once and a snippet that configures it', async () => {
  const { out, exitCode } = await run(['create', '--name', 'ci-bot', '--groups', 'analysts, etl', '--expires', '2099-01-01']);
  assert.equal(exitCode, 0);
  const keys = out.match(/pcs_[A-Za-z0-9_-]{43}/g)!;
  assert.equal(keys.length, 1, 'the key appears exactly once');
  const key = keys[0]!;
  assert.match(key, KEY_PATTERN);
  const snippet = out.split('identities.keys')[1]!.split('\n').filter((l) => l.startsWith('    ')).join('\n');
  const entries = parse(snippet) as unknown[];
  assert.deepEqual(entries, [{ name: 'ci-bot', groups: ['analysts', 'etl'], hash: hashServiceKey(key), expires: '2099-01-01T00:00:00.000Z' }]);
  const id = createIdentifier(identitiesSchema.parse({ keys: entries }));
  const p = await id.authenticate(key, { address: '127.0.0.1', frontend: 'pgwire', tls: true });
  assert.deepEqual(p.groups, ['analysts', 'etl']);
});

test('keys create refuses bad names and dates', async () => {
  assert.equal((await run(['create', '--name', 'bad name'])).exitCode, 2);
  assert.equal((await run(['create', '--name', 'x', '--expires', 'soon'])).exitCode, 2);
  assert.equal((await run(['create', '--name', 'x', '--expires', '2001-01-01'])).exitCode, 2);
});

test('keys hash reads stdin and never echoes what it read', async () => {
  const key = generateServiceKey();
  const ok = await run(['hash'], `${key}\n`);
  assert.equal(ok.out, `${hashServiceKey(key)}\n`);
  const typo = `${key.slice(0, -1)}!`;
  const bad = await run(['hash'], typo);
  assert.equal(bad.exitCode, 2);
  assert.ok(!bad.out.includes(typo) && !bad.err.includes(typo) && !bad.err.includes(key.slice(4, 30)));
});
