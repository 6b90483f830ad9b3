import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { verifyStore } from '../../src/audit/verify.js';

test('SIGKILL loses no statement whose recording had returned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-kill-'));
  const store = `sqlite:${join(dir, 'audit.db')}`;
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child-recorder.ts'), 'loop', store], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    let last = 0;
    let sessionId = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', () => resolve());
      child.stdout.on('data', (b: Buffer) => {
        text += b.toString();
        const lines = text.split('\n');
        text = lines.pop()!;
        for (const l of lines) {
          if (l.startsWith('session ')) sessionId = l.slice(8);
          else if (l.startsWith('ok ')) last = Number(l.slice(3));
        }
        if (last >= 500 && !child.killed) child.kill('SIGKILL');
      });
    });
    assert.ok(last >= 500);
    const rec = await Recorder.open(parseAuditConfig({ store }), { gateway: 'child' });
    try {
      const d = await rec.query.getSession(sessionId, { limit: 10_000 });
      assert.ok(d, 'the session was recorded');
      const numbers = d.statements.map((s) => s.statement.statement);
      assert.ok(numbers.length >= last, `reported ${last} durable, found ${numbers.length}`);
      assert.deepEqual(numbers.slice(0, last), Array.from({ length: last }, (_, i) => i + 1));
      assert.equal(d.end?.reason, 'gateway-restart', 'the open session was closed on restart');
      const v = await verifyStore(rec.store);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    } finally {
      await rec.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
