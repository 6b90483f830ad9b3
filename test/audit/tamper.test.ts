import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { Secret } from '../../src/config/secret.js';
import { eventHash } from '../../src/audit/chain.js';
import { auditCommand } from '../../src/cli/audit.js';
import { allow, deny, frozenClock, session, settle } from './audit-fixtures.js';
import { runCli } from './cli-harness.js';

/**
 * Someone with write access to the SQLite file edits it; `portcullis audit verify` must notice
 * and name the event. One pristine recording, copied for each kind of tampering.
 */
const dir = mkdtempSync(join(tmpdir(), 'portcullis-tamper-'));
const pristine = join(dir, 'pristine.db');
const keys = generateKeyPairSync('ed25519');
const keyPem = keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const pubFile = join(dir, 'audit.pub.pem');
let copies = 0;

before(async () => {
  writeFileSync(pubFile, keys.publicKey.export({ format: 'pem', type: 'spki' }).toString());
  const clock = frozenClock();
  const rec = await Recorder.open(parseAuditConfig({ store: `sqlite:${pristine}`, signing_key: new Secret(keyPem, 'file:k.pem'), checkpoint_every: 5 }), { now: clock.now, gateway: 'gw' });
  for (const who of ['alice', 'bob']) {
    const s = session(who);
    rec.onSessionStart(s);
    for (let i = 0; i < 6; i++) {
      clock.advance(100);
      const cap = await settle(rec.statement(s, `SELECT ${i} FROM orders`, i === 5 ? deny() : allow()));
      cap.columns(['n']);
      cap.row([String(i)]);
      cap.complete('SELECT 1');
    }
    rec.onSessionEnd(s, 'client-closed');
  }
  await rec.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function seqOf(where: string): number {
  const db = new Database(pristine, { readonly: true });
  try {
    return (db.prepare(`SELECT min(seq) AS seq FROM events WHERE ${where}`).get() as { seq: number }).seq;
  } finally {
    db.close();
  }
}

function tampered(edit: (db: Database.Database) => void): string {
  const path = join(dir, `copy-${++copies}.db`);
  copyFileSync(pristine, path);
  const db = new Database(path);
  edit(db);
  db.close();
  return path;
}

async function verify(path: string, withKey = false) {
  const loadConfig = () => ({ audit: { store: `sqlite:${path}`, checkpoint_every: 5 } });
  return runCli((io) => auditCommand(loadConfig, io), ['verify', '-c', 'cfg.yaml', ...(withKey ? ['--public-key', pubFile] : [])]);
}

test('the untouched recording verifies, with and without the key', async () => {
  const plain = await verify(pristine);
  assert.equal(plain.code, 0, plain.out + plain.err);
  assert.match(plain.out, /^ok: /m);
  const signed = await verify(pristine, true);
  assert.equal(signed.code, 0, signed.out);
  assert.match(signed.out, /signed checkpoints verified/);
});

test('an UPDATEd statement is named', async () => {
  const seq = seqOf("type = 'statement' AND body LIKE '%SELECT 2 FROM orders%'");
  const path = tampered((db) => db.prepare(`UPDATE events SET body = replace(body, 'SELECT 2 FROM orders', 'SELECT 2 FROM invoices') WHERE seq = ?`).run(seq));
  const r = await verify(path);
  assert.equal(r.code, 1);
  assert.match(r.out, new RegExp(`TAMPERED seq ${seq} \\[edited\\]: event ${seq}: content does not match its hash`));
  assert.equal(r.out.split('TAMPERED').length - 1, 1, 'only the edited event is named');
});

test('an index column edited to hide a row from queries is named', async () => {
  const path = tampered((db) => db.prepare(`UPDATE events SET subject = 'carol' WHERE type = 'statement' AND seq = 4`).run());
  const r = await verify(path);
  assert.equal(r.code, 1);
  assert.match(r.out, /TAMPERED seq 4 \[index-mismatch\]: .*subject/);
});

test('a DELETEd event is named', async () => {
  const path = tampered((db) => db.prepare('DELETE FROM events WHERE seq = 7').run());
  const r = await verify(path);
  assert.equal(r.code, 1);
  assert.match(r.out, /TAMPERED seq 7 \[deleted\]: event 7 is missing/);
});

test('two events with swapped seq are named', async () => {
  const path = tampered((db) => {
    db.prepare('UPDATE events SET seq = -1 WHERE seq = 4').run();
    db.prepare('UPDATE events SET seq = 4 WHERE seq = 5').run();
    db.prepare('UPDATE events SET seq = 5 WHERE seq = -1').run();
  });
  const r = await verify(path);
  assert.equal(r.code, 1);
  assert.match(r.out, /TAMPERED seq 4 \[reordered\]/);
  assert.match(r.out, /TAMPERED seq 5 \[reordered\]/);
});

test('a forged INSERTed event is named', async () => {
  const path = tampered((db) => {
    const last = db.prepare('SELECT * FROM events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string; body: string };
    const body = last.body.replace(/"seq":\d+/, `"seq":${last.seq + 1}`).replace('client-closed', 'gateway-restart');
    // A forger who does not chain it properly…
    db.prepare('INSERT INTO events (seq, time_ms, type, session, prev_hash, hash, body) SELECT seq + 1, time_ms, type, session, ?, ?, ? FROM events WHERE seq = ?').run('f'.repeat(64), 'e'.repeat(64), body, last.seq);
  });
  const r = await verify(path);
  assert.equal(r.code, 1);
  assert.match(r.out, /TAMPERED seq \d+ \[(edited|broken-link)\]/);
});

test('a rewritten chain passes the hash check but not the signed checkpoints', async () => {
  const path = tampered((db) => {
    // Edit event 3, then recompute every hash after it: a consistent, forged chain.
    const info = db.prepare(`UPDATE events SET body = replace(body, 'SELECT 0 FROM orders', 'SELECT 0 FROM nothing') WHERE seq = ?`).run(seqOf("type = 'statement' AND body LIKE '%SELECT 0 FROM orders%'"));
    assert.equal(info.changes, 1);
    const rows = db.prepare('SELECT seq, prev_hash, body FROM events ORDER BY seq').all() as { seq: number; prev_hash: string; body: string }[];
    let prev = rows[0]!.prev_hash;
    const upd = db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?');
    // …and the checkpoints' hashes too; what the forger cannot redo is the signatures.
    const cp = db.prepare('UPDATE checkpoints SET hash = ? WHERE seq = ?');
    for (const row of rows) {
      const h = eventHash(prev, row.body);
      upd.run(prev, h, row.seq);
      cp.run(h, row.seq);
      prev = h;
    }
  });
  const withKey = await verify(path, true);
  assert.equal(withKey.code, 1, withKey.out);
  assert.match(withKey.out, /TAMPERED seq \d+ \[bad-signature\]: checkpoint at seq \d+ does not carry a valid signature/);
  assert.equal((await verify(path)).code, 0, 'without the key a recomputed chain is self-consistent: the reason to sign');
  // Also re-signing is impossible; dropping the checkpoints instead leaves an unsigned tail.
  const dropped = tampered((db) => db.prepare('DELETE FROM checkpoints').run());
  const d = await verify(dropped, true);
  assert.equal(d.code, 1);
  assert.match(d.out, /\[unsigned-tail\]/);
});
