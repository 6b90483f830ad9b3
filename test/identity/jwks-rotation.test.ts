// Key rotation at the IdP mid-run and an unreachable IdP, on a frozen clock.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdentifier } from '../../src/identity/identifier.js';
import { identitiesSchema } from '../../src/identity/schema.js';
import { AUDIENCE, newSigningKey, startIdp, type Idp } from './oidc-harness.js';
import { refused, secretsOf } from './refusal.js';

const client = { address: '127.0.0.1', frontend: 'http', tls: true } as const;
const TTL = 120;
const COOLDOWN = 30;

const idps: Idp[] = [];
afterEach(async () => {
  await Promise.all(idps.splice(0).map((i) => i.stop()));
});

async function setup() {
  const idp = await startIdp();
  idps.push(idp);
  const clock = { now: Date.now() };
  const cfg = identitiesSchema.parse({
    oidc: [{ issuer: idp.issuer, audience: AUDIENCE, allow_http: true, jwks_cache_ttl: TTL, jwks_refresh_cooldown: COOLDOWN, http_timeout: 2 }],
  });
  return { idp, clock, id: createIdentifier(cfg, { now: () => clock.now }) };
}

test('rotation: new tokens verify after rotation; old keys stop after the JWKS TTL', async () => {
  const { idp, clock, id } = await setup();
  const t0 = clock.now;
  const oldToken = await idp.token();
  assert.equal((await id.authenticate(oldToken, client)).subject, 'agent');

  idp.rotate(await newSigningKey());
  const newToken = await idp.token();

  // Within the cooldown of the last fetch, an unknown kid does not refresh the key set.
  const early = await refused(id.authenticate(newToken, client), 'ERR_AUTH_FAILED', secretsOf(newToken));
  assert.match(early.logReason!, /rate-limited/);

  clock.now = t0 + (COOLDOWN + 1) * 1000;
  assert.equal((await id.authenticate(newToken, client)).subject, 'agent', 'the new kid triggers a refresh');
  assert.equal((await id.authenticate(oldToken, client)).subject, 'agent', 'the old key is still trusted within its TTL');

  clock.now = t0 + (TTL + 1) * 1000;
  const late = await refused(id.authenticate(oldToken, client), 'ERR_AUTH_FAILED', secretsOf(oldToken));
  assert.match(late.logReason!, /no signing key matches/);
  assert.equal((await id.authenticate(newToken, client)).subject, 'agent');
});

test('IdP down: cached keys keep working until their TTL, then authentication fails closed', async () => {
  const { idp, clock, id } = await setup();
  const t0 = clock.now;
  const token = await idp.token();
  await id.authenticate(token, client);
  await idp.stop();

  clock.now = t0 + (TTL - 1) * 1000;
  assert.equal((await id.authenticate(token, client)).subject, 'agent');

  clock.now = t0 + TTL * 1000;
  const e = await refused(id.authenticate(token, client), 'ERR_IDP_UNAVAILABLE', secretsOf(token));
  assert.match(e.logReason!, /request failed|ECONNREFUSED/);
  assert.equal(e.httpStatus, 503);
});

test('IdP down from the start: ERR_IDP_UNAVAILABLE, not a silent pass or a generic failure', async () => {
  const { idp, id } = await setup();
  const token = await idp.token();
  await idp.stop();
  await refused(id.authenticate(token, client), 'ERR_IDP_UNAVAILABLE', secretsOf(token));
});

test('concurrent first requests share one JWKS fetch', async () => {
  const { idp, id } = await setup();
  const token = await idp.token();
  const before = idp.jwksRequests;
  await Promise.all(Array.from({ length: 10 }, () => id.authenticate(token, client)));
  assert.equal(idp.jwksRequests - before, 1);
});
