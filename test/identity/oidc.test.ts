// JWT access tokens from a real OpenID provider, and the attacks on them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeJwt, base64url, type JWTPayload } from 'jose';
import { createIdentifier } from '../../src/identity/identifier.js';
import { identitiesSchema } from '../../src/identity/schema.js';
import { discoverJwksUri } from '../../src/identity/discovery.js';
import { AUDIENCE, GROUPS, OTHER_RESOURCE, newSigningKey, startIdp, type Idp } from './oidc-harness.js';
import { refused, secretsOf } from './refusal.js';

const client = { address: '127.0.0.1', frontend: 'pgwire', tls: true } as const;

let idp: Idp;
let other: Idp;
before(async () => {
  [idp, other] = await Promise.all([startIdp(), startIdp()]);
});
after(async () => {
  await Promise.all([idp.stop(), other.stop()]);
});

function identifier(extra: Record<string, unknown> = {}, opts: { now?: () => number; more?: unknown[] } = {}) {
  const cfg = identitiesSchema.parse({
    oidc: [{ issuer: idp.issuer, audience: AUDIENCE, allow_http: true, ...extra }, ...(opts.more ?? [])],
  });
  return createIdentifier(cfg, opts.now ? { now: opts.now } : {});
}

/** A token signed with the IdP's real key, to reach the claim checks behind the signature. */
async function forge(claims: JWTPayload, header: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'agent', iat: now, exp: now + 300, groups: GROUPS, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: idp.key.kid, typ: 'at+jwt', ...header })
    .sign(idp.key.privateKey);
}

describe('valid tokens', () => {
  test('a client_credentials JWT from the IdP becomes a principal with its groups', async () => {
    const token = await idp.token();
    const claims = decodeJwt(token);
    const p = await identifier().authenticate(token, client);
    assert.equal(p.subject, 'agent');
    assert.deepEqual(p.groups, GROUPS);
    assert.equal(p.issuer, idp.issuer);
    assert.equal(p.authMethod, 'oidc');
    assert.equal(p.tokenId, claims.jti);
    assert.equal(p.expiresAt, claims.exp! * 1000);
  });

  test('an explicit jwks_uri works without discovery', async () => {
    const p = await identifier({ discovery: false, jwks_uri: `${idp.issuer}/jwks` }).authenticate(await idp.token(), client);
    assert.equal(p.subject, 'agent');
  });

  test('several issuers at once: each token is verified by its own issuer, with its prefix', async () => {
    const id = identifier({}, { more: [{ issuer: other.issuer, audience: AUDIENCE, allow_http: true, groups_prefix: 'ci:' }] });
    assert.deepEqual((await id.authenticate(await idp.token(), client)).groups, GROUPS);
    const p = await id.authenticate(await other.token(), client);
    assert.equal(p.issuer, other.issuer);
    assert.deepEqual(p.groups, GROUPS.map((g) => `ci:${g}`));
  });

  test('required scopes: present passes, missing is refused', async () => {
    const id = identifier({ required_scopes: ['sql:write'] });
    const readOnly = await idp.token({ scope: 'sql:read' });
    const e = await refused(id.authenticate(readOnly, client), 'ERR_AUTH_FAILED', secretsOf(readOnly));
    assert.match(e.logReason!, /sql:write/);
    assert.equal((await id.authenticate(await idp.token({ scope: 'sql:read sql:write' }), client)).subject, 'agent');
    // Entra puts scopes in scp as a string, Okta as an array.
    assert.equal((await id.authenticate(await forge({ scp: ['sql:write'] }), client)).subject, 'agent');
    assert.equal((await id.authenticate(await forge({ scp: 'x sql:write' }), client)).subject, 'agent');
  });

  test('subject and groups from configured claims, including nested paths and URL claim names', async () => {
    const id = identifier({ subject_claim: 'client_id', groups_claim: 'https://example.com/groups' });
    const p = await id.authenticate(await forge({ client_id: 'bot-7', 'https://example.com/groups': 'ops  dba' }), client);
    assert.equal(p.subject, 'bot-7');
    assert.deepEqual(p.groups, ['ops', 'dba']);
    const kc = identifier({ groups_claim: 'realm_access.roles' });
    assert.deepEqual((await kc.authenticate(await forge({ realm_access: { roles: ['r1'] } }), client)).groups, ['r1']);
  });

  test('clock skew is tolerated on exp', async () => {
    const token = await idp.token();
    const exp = decodeJwt(token).exp! * 1000;
    assert.equal((await identifier({}, { now: () => exp + 29_000 }).authenticate(token, client)).subject, 'agent');
  });
});

describe('attacks', () => {
  test('expired (a real token, the clock moved past exp + skew)', async () => {
    const token = await idp.token();
    const exp = decodeJwt(token).exp! * 1000;
    const id = identifier({}, { now: () => exp + 31_000 });
    const e = await refused(id.authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.message, /expired/);
  });

  test('not yet valid: nbf or iat in the future', async () => {
    const later = Math.floor(Date.now() / 1000) + 3600;
    const nbf = await forge({ nbf: later });
    const e1 = await refused(identifier().authenticate(nbf, client), 'ERR_AUTH_FAILED', secretsOf(nbf));
    assert.match(e1.logReason!, /nbf/);
    const iat = await forge({ iat: later, exp: later + 300 });
    const e2 = await refused(identifier().authenticate(iat, client), 'ERR_AUTH_FAILED', secretsOf(iat));
    assert.match(e2.logReason!, /iat/);
  });

  test('a token without exp is refused', async () => {
    const token = await forge({ exp: undefined });
    const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /exp/);
  });

  test('wrong issuer: an iss that is not configured, even when signed with a trusted key', async () => {
    const token = await forge({ iss: 'https://evil.example.com' });
    const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /evil\.example\.com.*not configured/);
  });

  test('wrong audience (a real token for another resource)', async () => {
    const token = await idp.token({ resource: OTHER_RESOURCE });
    assert.equal(decodeJwt(token).aud, 'other-api');
    const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /aud/);
  });

  test('alg: none', async () => {
    const payload = decodeJwt(await idp.token());
    const token = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify({ ...payload, groups: ['admins'] }))}.`;
    const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /alg|ERR_JW/);
  });

  test('HS256 signed with the RSA public key as the HMAC secret', async () => {
    const pem = createPublicKey({ key: idp.key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const secrets = [Buffer.from(pem as string), Buffer.from(JSON.stringify(idp.key.publicJwk)), Buffer.from(idp.key.publicJwk.n!, 'base64url')];
    for (const secret of secrets) {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'agent', exp: now + 300, groups: ['admins'] })
        .setProtectedHeader({ alg: 'HS256', kid: idp.key.kid })
        .sign(new Uint8Array(secret));
      const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
      assert.match(e.logReason!, /alg/);
    }
  });

  test('unknown kid: refused, and refreshes of the key set are rate-limited', async () => {
    const attacker = await newSigningKey();
    let now = Date.now();
    const id = identifier({ jwks_refresh_cooldown: 30 }, { now: () => now });
    await id.authenticate(await idp.token(), client); // warm the cache
    const before = idp.jwksRequests;
    const forgeWith = (kid: string) =>
      new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'agent', exp: Math.floor(now / 1000) + 300 }).setProtectedHeader({ alg: 'RS256', kid }).sign(attacker.privateKey);
    now += 31_000;
    for (let i = 0; i < 5; i++) {
      const token = await forgeWith(`kid-${i}`);
      const e = await refused(id.authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
      assert.match(e.logReason!, /no signing key matches/);
    }
    assert.equal(idp.jwksRequests - before, 1, 'five unknown kids within the cooldown cause one refresh');
    // The attacker reusing the real kid fails on the signature instead.
    const token = await forgeWith(idp.key.kid);
    const e = await refused(id.authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /signature/);
  });

  test('tampered payload (groups escalated, signature kept)', async () => {
    const token = await idp.token();
    const [h, , s] = token.split('.');
    const payload = { ...decodeJwt(token), groups: ['admins'] };
    const tampered = `${h}.${base64url.encode(JSON.stringify(payload))}.${s}`;
    const e = await refused(identifier().authenticate(tampered, client), 'ERR_AUTH_FAILED', secretsOf(token, tampered));
    assert.match(e.logReason!, /signature/);
  });

  test('a token from an unconfigured provider (a second, real IdP)', async () => {
    const token = await other.token();
    const e = await refused(identifier().authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
    assert.match(e.logReason!, /not configured/);
  });

  test("a token from provider B claiming provider A's issuer", async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'agent', exp: now + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: other.key.kid })
      .sign(other.key.privateKey);
    await refused(identifier({ jwks_refresh_cooldown: 0 }).authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
  });

  test('garbage, JWE-shaped and oversized credentials are refused without introspection configured', async () => {
    for (const junk of ['not-a-token-at-all-0123456789', 'a.b.c.d.e', 'eyJhbGciOiJSUzI1NiJ9.%%%.sig', `x${'A'.repeat(20_000)}`]) {
      await refused(identifier().authenticate(junk, client), 'ERR_AUTH_FAILED', [junk]);
    }
    await refused(identifier().authenticate('', client), 'ERR_AUTH_REQUIRED');
  });

  test('an ES256 token naming an RSA kid finds no usable key', async () => {
    // ES256 header with an RSA kid: no usable key for that alg.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, sub: 'agent', exp: now + 300 }).setProtectedHeader({ alg: 'ES256', kid: idp.key.kid }).sign(privateKey);
    await refused(identifier({ jwks_refresh_cooldown: 0 }).authenticate(token, client), 'ERR_AUTH_FAILED', secretsOf(token));
  });
});

describe('discovery', () => {
  test('metadata must name exactly the configured issuer', async () => {
    assert.equal((await discoverJwksUri(idp.issuer, { timeoutMs: 2000, allowHttp: true })).href, `${idp.issuer}/jwks`);
    await refused(discoverJwksUri(`${idp.issuer}/`, { timeoutMs: 2000, allowHttp: true }), 'ERR_IDP_UNAVAILABLE');
    await refused(discoverJwksUri(idp.issuer, { timeoutMs: 2000, allowHttp: false }), 'ERR_IDP_UNAVAILABLE');
  });
});
