import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grantedScopes, groupsFrom, missingScopes, readClaim, toStringList } from '../../src/identity/claims.js';

test('readClaim follows dotted paths', () => {
  const c = { realm_access: { roles: ['admin', 'reader'] }, a: { b: { c: 'deep' } } };
  assert.deepEqual(readClaim(c, 'realm_access.roles'), ['admin', 'reader']);
  assert.equal(readClaim(c, 'a.b.c'), 'deep');
  assert.equal(readClaim(c, 'a.x'), undefined);
  assert.equal(readClaim(c, 'realm_access.roles.0'), undefined, 'arrays are leaves, not indexable');
});

test('readClaim matches claim names that contain dots (namespaced URLs) whole, longest first', () => {
  const c = {
    'https://example.com/groups': ['g1'],
    'https://example.com/app': { roles: 'r1 r2' },
    https: { 'example.com/groups': 'decoy' },
  };
  assert.deepEqual(readClaim(c, 'https://example.com/groups'), ['g1']);
  assert.equal(readClaim(c, 'https://example.com/app.roles'), 'r1 r2');
  assert.deepEqual(readClaim({ 'a.b': 1, a: { b: 2 } }, 'a.b'), 1);
});

test('groups: arrays or space-separated strings, deduplicated, with prefix; other types give none', () => {
  assert.deepEqual(toStringList('a  b c'), ['a', 'b', 'c']);
  assert.deepEqual(toStringList(['a', 3, '', 'b']), ['a', 'b']);
  assert.deepEqual(toStringList({ a: 1 }), []);
  assert.deepEqual(groupsFrom({ groups: ['x', 'x', 'y'] }, 'groups', 'ci:'), ['ci:x', 'ci:y']);
  assert.deepEqual(groupsFrom({}, 'groups', undefined), []);
});

test('scopes come from scope (string) and scp (array or string)', () => {
  assert.deepEqual([...grantedScopes({ scope: 'a b', scp: ['c'] })].sort(), ['a', 'b', 'c']);
  assert.deepEqual([...grantedScopes({ scp: 'd e' })].sort(), ['d', 'e']);
  assert.deepEqual(missingScopes({ scope: 'a' }, ['a', 'b']), ['b']);
  assert.deepEqual(missingScopes({}, []), []);
});
