import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../src/errors/catalog.js';

test('docs/errors.md documents exactly the codes in the catalog', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const documented = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\w{5}) \| (\d{3}) \|/gm)].map((m) => [m[1], m[2], Number(m[3])]);
  const catalog = Object.entries(ERRORS).map(([k, v]) => [k, v.sqlstate, v.http]);
  assert.deepEqual(documented.sort(), catalog.sort());
});

test('every SQLSTATE is five characters of the allowed alphabet', () => {
  for (const [code, e] of Object.entries(ERRORS)) assert.match(e.sqlstate, /^[0-9A-Z]{5}$/, code);
});
