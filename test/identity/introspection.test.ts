// Opaque access tokens checked by RFC 7662 introspection against the real provider.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIdentifier } from '../../src/identity/identifier.js';
import { identitiesSchema } from '../../src/identity/schema.js';
import { Secret } from '../../src/config/secret.js';
import { CLIENT_ID, CLIENT_SECRET, GROUPS, startIdp, type Idp } from './oidc-harness.js';
import { refused } from './refusal.js';

const client = { address: '127.0.0.1', frontend: 'mcp', tls: true } as const;
let idp: Idp;
before(async () => {
  idp = await startIdp();
});
after(() => idp.stop());

function identifier(extra: Record<string, unknown> = {}, now?: () => number) {
  const cfg = identitiesSchema.parse({
    introspection: {
      endpoint: `${idp.issuer}/token/introspection`,
      client_id: CLIENT_ID,
      client_secret: new Secret(CLIENT_SECRET, 'env:TEST'),
      issuer: idp.issuer,
      subject_claim: 'client_id',
      allow_http: true,
      ...extra,
    },
  });
  return createIdentifier(cfg, now ? { now } : {});
}

test('an opaque token is introspected into a principal', async () => {
  const token = await idp.opaqueToken();
  assert.equal(token.split('.').length, 1);
  const p = await identifier().authenticate(token, client);
  assert.equal(p.subject, CLIENT_ID);
  assert.deepEqual(p.groups, GROUPS);
  assert.equal(p.issuer, idp.issuer);
  assert.equal(p.authMethod, 'introspection');
  assert.ok(p.expiresAt! > Date.now());
});

test('an unknown opaque token is refused; a wrong client secret fails closed without leaking it', async () => {
  const bogus = 'opaque-token-that-the-idp-never-issued-0123456789';
  await refused(identifier().authenticate(bogus, client), 'ERR_AUTH_FAILED', [bogus]);
  const token = await idp.opaqueToken();
  const e = await refused(identifier({ client_secret: 'wrong-secret-value-xyz' }).authenticate(token, client), 'ERR_IDP_UNAVAILABLE', [token, 'wrong-secret-value-xyz', CLIENT_SECRET]);
  assert.match(e.logReason!, /HTTP 401/);
});

test('required scopes and audience are enforced on introspection answers', async () => {
  const token = await idp.opaqueToken();
  await refused(identifier({ required_scopes: ['sql:write'] }).authenticate(token, client), 'ERR_AUTH_FAILED', [token]);
  await refused(identifier({ audience: 'portcullis' }).authenticate(token, client), 'ERR_AUTH_FAILED', [token]);
});

test('active answers are cached briefly; expiry still applies', async () => {
  let now = Date.now();
  const id = identifier({ cache_ttl: 60 }, () => now);
  const token = await idp.opaqueToken();
  await id.authenticate(token, client);
  await idp.stop();
  // Within cache_ttl the IdP is not asked.
  now += 30_000;
  assert.equal((await id.authenticate(token, client)).subject, CLIENT_ID);
  now += 31_000;
  await refused(id.authenticate(token, client), 'ERR_IDP_UNAVAILABLE', [token]);
  idp = await startIdp();
});

test('an introspection endpoint that redirects or answers junk fails closed', async () => {
  let mode = 'redirect';
  const server: Server = createServer((_req, res) => {
    if (mode === 'redirect') res.writeHead(302, { location: 'http://example.com/' }).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('not json');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
    const id = identifier({ endpoint });
    await refused(id.authenticate('some-opaque-token-value-123456', client), 'ERR_IDP_UNAVAILABLE', ['some-opaque-token-value-123456']);
    mode = 'junk';
    await refused(id.authenticate('some-opaque-token-value-123456', client), 'ERR_IDP_UNAVAILABLE', ['some-opaque-token-value-123456']);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
