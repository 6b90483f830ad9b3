import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgCluster } from '../helpers/pg-cluster.js';
import { Secret } from '../../src/config/secret.js';
import { Recorder } from '../../src/audit/recorder.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { storeConformance } from './store-conformance.js';
import { allow, session } from './audit-fixtures.js';

let pg: PgCluster;
before(async () => {
  pg = await startPostgres({ auth: 'scram-sha-256' });
});
after(async () => {
  await pg?.stop();
});

let n = 0;
// Each case gets its own schema in one real server: fresh tables, no cross-talk.
storeConformance('postgres', {
  fresh: async () => ({ store: pg.url('postgres', 'postgres').replace(/:[^:@/]*@/, '@'), password: new Secret(pg.password, 'env:TEST'), schema: `audit_${++n}` }),
});

test('postgres: concurrent statements are group-committed into few round trips', async () => {
  const rec = await Recorder.open(parseAuditConfig({ store: pg.url(), schema: 'audit_group' }), { gateway: 'gw-1' });
  try {
    const s = session();
    rec.onSessionStart(s);
    await rec.statement(s, 'SELECT 0', allow());
    const before = Number(await pg.exec("select xact_commit from pg_stat_database where datname = 'postgres'"));
    await Promise.all(Array.from({ length: 200 }, (_, i) => rec.statement(s, `SELECT ${i}`, allow())));
    const after = Number(await pg.exec("select xact_commit from pg_stat_database where datname = 'postgres'"));
    // pg_stat counters are flushed lazily, so this is an upper bound check, not an exact count.
    assert.ok(after - before < 100, `200 statements took ${after - before} commits`);
    assert.equal((await rec.store.sessionEvents([s.id], { types: ['statement'] })).length, 201);
  } finally {
    await rec.close();
  }
});

test('postgres: an unreachable store fails closed, and the password never appears in the error', async () => {
  const rec = await Recorder.open(parseAuditConfig({ store: 'postgres://portcullis@127.0.0.1:1/audit', password: 'hunter2-secret' }), { gateway: 'gw-1' });
  try {
    const s = session();
    rec.onSessionStart(s);
    await assert.rejects(
      async () => rec.statement(s, 'SELECT 1', allow()),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'ERR_AUDIT_UNAVAILABLE');
        assert.ok(!e.message.includes('hunter2'));
        return true;
      },
    );
  } finally {
    await rec.close().catch(() => {});
  }
});
