import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Principal } from '../pipeline/principal.js';
import { groupsFrom, missingScopes, readClaim } from './claims.js';
import { discoverJwksUri } from './discovery.js';
import { IdentityError, authFailed } from './identity-error.js';
import { RemoteKeySet } from './remote-key-set.js';
import type { OidcIssuerConfig } from './schema.js';

const EXPIRED = 'The token has expired; obtain a new one.';
const NOT_YET_VALID = 'The token is not valid yet; check the clock of the machine that obtained it.';

/**
 * Verifies JWT access tokens from one configured issuer and maps their claims to a principal.
 * jose checks the signature (only the configured asymmetric algorithms), `iss`, `aud`, `exp` and
 * `nbf` with the clock skew; this class adds what jose leaves to the caller: `iat` must not be in
 * the future, `exp` is required (a token that never expires would outlive every session rule),
 * required scopes, and the subject/groups mapping.
 */
export class JwtIssuer {
  readonly config: OidcIssuerConfig;
  readonly #keys: RemoteKeySet;
  readonly #now: () => number;
  #jwksUri: { url: URL; at: number } | undefined;

  constructor(config: OidcIssuerConfig, now: () => number) {
    this.config = config;
    this.#now = now;
    const timeoutMs = config.http_timeout * 1000;
    const ttlMs = config.jwks_cache_ttl * 1000;
    this.#keys = new RemoteKeySet({
      locate: async () => {
        if (config.jwks_uri !== undefined) return new URL(config.jwks_uri);
        // Metadata is re-read once per key TTL so a moved jwks_uri is picked up.
        if (this.#jwksUri === undefined || this.#now() - this.#jwksUri.at >= ttlMs) {
          this.#jwksUri = { url: await discoverJwksUri(config.issuer, { timeoutMs, allowHttp: config.allow_http }), at: this.#now() };
        }
        return this.#jwksUri.url;
      },
      ttlMs,
      cooldownMs: config.jwks_refresh_cooldown * 1000,
      timeoutMs,
      allowHttp: config.allow_http,
      now,
    });
  }

  async verify(token: string): Promise<Principal> {
    const c = this.config;
    const nowMs = this.#now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys.getKey, {
        issuer: c.issuer,
        audience: c.audience,
        algorithms: c.algorithms,
        clockTolerance: c.clock_skew,
        currentDate: new Date(nowMs),
        requiredClaims: ['exp'],
      }));
    } catch (e) {
      throw this.#refusal(e);
    }
    if (typeof payload.iat === 'number' && payload.iat > nowMs / 1000 + c.clock_skew) {
      throw authFailed(`${c.issuer}: token iat is in the future beyond clock_skew`, NOT_YET_VALID);
    }
    const missing = missingScopes(payload, c.required_scopes);
    if (missing.length) throw authFailed(`${c.issuer}: token lacks required scope(s) ${missing.join(', ')}`);
    const subject = readClaim(payload, c.subject_claim);
    if (typeof subject !== 'string' || subject === '') throw authFailed(`${c.issuer}: token has no string claim ${c.subject_claim} for the subject`);
    return {
      subject,
      groups: groupsFrom(payload, c.groups_claim, c.groups_prefix),
      issuer: c.issuer,
      authMethod: 'oidc',
      tokenId: typeof payload.jti === 'string' ? payload.jti : undefined,
      expiresAt: payload.exp! * 1000,
    };
  }

  /** jose's error → our refusal. jose's own messages name claims, never values, but its errors
   * carry the claims set, so only the code and claim name are kept. */
  #refusal(e: unknown): IdentityError {
    if (e instanceof IdentityError) return e;
    const iss = this.config.issuer;
    if (e instanceof errors.JWTExpired) return authFailed(`${iss}: token expired`, EXPIRED);
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === 'nbf') return authFailed(`${iss}: token nbf is in the future`, NOT_YET_VALID);
      return authFailed(`${iss}: claim ${e.claim} failed (${e.reason})`);
    }
    if (e instanceof errors.JOSEAlgNotAllowed) return authFailed(`${iss}: token alg is not in the allowed algorithms`);
    if (e instanceof errors.JWSSignatureVerificationFailed) return authFailed(`${iss}: token signature does not verify`);
    if (e instanceof errors.JOSEError) return authFailed(`${iss}: token refused (${e.code})`);
    return authFailed(`${iss}: token refused (${e instanceof Error ? e.name : 'error'})`);
  }
}
