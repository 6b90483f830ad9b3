import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalsStoreTarget } from '../../src/approvals/open.js';
import { approvalsSchema } from '../../src/approvals/schema.js';
import { parseAuditConfig } from '../../src/audit/schema.js';
import { Secret } from '../../src/config/secret.js';

const approvals = (raw: unknown) => approvalsSchema.parse(raw);

test('approvals.store absent: approvals.db beside a SQLite audit file', () => {
  assert.deepEqual(approvalsStoreTarget(approvals({}), parseAuditConfig({ store: 'sqlite:/var/lib/portcullis/audit.db' })), { kind: 'sqlite', path: '/var/lib/portcullis/approvals.db' });
  assert.deepEqual(approvalsStoreTarget(approvals({}), undefined), { kind: 'sqlite', path: './data/approvals.db' });
});

test('approvals.store absent: the audit PostgreSQL database, its password and its schema', () => {
  const audit = parseAuditConfig({ store: new Secret('postgres://portcullis@db:5432/audit', 'env:AUDIT_URL'), password: 'audit-pw', schema: 'gw' });
  const t = approvalsStoreTarget(approvals({}), audit);
  assert.equal(t.kind, 'postgres');
  if (t.kind !== 'postgres') return;
  assert.equal(t.url, 'postgres://portcullis@db:5432/audit');
  assert.equal(t.password?.reveal(), 'audit-pw');
  assert.equal(t.schema, 'gw');
  // An explicit schema or password for approvals wins over the audit's.
  const own = approvalsStoreTarget(approvals({ schema: 'approvals', password: 'own-pw' }), audit);
  assert.ok(own.kind === 'postgres' && own.schema === 'approvals' && own.password?.reveal() === 'own-pw');
});

test('approvals.store set: sqlite:PATH or a postgres:// URL (schema portcullis unless named), whatever the audit store is', () => {
  const audit = parseAuditConfig({ store: 'postgres://portcullis@db/audit', schema: 'gw' });
  assert.deepEqual(approvalsStoreTarget(approvals({ store: 'sqlite:./state/approvals.db' }), audit), { kind: 'sqlite', path: './state/approvals.db' });
  const t = approvalsStoreTarget(approvals({ store: 'postgresql://approver@state-db/approvals' }), audit);
  assert.deepEqual(t, { kind: 'postgres', url: 'postgresql://approver@state-db/approvals', password: undefined, schema: 'portcullis' });
});

test('approvals.store rejects anything but sqlite:PATH and postgres://', () => {
  for (const store of ['mysql://x/y', 'sqlite:', './approvals.db']) assert.equal(approvalsSchema.safeParse({ store }).success, false, store);
  assert.equal(approvalsSchema.safeParse({ schema: 'Not-An-Identifier' }).success, false);
});
