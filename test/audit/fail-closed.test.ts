import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { allow, deny, session } from './audit-fixtures.js';
import { run } from '../helpers/run.js';

test('a store that cannot be created refuses allowed statements with ERR_AUDIT_UNAVAILABLE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  try {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${join(dir, 'not-a-dir', 'audit.db')}` }), { gateway: 'gw' });
    const s = session();
    rec.onSessionStart(s);
    assert.throws(
      () => rec.statement(s, 'SELECT 1', allow()),
      (e: Error & { code?: string }) => e.code === 'ERR_AUDIT_UNAVAILABLE' && /cannot open/.test(e.message),
    );
    // A denied statement never reaches the database, so recording it cannot block anything.
    assert.doesNotThrow(() => rec.statement(s, 'DELETE FROM t', deny()));
    await rec.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on_failure: allow lets statements through when the store is down', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
  try {
    writeFileSync(join(dir, 'f'), '');
    const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${join(dir, 'f', 'audit.db')}`, on_failure: 'allow' }), { gateway: 'gw' });
    const s = session();
    const cap = rec.statement(s, 'SELECT 1', allow());
    assert.ok(!(cap instanceof Promise));
    cap.complete('SELECT 1');
    await rec.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a read-only store refuses statements (as an unprivileged user)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-ro-'));
  try {
    const path = join(dir, 'audit.db');
    const setup = new Recorder(parseAuditConfig({ store: `sqlite:${path}` }), { gateway: 'setup' });
    await setup.close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    if (process.getuid?.() !== 0) {
      const r = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child-recorder.ts'), 'one', `sqlite:${path}`], { timeoutMs: 30000 });
      assert.equal(r.stdout.trim(), 'refused ERR_AUDIT_UNAVAILABLE', r.stderr);
      return;
    }
    // Root ignores file modes; drop to `nobody` so the modes mean something.
    try {
      accessSync(join(import.meta.dirname, 'child-recorder.ts'), constants.R_OK);
    } catch {
      t.skip('the test tree is not readable');
      return;
    }
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child-recorder.ts'), 'one', `sqlite:${path}`], {
        uid: 65534,
        gid: 65534,
        cwd: join(import.meta.dirname, '..', '..'),
        env: { ...process.env, TSX_DISABLE_CACHE: '1', HOME: dir },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    if (/EACCES|permission denied/i.test(out.stderr) && !out.stdout) {
      t.skip(`nobody cannot run node from this tree: ${out.stderr.split('\n')[0]}`);
      return;
    }
    assert.equal(out.stdout.trim(), 'refused ERR_AUDIT_UNAVAILABLE', out.stderr);
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
});
