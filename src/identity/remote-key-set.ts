import { calculateJwkThumbprint, createLocalJWKSet, errors, type JWK, type JWTHeaderParameters, type FlattenedJWSInput } from 'jose';
import { authFailed, idpUnavailable, quote } from './identity-error.js';
import { fetchJson } from './fetch-json.js';

export interface RemoteKeySetOptions {
  /** Where the key set lives; may run discovery, and throws ERR_IDP_UNAVAILABLE when it cannot. */
  readonly locate: () => Promise<URL>;
  readonly ttlMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly allowHttp: boolean;
  readonly now: () => number;
}

interface Known {
  readonly jwk: JWK;
  lastSeen: number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;
type VerifyKey = Awaited<ReturnType<LocalSet>>;

/**
 * An issuer's signing keys, fetched from its JWKS endpoint.
 *
 * Each key is trusted for `ttlMs` after the IdP last published it. A refresh adds new keys and
 * renews the ones still published, but does not drop the others early: a refresh can be caused
 * by anyone presenting an unknown `kid`, and that must not cut off tokens signed with a key the
 * IdP is still rotating out. Once nothing is fresh the set must be fetched again, and if the IdP
 * cannot be reached then authentication fails closed.
 *
 * An unknown `kid` triggers a refresh at most once per `cooldownMs`, so forged `kid`s cannot turn
 * the gateway into a request amplifier against the IdP.
 */
export class RemoteKeySet {
  readonly #opts: RemoteKeySetOptions;
  readonly #known = new Map<string, Known>();
  #local: LocalSet | undefined;
  #lastSuccess = Number.NEGATIVE_INFINITY;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;

  constructor(opts: RemoteKeySetOptions) {
    this.#opts = opts;
  }

  /** For `jwtVerify`: the verification key for a token's header, refreshing as described above. */
  readonly getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    const now = this.#opts.now();
    if (now - this.#lastSuccess >= this.#opts.ttlMs) await this.#refresh();
    try {
      return await this.#select(header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
    }
    const kid = typeof header.kid === 'string' ? `kid ${quote(header.kid, 64)}` : 'no kid';
    if (this.#opts.now() - this.#lastAttempt < this.#opts.cooldownMs) {
      throw authFailed(`no signing key matches the token (${kid}); key refresh is rate-limited`);
    }
    await this.#refresh();
    try {
      return await this.#select(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSNoMatchingKey) throw authFailed(`no signing key matches the token (${kid}) after refreshing the key set`);
      throw e;
    }
  };

  async #select(header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> {
    this.#prune();
    if (this.#local === undefined) throw new errors.JWKSNoMatchingKey();
    try {
      return await this.#local(header, token);
    } catch (e) {
      if (e instanceof errors.JWKSMultipleMatchingKeys) throw authFailed('token has no kid and several signing keys match');
      throw e;
    }
  }

  #prune(): void {
    const now = this.#opts.now();
    let changed = false;
    for (const [id, k] of this.#known) {
      if (now - k.lastSeen >= this.#opts.ttlMs) {
        this.#known.delete(id);
        changed = true;
      }
    }
    if (changed || this.#local === undefined) {
      this.#local = this.#known.size ? createLocalJWKSet({ keys: [...this.#known.values()].map((k) => k.jwk) }) : undefined;
    }
  }

  /** One fetch at a time; concurrent callers share it and its outcome. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    this.#lastAttempt = this.#opts.now();
    const url = await this.#opts.locate();
    const body = await fetchJson(url, { timeoutMs: this.#opts.timeoutMs, allowHttp: this.#opts.allowHttp, what: 'JWKS' });
    const keys = Array.isArray(body['keys']) ? body['keys'] : undefined;
    // A malformed key set is the IdP's fault, not the caller's: fail closed as unavailable.
    if (keys === undefined) throw idpUnavailable(`JWKS ${url.origin}${url.pathname}: answer has no "keys" array`);
    const now = this.#opts.now();
    for (const raw of keys) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) continue;
      const jwk = raw as JWK;
      // Only public asymmetric signing keys: a symmetric or private key in a JWKS is a mistake
      // at the IdP, and keeping it could only ever help an attacker.
      if (jwk.kty === 'oct' || jwk.d !== undefined || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      const id = typeof jwk.kid === 'string' ? `kid:${jwk.kid}` : await thumbprintOf(jwk);
      if (id === undefined) continue;
      const known = this.#known.get(id);
      if (known && JSON.stringify(known.jwk) === JSON.stringify(jwk)) known.lastSeen = now;
      else this.#known.set(id, { jwk, lastSeen: now });
    }
    this.#local = undefined;
    this.#lastSuccess = now;
  }
}

async function thumbprintOf(jwk: JWK): Promise<string | undefined> {
  try {
    return `jkt:${await calculateJwkThumbprint(jwk)}`;
  } catch {
    return undefined;
  }
}
