import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceKeyStore, generateServiceKey, hashServiceKey, KEY_PATTERN, HASH_PATTERN } from '../../src/identity/service-keys.js';
import { createIdentifier } from '../../src/identity/identifier.js';
import { identitiesSchema } from '../../src/identity/schema.js';
import { Secret } from '../../src/config/secret.js';
import { refused } from './refusal.js';

const client = { address: '127.0.0.1', frontend: 'http', tls: true } as const;
const NOW = Date.parse('2026-06-01T00:00:00Z');

function identities(keys: unknown[]) {
  return identitiesSchema.parse({ keys });
}

test('generated keys have the pcs_ format and hash to sha256:<hex>', () => {
  const a = generateServiceKey();
  const b = generateServiceKey();
  assert.match(a, KEY_PATTERN);
  assert.equal(a.length, 4 + 43);
  assert.notEqual(a, b);
  assert.match(hashServiceKey(a), HASH_PATTERN);
  assert.equal(hashServiceKey(a), hashServiceKey(a));
});

test('a configured key (by hash) becomes a principal', async () => {
  const key = generateServiceKey();
  const cfg = identities([{ name: 'ci-bot', groups: ['analysts'], hash: hashServiceKey(key), expires: '2027-01-01' }]);
  const p = await createIdentifier(cfg, { now: () => NOW }).authenticate(key, client);
  assert.deepEqual(p, {
    subject: 'key:ci-bot',
    groups: ['analysts'],
    issuer: 'portcullis:keys',
    authMethod: 'service-key',
    tokenId: 'ci-bot',
    expiresAt: Date.parse('2027-01-01T00:00:00Z'),
  });
});

test('a key given as secret: is hashed at load and works', async () => {
  const key = generateServiceKey();
  const cfg = identities([{ name: 'etl', secret: new Secret(key, 'env:ETL_KEY') }]);
  const store = new ServiceKeyStore(cfg.keys);
  assert.equal(store.verify(key).subject, 'key:etl');
  assert.equal(store.verify(key).expiresAt, undefined);
});

test('revoked, expired, unknown and malformed keys are refused with the same client message', async () => {
  const revoked = generateServiceKey();
  const expired = generateServiceKey();
  const unknown = generateServiceKey();
  const cfg = identities([
    { name: 'old-bot', hash: hashServiceKey(revoked), revoked: true },
    { name: 'temp-bot', hash: hashServiceKey(expired), expires: '2026-05-31T23:59:59Z' },
  ]);
  const id = createIdentifier(cfg, { now: () => NOW });
  const r = await refused(id.authenticate(revoked, client), 'ERR_AUTH_FAILED', [revoked]);
  const e = await refused(id.authenticate(expired, client), 'ERR_AUTH_FAILED', [expired]);
  const u = await refused(id.authenticate(unknown, client), 'ERR_AUTH_FAILED', [unknown]);
  const m = await refused(id.authenticate('pcs_short', client), 'ERR_AUTH_FAILED', ['pcs_short']);
  // The client learns nothing about which keys exist; the gateway log learns why.
  assert.equal(r.message, u.message);
  assert.equal(e.message, u.message);
  assert.equal(m.message, u.message);
  assert.ok(!r.message.includes('old-bot') && !e.message.includes('temp-bot'));
  assert.match(r.logReason!, /old-bot is revoked/);
  assert.match(e.logReason!, /temp-bot expired/);
  assert.match(u.logReason!, /not configured/);
});

test('a key is valid until the instant it expires', () => {
  const key = generateServiceKey();
  const expires = new Date(NOW + 1000);
  let now = NOW;
  const store = new ServiceKeyStore(identities([{ name: 'k', hash: hashServiceKey(key), expires: expires.toISOString() }]).keys, () => now);
  assert.equal(store.verify(key).subject, 'key:k');
  now = NOW + 1000;
  assert.throws(() => store.verify(key), { code: 'ERR_AUTH_FAILED' });
});

test('the same key configured twice is a config error that names the entries, not the key', () => {
  const key = generateServiceKey();
  assert.throws(
    () => new ServiceKeyStore(identities([{ name: 'a', hash: hashServiceKey(key) }, { name: 'b', secret: key }]).keys),
    (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_INVALID' && /a and b/.test(e.message) && !e.message.includes(key),
  );
});

test('schema: secret must be a pcs_ key, hash must be sha256:<hex>, and the value is never echoed', () => {
  const weak = 'hunter2-password';
  const r1 = identitiesSchema.safeParse({ keys: [{ name: 'a', secret: weak }] });
  assert.equal(r1.success, false);
  assert.ok(!JSON.stringify(r1.error!.issues).includes(weak));
  assert.equal(identitiesSchema.safeParse({ keys: [{ name: 'a', hash: 'md5:abc' }] }).success, false);
  assert.equal(identitiesSchema.safeParse({ keys: [{ name: 'a' }] }).success, false);
  const key = generateServiceKey();
  assert.equal(identitiesSchema.safeParse({ keys: [{ name: 'a', secret: key, hash: hashServiceKey(key) }] }).success, false);
  assert.equal(identitiesSchema.safeParse({ keys: [{ name: 'a', hash: hashServiceKey(key) }, { name: 'a', hash: hashServiceKey(generateServiceKey()) }] }).success, false);
});
