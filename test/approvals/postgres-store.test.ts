import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { Secret } from '../../src/config/secret.js';
import { PostgresApprovalStore } from '../../src/approvals/postgres-store.js';
import { approvalStoreConformance } from './store-conformance.js';

let pg: PgCluster;
before(async () => {
  pg = await startPostgres({ auth: 'scram-sha-256' });
});
after(async () => {
  await pg?.stop();
});

/** The URL without its password: the password travels as a Secret, as `approvals.password` does. */
const bareUrl = (): string => pg.url('postgres', 'postgres').replace(/:[^:@/]*@/, '@');

let n = 0;
// Each case gets its own schema in one real server: fresh tables, no cross-talk.
approvalStoreConformance('postgres', {
  fresh: async () => {
    const schema = `approvals_${++n}`;
    return { open: () => new PostgresApprovalStore({ url: bareUrl(), password: new Secret(pg.password, 'env:TEST'), schema }) };
  },
});

test('postgres: gateways starting together create the tables once, without tripping over each other', async () => {
  const stores = Array.from({ length: 6 }, () => new PostgresApprovalStore({ url: pg.url(), schema: 'approvals_together' }));
  try {
    const lists = await Promise.all(stores.map((s) => s.list(undefined, 10)));
    assert.deepEqual(lists, Array.from({ length: 6 }, () => []));
    assert.equal(await pg.exec("select count(*) from pg_tables where schemaname = 'approvals_together'"), '2\n');
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test('postgres: an unreachable store refuses with ERR_APPROVALS_UNAVAILABLE, and the password never appears', async () => {
  const store = new PostgresApprovalStore({ url: 'postgres://portcullis@127.0.0.1:1/approvals', password: new Secret('hunter2-secret', 'env:TEST'), schema: 'portcullis' });
  try {
    for (const op of [() => store.get('x'), () => store.spendGrant('fp', 0), () => store.abandonHeld('gw', 0)]) {
      await assert.rejects(op(), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ERR_APPROVALS_UNAVAILABLE');
        assert.match(e.message, /approvals store postgres:\/\/portcullis@127\.0\.0\.1:1\/approvals/);
        assert.ok(!e.message.includes('hunter2'));
        return true;
      });
    }
  } finally {
    await store.close();
  }
});
