/**
 * Approvals live in their own store beside the audit log and survive a restart: a held
 * statement whose session the restart ended shows as abandoned, a return-mode request is still
 * pending and can be approved on the new gateway, whose retry then runs once. The CLI decides
 * through the HTTP API with the token from PORTCULLIS_TOKEN.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Command } from 'commander';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.js';
import { approvalsCommand, type ApprovalsCliIo } from '../../src/cli/approvals.js';
import { api, pendingFor, UUID } from '../approvals/harness.js';

let db: PgCluster;
const dir = mkdtempSync(join(tmpdir(), 'portcullis-approvals-'));

function options(): TestGatewayOptions {
  return {
    http: true,
    keys: { agent: ['agents'], alice: ['dba'] },
    policy: {
      preset: 'read-only',
      rules: [
        { name: 'return-orders', what: { kinds: ['write'], tables: ['orders'] }, action: 'review', review: { approvers: ['dba'], mode: 'return' } },
        { name: 'hold-writes', what: { kinds: ['write'] }, action: 'review', review: { approvers: ['dba'] } },
      ],
    },
    extra: { audit: { store: `sqlite:${join(dir, 'audit.db')}` }, approvals: {} },
  };
}

before(async () => {
  db = await startPostgres();
  await db.exec(`CREATE TABLE orders (id int PRIMARY KEY, state text NOT NULL); INSERT INTO orders VALUES (1, 'open');
                 CREATE TABLE notes (id serial PRIMARY KEY, body text);`);
});

after(async () => {
  await db?.stop();
});

async function cli(gw: TestGateway, key: string, args: string[]): Promise<{ out: string; code: number; err: string }> {
  let out = '';
  let code = 0;
  const io: ApprovalsCliIo = { out: (t) => void (out += t), exit: (c) => void (code = c), env: { PORTCULLIS_TOKEN: gw.keys[key] } };
  const cmd: Command = approvalsCommand(() => ({}), io);
  try {
    await cmd.parseAsync([...args, '--url', gw.httpUrl!], { from: 'user' });
  } catch (e) {
    return { out, code: 3, err: (e as Error).message };
  }
  return { out, code, err: '' };
}

test('restart: a lost hold is abandoned; a return-mode request survives, is approved by the CLI and runs once', async () => {
  const first = await startTestGateway(db, options());
  const agent = new pg.Client(first.pgConfig('agent'));
  agent.on('error', () => undefined);
  await agent.connect();
  const held = agent.query("INSERT INTO notes (body) VALUES ('held across a restart')").then(
    () => 'ran',
    (e: { message: string }) => e.message,
  );
  const holdReq = await pendingFor(first, 'alice', "INSERT INTO notes (body) VALUES ('held across a restart')");
  const returnSql = "UPDATE orders SET state = 'closed' WHERE id = 1";
  const other = new pg.Client(first.pgConfig('agent'));
  await other.connect();
  const refused = await other.query(returnSql).then(
    () => assert.fail('ran without approval'),
    (e: { message: string }) => e.message,
  );
  await other.end();
  const returnId = UUID.exec(refused)![0];
  const listed = await cli(first, 'alice', ['list']);
  assert.equal(listed.code, 0);
  assert.match(listed.out, new RegExp(`${returnId}  pending  key:agent  main  return-orders  UPDATE orders`));
  await first.stop();
  // The shutdown closes the connection; the statement never ran.
  assert.notEqual(await held, 'ran');
  await agent.end().catch(() => undefined);

  const second = await startTestGateway(db, options());
  try {
    assert.equal((await api(second, 'alice', `/api/approvals/${holdReq.id}`)).json.status, 'abandoned');
    const shown = await cli(second, 'alice', ['show', returnId]);
    assert.match(shown.out, /requester {3}key:agent \[agents\]/);
    assert.match(shown.out, /estimate {4}1 row\(s\)/);
    const self = await cli(second, 'agent', ['approve', returnId]);
    assert.equal(self.code, 3);
    assert.match(self.err, /403: you cannot decide your own request/);
    const ok = await cli(second, 'alice', ['approve', returnId, '--comment', 'after the restart']);
    assert.equal(ok.out, `${returnId}: approved\n`);
    const c = new pg.Client(second.pgConfig('agent'));
    await c.connect();
    try {
      assert.equal((await c.query(returnSql)).rowCount, 1);
      await assert.rejects(c.query(returnSql), /Approval requested/);
    } finally {
      await c.end();
    }
    const late = await cli(second, 'alice', ['deny', holdReq.id]);
    assert.match(late.err, /409: request .* is abandoned/);
  } finally {
    await second.stop();
  }
});
