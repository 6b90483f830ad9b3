import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identitiesSchema } from '../../src/identity/schema.js';
import { parseConfig } from '../../src/config/load.js';

const base = { issuer: 'https://idp.example.com/', audience: 'portcullis' };
const issues = (v: unknown) => {
  const r = identitiesSchema.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('defaults follow the issue', () => {
  const ids = identitiesSchema.parse({ oidc: [base] });
  const o = ids.oidc[0]!;
  assert.equal(o.discovery, true);
  assert.deepEqual(o.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
  assert.equal(o.clock_skew, 30);
  assert.equal(o.subject_claim, 'sub');
  assert.equal(o.groups_claim, 'groups');
  assert.equal(o.allow_http, false);
  assert.deepEqual(identitiesSchema.parse(undefined), { keys: [], oidc: [] });
});

test('none and HMAC algorithms are refused in config', () => {
  for (const alg of ['none', 'HS256', 'hs512']) {
    assert.match(issues({ oidc: [{ ...base, algorithms: ['RS256', alg] }] }).join('\n'), /refused: only asymmetric/);
  }
  assert.match(issues({ oidc: [{ ...base, algorithms: ['XY1'] }] }).join('\n'), /unknown algorithm/);
});

test('plain http only for loopback issuers with allow_http', () => {
  assert.match(issues({ oidc: [{ ...base, issuer: 'http://idp.example.com' }] }).join('\n'), /must be https/);
  assert.match(issues({ oidc: [{ ...base, issuer: 'http://idp.example.com', allow_http: true }] }).join('\n'), /only to loopback|applies only to loopback/);
  assert.match(issues({ oidc: [{ ...base, issuer: 'http://127.0.0.1:9000' }] }).join('\n'), /must be https/);
  assert.deepEqual(issues({ oidc: [{ ...base, issuer: 'http://127.0.0.1:9000', allow_http: true }] }), []);
  assert.deepEqual(issues({ oidc: [{ ...base, issuer: 'http://[::1]:9000', allow_http: true }] }), []);
  assert.match(issues({ oidc: [{ ...base, jwks_uri: 'http://keys.example.com/jwks' }] }).join('\n'), /jwks_uri/);
});

test('discovery: false needs jwks_uri; an issuer may be configured once', () => {
  assert.match(issues({ oidc: [{ ...base, discovery: false }] }).join('\n'), /jwks_uri: is required/);
  assert.match(issues({ oidc: [base, base] }).join('\n'), /configured twice/);
});

test('the issue example parses inside a whole config, with secret references', () => {
  const cfg = parseConfig(
    `
listen: { postgres: { port: 6432 } }
connections: { demo: { type: embedded } }
identities:
  oidc:
    - issuer: https://idp.example.com/
      audience: portcullis
      groups_claim: groups
      subject_claim: sub
  keys:
    - { name: ci-bot, groups: [analysts], hash: "sha256:${'a'.repeat(64)}" }
  introspection:
    endpoint: https://idp.example.com/oauth2/introspect
    client_id: portcullis
    client_secret: \${env:INTROSPECTION_SECRET}
`,
    { env: { INTROSPECTION_SECRET: 's3cr3t-value' } },
  );
  assert.equal(cfg.identities.oidc[0]!.issuer, 'https://idp.example.com/');
  assert.equal(cfg.identities.introspection!.client_secret.reveal(), 's3cr3t-value');
  assert.ok(!JSON.stringify(cfg).includes('s3cr3t-value'));
});
