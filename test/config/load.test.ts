import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import { PortcullisError } from '../../src/errors/portcullis-error.js';

const base = `
listen:
  postgres: { host: 127.0.0.1, port: 6432 }
connections:
  warehouse:
    type: postgres
    url: postgres://gateway_user@127.0.0.1:5432/prod
    password: \${env:WAREHOUSE_PASSWORD}
identities:
  keys:
    - { name: ci-bot, groups: [analysts], secret: \${env:CI_BOT_KEY} }
security:
  allow_insecure_loopback: true
policy:
  preset: read-only
`;
const KEY = 'pcs_' + 'k'.repeat(43);

function fails(text: string, env: Record<string, string>, pattern: RegExp): PortcullisError {
  try {
    parseConfig(text, { env });
  } catch (e) {
    assert.ok(e instanceof PortcullisError, String(e));
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail('expected the config to be refused');
}

test("the issue's example config loads, with secrets resolved into Secrets", () => {
  const c = parseConfig(base, { env: { WAREHOUSE_PASSWORD: 'hunter2-very-secret', CI_BOT_KEY: KEY } });
  const conn = c.connections.warehouse!;
  assert.equal(conn.type, 'postgres');
  assert.ok(conn.type === 'postgres' && conn.password instanceof Secret);
  assert.equal(conn.type === 'postgres' && conn.password?.reveal(), 'hunter2-very-secret');
  for (const shown of [JSON.stringify(c), inspect(c, { depth: 10 }), String(conn.type === 'postgres' && conn.password)]) {
    assert.ok(!shown.includes('hunter2-very-secret'), 'a secret never prints');
    assert.ok(!shown.includes(KEY));
  }
  assert.equal(c.limits.max_message_bytes, 64 * 1024 * 1024);
});

test('a missing environment variable names the key and the variable, not a value', () => {
  const e = fails(base, { CI_BOT_KEY: KEY }, /connections\.warehouse\.password: environment variable WAREHOUSE_PASSWORD is not set/);
  assert.equal(e.code, 'ERR_CONFIG_SECRET_UNRESOLVED');
});

test('${file:…} reads a secret file relative to the config; a missing file is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-cfg-'));
  writeFileSync(join(dir, 'pw.txt'), 'from-a-file\n');
  writeFileSync(join(dir, 'c.yaml'), base.replace('${env:WAREHOUSE_PASSWORD}', '${file:pw.txt}'));
  const c = loadConfigFile(join(dir, 'c.yaml'), { CI_BOT_KEY: KEY });
  assert.equal(c.connections.warehouse!.type === 'postgres' && c.connections.warehouse!.password?.reveal(), 'from-a-file');
  writeFileSync(join(dir, 'd.yaml'), base.replace('${env:WAREHOUSE_PASSWORD}', '${file:nope.txt}'));
  assert.throws(() => loadConfigFile(join(dir, 'd.yaml'), { CI_BOT_KEY: KEY }), /connections\.warehouse\.password: cannot read .*nope\.txt \(ENOENT\)/);
});

test('validation errors name the key and what is wrong, and never echo values', () => {
  const env = { WAREHOUSE_PASSWORD: 'pw-should-not-echo', CI_BOT_KEY: KEY };
  fails(base.replace('port: 6432', 'port: 70000'), env, /listen\.postgres\.port: /);
  fails(base.replace('url: postgres://', 'url: mysql://'), env, /connections\.warehouse\.url: must be a postgres:\/\/ URL/);
  fails(base + 'bogus: 1\n', env, /unknown key\(s\): bogus/);
  fails(base.replace('type: postgres', 'type: oracle'), env, /connections\.warehouse\.type/);
  const e = fails(base.replace('allow_insecure_loopback: true', 'allow_insecure_loopback: "pw-should-not-echo"'), env, /security\.allow_insecure_loopback/);
  assert.ok(!e.message.includes('pw-should-not-echo'));
  fails('listen: [', env, /not valid YAML/);
  fails('- a\n- b\n', env, /top level must be a mapping/);
  fails(base.replace(/connections:[\s\S]*?identities:/, 'connections: {}\nidentities:'), env, /connections: at least one connection is required/);
});

test('policy: FILE loads the policy from its own file, relative to the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-pol-'));
  writeFileSync(join(dir, 'rules.yaml'), 'preset: read-only\nrules:\n  - { name: no-exports, what: { risks: [export] }, action: deny, reason: "ask the data team" }\n');
  writeFileSync(join(dir, 'c.yaml'), base.replace(/policy:\n  preset: read-only\n/, 'policy: rules.yaml\n'));
  const c = loadConfigFile(join(dir, 'c.yaml'), { WAREHOUSE_PASSWORD: 'x', CI_BOT_KEY: KEY });
  assert.equal(c.policy?.preset, 'read-only');
  assert.equal(c.policy?.rules[0]?.name, 'no-exports');
  writeFileSync(join(dir, 'd.yaml'), base.replace(/policy:\n  preset: read-only\n/, 'policy: missing.yaml\n'));
  assert.throws(() => loadConfigFile(join(dir, 'd.yaml'), { WAREHOUSE_PASSWORD: 'x', CI_BOT_KEY: KEY }), /policy: cannot read policy file .*missing\.yaml \(ENOENT\)/);
});
