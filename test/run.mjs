#!/usr/bin/env node
// Runs every *.test.ts under test/ with Node's own runner (TypeScript through tsx).
// Usage: node test/run.mjs [substring-filter…]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'node_modules') walk(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(join(root, 'test'), [])
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// The suite's own system packages (PostgreSQL server and clients, openssl, Debian's chromium for
// the console tests): installed here when missing, so `npm test` alone works on a fresh machine.
// A no-op when everything is present; PORTCULLIS_SKIP_SYSTEM_DEPS=1 skips even the check.
if (process.env.PORTCULLIS_SKIP_SYSTEM_DEPS !== '1') {
  const deps = spawnSync('bash', [join(root, 'scripts', 'install-system-deps.sh'), 'chromium'], { stdio: 'inherit' });
  if (deps.status !== 0) {
    console.error('test: could not install the system packages the tests need (scripts/install-system-deps.sh chromium); run it as root, or install postgresql, postgresql-client, postgresql-contrib, openssl and chromium');
    process.exit(1);
  }
}

const env = { ...process.env, SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true', PORTCULLIS_LOG_LEVEL: process.env.PORTCULLIS_LOG_LEVEL ?? 'silent' };
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
