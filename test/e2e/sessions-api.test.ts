/**
 * The recordings as paginated JSON over HTTP (`GET /api/v1/sessions`, `/api/v1/sessions/{id}`):
 * sessions recorded through pg are listed, filtered and paged; one session comes back with its
 * statements and masked results; only audit readers get in, and every read is itself recorded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let db: PgCluster;
let gw: TestGateway;

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE people (id int PRIMARY KEY, name text, email text);
                 INSERT INTO people VALUES (1, 'Ada', 'ada@example.com'), (2, 'Bo', 'bo@example.com');`);
  gw = await startTestGateway(db, {
    keys: { analyst: ['analysts'], auditor: ['auditors'] },
    policy: { preset: 'read-only' },
    http: true,
    extra: {
      audit: { store: `sqlite:${join(mkdtempSync(join(tmpdir(), 'portcullis-audit-')), 'audit.db')}`, readers: ['auditors'] },
      masking: { columns: [{ match: 'public.people.email', strategy: 'redact' }] },
    },
  });
  for (let i = 0; i < 3; i++) {
    const c = new pg.Client({ ...gw.pgConfig('analyst'), application_name: `sessions-api-${i}` });
    await c.connect();
    await c.query('SELECT id, name, email FROM people ORDER BY id');
    if (i === 2) await c.query('DELETE FROM people').catch(() => {});
    await c.end();
  }
  // Results and session ends are written in batches; give the batch a moment.
  await new Promise((r) => setTimeout(r, 300));
});
after(async () => {
  await gw?.stop();
  await db?.stop();
});

function get(path: string, key = 'auditor'): Promise<Response> {
  return fetch(`${gw.httpUrl}${path}`, { headers: { authorization: `Bearer ${gw.keys[key]}` } });
}

describe('GET /api/v1/sessions', () => {
  test('lists recorded sessions newest first, filtered and paged by cursor', async () => {
    const r1 = await get('/api/v1/sessions?user=key:analyst&limit=2');
    assert.equal(r1.status, 200);
    const p1 = (await r1.json()) as { sessions: { id: string; subject: string; applicationName: string }[]; next_cursor: string | null };
    assert.equal(p1.sessions.length, 2);
    assert.ok(p1.next_cursor);
    assert.ok(p1.sessions.every((s) => s.subject === 'key:analyst'));
    const p2 = (await (await get(`/api/v1/sessions?user=key:analyst&limit=2&cursor=${p1.next_cursor}`)).json()) as typeof p1;
    const ids = [...p1.sessions, ...p2.sessions].map((s) => s.id);
    assert.equal(new Set(ids).size, ids.length, 'pages do not repeat sessions');
    assert.ok(ids.length >= 3);
    const denied = (await (await get('/api/v1/sessions?decision=deny')).json()) as typeof p1;
    assert.deepEqual(
      denied.sessions.map((s) => s.applicationName),
      ['sessions-api-2'],
    );
  });

  test('one session: statements, decisions and results as the client received them (masked)', async () => {
    const list = (await (await get('/api/v1/sessions?decision=deny')).json()) as { sessions: { id: string }[] };
    const r = await get(`/api/v1/sessions/${list.sessions[0]!.id}`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.ok(!text.includes('ada@example.com'), 'no raw PII in the API');
    const d = JSON.parse(text) as { statements: { statement: { sql: string; decision: { action: string } }; result: { rows: unknown[][] } | null }[]; next_statement: number | null };
    assert.deepEqual(
      d.statements.map((s) => [s.statement.sql, s.statement.decision.action]),
      [
        ['SELECT id, name, email FROM people ORDER BY id', 'allow'],
        ['DELETE FROM people', 'deny'],
      ],
    );
    assert.deepEqual(d.statements[0]!.result!.rows[0], ['1', 'Ada', '****']);
    assert.equal(d.next_statement, null);
  });

  test('only audit readers; unknown ids, bad filters and other methods are clean errors', async () => {
    assert.equal((await get('/api/v1/sessions', 'analyst')).status, 403);
    assert.equal((await fetch(`${gw.httpUrl}/api/v1/sessions`)).status, 401);
    assert.equal((await get('/api/v1/sessions/00000000-0000-0000-0000-000000000000')).status, 404);
    assert.equal((await get('/api/v1/sessions/..%2f..%2fetc')).status, 404);
    assert.equal((await get('/api/v1/sessions?decision=maybe')).status, 400);
    assert.equal((await get('/api/v1/sessions?limit=100000')).status, 400);
    assert.equal((await get('/api/v1/sessions?since=yesterday-ish')).status, 400);
    const post = await fetch(`${gw.httpUrl}/api/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${gw.keys['auditor']}` } });
    assert.equal(post.status, 405);
  });

  test('reads of recordings are themselves in the audit log', async () => {
    const list = (await (await get('/api/v1/sessions?decision=deny')).json()) as { sessions: { id: string }[] };
    const id = list.sessions[0]!.id;
    await get(`/api/v1/sessions/${id}`);
    await new Promise((r) => setTimeout(r, 300));
    const rows = await gw.gateway.recorder!.store.sessionEvents([id], { types: ['action'] });
    const actions = rows.map((r) => JSON.parse(r.body) as { action: string; actor: { subject: string } });
    assert.ok(actions.some((a) => a.action === 'api.sessions.view' && a.actor.subject === 'key:auditor'));
  });
});
