import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Recorder } from '../../src/audit/recorder.js';
import { openStore } from '../../src/audit/open-store.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { verifyStore } from '../../src/audit/verify.js';
import { auditCommand } from '../../src/cli/audit.js';
import { run } from '../helpers/run.js';
import { runCli } from './cli-harness.js';
import { allow, session } from './audit-fixtures.js';

const CHILD = join(import.meta.dirname, 'child-recorder.ts');

/** Runs the child in `burst` mode and SIGKILLs it right after its 200 acknowledgements. */
async function killAfterBurst(store: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'burst', store], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  let sessionId = '';
  let acked = false;
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString();
      const m = /^session (.+)$/m.exec(text);
      if (m) sessionId = m[1]!;
      if (/^ok 200$/m.test(text) && !acked) {
        acked = true;
        child.kill('SIGKILL');
      }
    });
  });
  assert.ok(acked, 'the child acknowledged its statements');
  return sessionId;
}

test('sqlite journal: acknowledged statements that never reached SQLite are replayed after SIGKILL; a torn last record is dropped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-journal-'));
  const path = join(dir, 'audit.db');
  const store = `sqlite:${path}`;
  try {
    const id = await killAfterBurst(store);
    const journal = `${path}-journal.pcj`;
    assert.ok(statSync(journal).size > 0, 'the journal holds what ingest never reached');
    const raw = new Database(path, { readonly: true });
    const inTables = raw.prepare("SELECT count(*) FROM events WHERE type = 'statement'").pluck().get() as number;
    raw.close();
    assert.equal(inTables, 0, 'ingest was held off, so only the journal has the statements');
    // A crash in the middle of a write leaves a record without its end: it was never acknowledged.
    appendFileSync(journal, '[999999,0,"statement","x",1,null,null,"allow","00","11"]\t{"seq":999');

    // The CLI (read-only) sees the journal's tail without writing anything.
    const config = parseAuditConfig({ store });
    const reader = openStore(config, { readOnly: true });
    try {
      const rows = await reader.sessionEvents([id], { types: ['statement'] });
      assert.equal(rows.length, 200);
      const v = await verifyStore(reader);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    } finally {
      await reader.close();
    }
    const cli = await runCli((io) => auditCommand(() => ({ audit: { store } }), io), ['verify', '-c', 'x.yaml']);
    assert.equal(cli.code, 0, cli.out + cli.err);

    // The next gateway replays the journal into the tables before anything else.
    const rec = await Recorder.open(config, { gateway: 'child' });
    try {
      const d = await rec.query.getSession(id, { limit: 1000 });
      assert.deepEqual(
        d?.statements.map((s) => s.statement.statement),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.equal(d?.end?.reason, 'gateway-restart');
      const v = await verifyStore(rec.store);
      assert.equal(v.ok, true, JSON.stringify(v.problems));
    } finally {
      await rec.close();
    }
    assert.ok(!existsSync(journal), 'a cleanly closed store leaves no journal');
    const after = new Database(path, { readonly: true });
    assert.equal(after.prepare("SELECT count(*) FROM events WHERE type = 'statement'").pluck().get(), 200);
    after.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite journal: a journal that cannot be written makes statements fail closed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-journal-'));
  try {
    const path = join(dir, 'audit.db');
    mkdirSync(`${path}-journal.pcj`);
    const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${path}` }), { gateway: 'gw' });
    const s = session();
    assert.throws(
      () => rec.statement(s, 'SELECT 1', allow()),
      (e: Error & { code?: string }) => e.code === 'ERR_AUDIT_UNAVAILABLE' && /journal\.pcj/.test(e.message),
    );
    await rec.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sqlite journal: a second process on the same file is refused at start, naming PostgreSQL for several gateways', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-journal-'));
  const store = `sqlite:${join(dir, 'audit.db')}`;
  const rec = await Recorder.open(parseAuditConfig({ store }), { gateway: 'gw' });
  try {
    const r = await run(process.execPath, ['--import', 'tsx', CHILD, 'one', store], { timeoutMs: 60_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /another gateway is already writing the audit store/);
    assert.match(r.stderr, /PostgreSQL/);
    // In one process too: a second store on the file would fork the chain.
    assert.throws(() => openStore(parseAuditConfig({ store })), /another gateway/);
    const s = session();
    await rec.statement(s, 'SELECT 1', allow());
  } finally {
    await rec.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
