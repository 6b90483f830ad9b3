/**
 * The `portcullis` command line as a user runs it: version, config check, serve refusing a
 * config without policy, and the demo end to end (psql through it, Ctrl-C stops it cleanly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run.js';

const BIN = join(import.meta.dirname, '../../bin/portcullis.js');
const node = (args: string[], env: NodeJS.ProcessEnv = process.env) => run(process.execPath, [BIN, ...args], { env, timeoutMs: 30000 });

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pc-cli-'));
  const p = join(dir, 'portcullis.yaml');
  writeFileSync(p, text);
  return p;
}

const VALID = `
listen:
  postgres: { host: 127.0.0.1, port: 0 }
connections:
  warehouse: { type: postgres, url: "postgres://gw@127.0.0.1:1/prod", password: \${env:WH_PASSWORD} }
identities:
  keys:
    - { name: ci-bot, groups: [analysts], secret: \${env:CI_BOT_KEY} }
policy:
  preset: read-only
`;

test('version prints the package version', async () => {
  const r = await node(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^portcullis \d+\.\d+\.\d+ \(node v20/);
});

test('config check accepts a valid file and never prints its secrets', async () => {
  const env = { ...process.env, WH_PASSWORD: 'very-secret-password', CI_BOT_KEY: 'pcs_' + 'z'.repeat(43) };
  const r = await node(['config', 'check', '--config', configFile(VALID)], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: .* is valid \(1 connection: warehouse\)/);
  assert.ok(!(r.stdout + r.stderr).includes('very-secret-password'));
});

test('config check names the key and the missing variable, exit 3', async () => {
  const r = await node(['config', 'check', '--config', configFile(VALID)], { ...process.env, CI_BOT_KEY: 'pcs_' + 'z'.repeat(43) });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /connections\.warehouse\.password: environment variable WH_PASSWORD is not set \[ERR_CONFIG_SECRET_UNRESOLVED\]/);
});

test('serve refuses to start without a policy (fail closed)', async () => {
  const env = { ...process.env, WH_PASSWORD: 'x', CI_BOT_KEY: 'pcs_' + 'z'.repeat(43) };
  const r = await node(['serve', '--config', configFile(VALID.replace(/policy:\n  preset: read-only\n/, ''))], env);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no policy: section; refusing to start .*\[ERR_POLICY_MISSING\]/);
});

test('demo: starts, prints a working psql line, and stops cleanly on SIGINT', { timeout: 120000 }, async () => {
  const child = spawn(process.execPath, [BIN, 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`demo did not start: ${out}`)), 90000);
      child.stdout.on('data', () => {
        if (out.includes('Press Ctrl-C')) {
          clearTimeout(t);
          resolve();
        }
      });
      child.once('exit', () => reject(new Error(`demo exited: ${out}`)));
    });
    const line = /PGPASSWORD='(pcs_[\w-]+)' psql "([^"]+)"/.exec(out);
    assert.ok(line, out);
    const env = { ...process.env, PGPASSWORD: line[1] };
    const r = await run('psql', ['-X', '-A', '-t', '-d', line[2]!, '-c', 'SELECT count(*) FROM customers'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '500');
    const denied = await run('psql', ['-X', '-d', line[2]!, '-c', 'DELETE FROM orders'], { env });
    assert.match(denied.stderr, /permission denied by Portcullis policy/);

    // The Snowflake endpoint of the demo, with the snippet's settings: masked PII, DROP refused.
    const sfUrl = /accessUrl: '(http:\/\/127\.0\.0\.1:\d+)'/.exec(out);
    assert.ok(sfUrl, 'the demo prints a snowflake-sdk snippet');
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
    const sf = (await import('snowflake-sdk')).default;
    sf.configure({ logLevel: 'OFF' } as never);
    const c = sf.createConnection({ account: 'warehouse', accessUrl: sfUrl[1]!, username: 'analyst', password: line[1]! } as never);
    await new Promise<void>((ok, no) => c.connect((e) => (e ? no(e) : ok())));
    const exec = (sqlText: string) => new Promise<Record<string, unknown>[]>((ok, no) => c.execute({ sqlText, complete: (e, _s, rows) => (e ? no(e) : ok((rows ?? []) as Record<string, unknown>[])) }));
    const rows = await exec('SELECT full_name, ssn FROM customers WHERE ssn IS NOT NULL LIMIT 3');
    assert.equal(rows.length, 3);
    for (const r of rows) assert.match(String(r['SSN']), /^\*\*\*-\*\*-\d{4}$/);
    await assert.rejects(exec('DROP TABLE customers'), /Portcullis|policy|refused/i);
    await new Promise<void>((ok) => c.destroy(() => ok()));

    // An analyst's write waits in psql; the DBA approves it over the HTTP API; psql gets its result.
    const dbaKey = [...out.matchAll(/PGPASSWORD='(pcs_[\w-]+)'/g)][1]![1]!;
    const httpBase = /(http:\/\/127\.0\.0\.1:\d+)\/api\/approvals/.exec(out)![1]!;
    const held = run('psql', ['-X', '-d', line[2]!, '-c', "UPDATE orders SET status = 'cancelled' WHERE id = 1 RETURNING status"], { env, timeoutMs: 60000 });
    let id: string | undefined;
    for (let i = 0; i < 100 && !id; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const list = (await (await fetch(`${httpBase}/api/approvals?status=pending`, { headers: { authorization: `Bearer ${dbaKey}` } })).json()) as { approvals: { id: string }[] };
      id = list.approvals[0]?.id;
    }
    assert.ok(id, 'the held statement shows up as a pending request');
    const voted = await fetch(`${httpBase}/api/approvals/${id}/approve`, { method: 'POST', headers: { authorization: `Bearer ${dbaKey}`, 'content-type': 'application/json' }, body: '{"comment":"ok"}' });
    assert.equal(voted.status, 200);
    const done = await held;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /awaiting approval: request/);
    assert.match(done.stdout, /cancelled/);
  } finally {
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
    assert.match(out, /Stopped\./);
  }
});
