// Child process for the SIGKILL and read-only tests: records statements and reports each one
// on stdout only after recorder.statement() returned, i.e. after it was durable.
import Database from 'better-sqlite3';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { allow, session } from './audit-fixtures.js';

const [mode, store] = process.argv.slice(2);
const rec = new Recorder(parseAuditConfig({ store }), { gateway: 'child' });
const s = session('child-agent');
rec.onSessionStart(s);
if (mode === 'one') {
  try {
    await rec.statement(s, 'SELECT 1', allow());
    process.stdout.write('recorded\n');
  } catch (e) {
    process.stdout.write(`refused ${(e as { code?: string }).code}\n`);
  }
  process.exit(0);
}
if (mode === 'burst') {
  // Ingest is held off by a writer that never commits, so every acknowledged statement is in
  // the journal only when the parent kills this process.
  const blocker = new Database(store!.slice('sqlite:'.length));
  blocker.exec('BEGIN IMMEDIATE');
  process.stdout.write(`session ${s.id}\n`);
  for (let i = 1; i <= 200; i++) {
    const cap = await rec.statement(s, `SELECT ${i}`, allow());
    cap.complete('SELECT 1');
  }
  process.stdout.write('ok 200\n');
  setInterval(() => {}, 1000);
} else {
process.stdout.write(`session ${s.id}\n`);
for (let i = 1; ; i++) {
  const cap = await rec.statement(s, `SELECT ${i}`, allow());
  process.stdout.write(`ok ${i}\n`);
  cap.columns(['n']);
  cap.row([String(i)]);
  cap.complete('SELECT 1');
  // Yield so the parent's SIGKILL lands between, and during, writes.
  if (i % 50 === 0) await new Promise((r) => setImmediate(r));
}
}
