import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { storeConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'portcullis-audit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

storeConformance('sqlite', {
  fresh: async () => ({ store: `sqlite:${join(dir, `audit-${++n}.db`)}` }),
});
