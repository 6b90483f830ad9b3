import { createHash } from 'node:crypto';
import type { Principal } from '../pipeline/principal.js';
import { groupsFrom, missingScopes, readClaim, toStringList } from './claims.js';
import { fetchJson } from './fetch-json.js';
import { authFailed } from './identity-error.js';
import type { IntrospectionConfig } from './schema.js';

/** Bounds memory if many distinct tokens arrive; the oldest answers go first. */
const MAX_CACHED = 10_000;

/**
 * Opaque access tokens, checked with OAuth 2.0 Token Introspection (RFC 7662).
 *
 * Active answers are reused for `cache_ttl` seconds (never past the token's `exp`) so a busy
 * agent does not cost one IdP round trip per connection; the price is that a revoked token keeps
 * working for at most that long. Inactive answers are not cached. The cache is keyed by the
 * token's SHA-256, so the process does not keep a table of live tokens in memory.
 */
export class Introspector {
  readonly #cfg: IntrospectionConfig;
  readonly #now: () => number;
  readonly #url: URL;
  readonly #cache = new Map<string, { principal: Principal; until: number }>();

  constructor(cfg: IntrospectionConfig, now: () => number) {
    this.#cfg = cfg;
    this.#now = now;
    this.#url = new URL(cfg.endpoint);
  }

  async verify(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.#cache.get(key);
    if (hit && this.#now() < hit.until) return hit.principal;
    if (hit) this.#cache.delete(key);

    const c = this.#cfg;
    // RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64.
    const basic = Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret.reveal())}`).toString('base64');
    const answer = await fetchJson(this.#url, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      timeoutMs: c.http_timeout * 1000,
      allowHttp: c.allow_http,
      what: 'introspection',
    });

    const where = `introspection ${this.#url.origin}${this.#url.pathname}`;
    if (answer['active'] !== true) throw authFailed(`${where}: token is not active`);
    const nowS = this.#now() / 1000;
    const skew = c.clock_skew;
    const exp = typeof answer['exp'] === 'number' ? answer['exp'] : undefined;
    if (exp !== undefined && exp <= nowS - skew) throw authFailed(`${where}: token expired`, 'The token has expired; obtain a new one.');
    if (typeof answer['nbf'] === 'number' && answer['nbf'] > nowS + skew) throw authFailed(`${where}: token nbf is in the future`);
    if (c.issuer !== undefined && answer['iss'] !== undefined && answer['iss'] !== c.issuer) throw authFailed(`${where}: token iss is not ${c.issuer}`);
    if (c.audience !== undefined) {
      const wanted = typeof c.audience === 'string' ? [c.audience] : c.audience;
      const aud = toStringList(answer['aud']);
      if (!wanted.some((a) => aud.includes(a))) throw authFailed(`${where}: token aud does not include the configured audience`);
    }
    const missing = missingScopes(answer, c.required_scopes);
    if (missing.length) throw authFailed(`${where}: token lacks required scope(s) ${missing.join(', ')}`);
    const subject = readClaim(answer, c.subject_claim);
    if (typeof subject !== 'string' || subject === '') throw authFailed(`${where}: answer has no string ${c.subject_claim} for the subject`);

    const principal: Principal = {
      subject,
      groups: groupsFrom(answer, c.groups_claim, c.groups_prefix),
      issuer: c.issuer ?? (typeof answer['iss'] === 'string' ? answer['iss'] : this.#url.origin),
      authMethod: 'introspection',
      tokenId: typeof answer['jti'] === 'string' ? answer['jti'] : undefined,
      expiresAt: exp === undefined ? undefined : exp * 1000,
    };
    const until = Math.min(this.#now() + c.cache_ttl * 1000, exp === undefined ? Infinity : exp * 1000);
    if (until > this.#now()) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, { principal, until });
    }
    return principal;
  }
}
