import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteApprovalStore } from '../../src/approvals/sqlite-store.js';
import { approvalStoreConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-approvals-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

approvalStoreConformance('sqlite', {
  fresh: async () => {
    const path = join(dir, `approvals-${++n}.db`);
    return { open: () => new SqliteApprovalStore(path) };
  },
});

test('sqlite: a store it cannot read or write refuses with ERR_APPROVALS_UNAVAILABLE', async () => {
  const path = join(dir, `approvals-${++n}.db`);
  const store = new SqliteApprovalStore(path);
  await store.close();
  for (const op of [() => store.get('x'), () => store.spendGrant('fp', 0), () => store.abandonHeld('gw', 0)]) {
    await assert.rejects(op(), (e: Error & { code?: string }) => e.code === 'ERR_APPROVALS_UNAVAILABLE' && e.message.includes(path));
  }
});
