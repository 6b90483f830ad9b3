/**
 * Window grants and the Slack-compatible webhook: once a reviewer approves a request whose rule
 * has `scope: window`, the requester's statements under the same rule run without asking until
 * the window closes — and only the requester's, only on that connection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { UUID, vote } from '../approvals/harness.js';

const KEYS = { agent: ['agents'], other: ['agents'], alice: ['dba'] };
let db: PgCluster;
let gw: TestGateway;
let receiver: Server;
const slack: { text?: string }[] = [];

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE tasks (id int PRIMARY KEY, done boolean NOT NULL DEFAULT false);
                 INSERT INTO tasks SELECT g, false FROM generate_series(1, 10) g;`);
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      slack.push(JSON.parse(body) as { text?: string });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  gw = await startTestGateway(db, {
    http: true,
    keys: KEYS,
    policy: {
      preset: 'read-only',
      rules: [{ name: 'task-updates', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'], mode: 'return', scope: 'window', window: '2m' } }],
    },
    extra: {
      approvals: { console_url: 'https://portcullis.example.test/console' },
      notifications: { webhooks: [{ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/slack`, secret: 'slack-test-secret', format: 'slack' }] },
    },
  });
});

after(async () => {
  await gw?.stop();
  receiver?.close();
  await db?.stop();
});

function post(key: keyof typeof KEYS, sql: string) {
  return fetch(`${gw.httpUrl}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.keys[key]}` },
    body: JSON.stringify({ connection: 'main', sql }),
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));
}

test('an approved window lets the requester run statements of the same rule until it closes', async () => {
  const first = await post('agent', 'UPDATE tasks SET done = true WHERE id = 1');
  assert.equal(first.status, 202);
  const id = first.json.request_id as string;
  assert.match(id, UUID);
  assert.equal((await vote(gw, 'alice', id, 'approve', 'go ahead for two minutes')).status, 200);
  // Different statements under the same rule now run without a new request.
  for (const n of [2, 3, 4]) {
    const r = await post('agent', `UPDATE tasks SET done = true WHERE id = ${n}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  assert.equal((await db.exec('SELECT count(*) FROM tasks WHERE done')).trim(), '3');
  // Someone else in the same group is not covered by the requester's window.
  const other = await post('other', 'UPDATE tasks SET done = true WHERE id = 9');
  assert.equal(other.status, 202);
  assert.equal((await db.exec('SELECT done FROM tasks WHERE id = 9')).trim(), 'f');
});

test('the Slack-format webhook carries a readable message linking to the console', async () => {
  for (let i = 0; i < 50 && slack.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(slack.length > 0, 'the Slack webhook was called');
  const text = slack.map((m) => m.text ?? '').join('\n');
  assert.match(text, /task-updates/);
  assert.match(text, /https:\/\/portcullis\.example\.test\/console/);
  assert.ok(!text.includes(gw.keys.agent!), 'no credential in the message');
});
