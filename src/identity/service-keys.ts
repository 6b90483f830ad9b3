import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../pipeline/principal.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import { authFailed } from './identity-error.js';
import type { ServiceKeyConfig } from './schema.js';
import { HASH_PATTERN, KEY_PATTERN, KEY_PREFIX } from './service-key-format.js';

export { KEY_PATTERN, HASH_PATTERN } from './service-key-format.js';

export const SERVICE_KEY_ISSUER = 'portcullis:keys';

/**
 * A new service key: `pcs_` + 32 bytes from the CSPRNG in base64url.
 *
 * @example
 * const key = generateServiceKey(); // 'pcs_Q2h…' — show once, store hashServiceKey(key)
 */
export function generateServiceKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The stored form of a key: `sha256:<hex>`.
 *
 * A fast unsalted hash is the right tool here, unlike for passwords: a key carries 256 bits
 * from the CSPRNG, so there is no dictionary to try and a salt or a slow KDF would add nothing
 * but latency. Because the hash is deterministic, looking a key up is one map get instead of
 * trying every configured key, and the lookup time does not depend on how many keys exist.
 */
export function hashServiceKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

interface StoredKey {
  readonly name: string;
  readonly groups: readonly string[];
  readonly digest: Buffer;
  readonly expiresAt: number | undefined;
  readonly revoked: boolean;
}

/** The configured service keys, hashed at load; `verify` turns a presented key into a principal. */
export class ServiceKeyStore {
  readonly #byHash = new Map<string, StoredKey>();
  readonly #now: () => number;

  constructor(keys: readonly ServiceKeyConfig[], now: () => number = Date.now) {
    this.#now = now;
    for (const k of keys) {
      // `secret:` keys are hashed here so the plain key is not kept around after start-up.
      const hash = k.hash ?? hashServiceKey(k.secret!.reveal());
      if (!HASH_PATTERN.test(hash)) throw new TypeError(`identities.keys ${k.name}: hash is not sha256:<hex>`);
      const clash = this.#byHash.get(hash);
      if (clash) throw new PortcullisError('ERR_CONFIG_INVALID', `identities.keys: ${clash.name} and ${k.name} are the same key; give each its own`);
      this.#byHash.set(hash, {
        name: k.name,
        groups: Object.freeze([...k.groups]),
        digest: Buffer.from(hash.slice('sha256:'.length), 'hex'),
        expiresAt: k.expires?.getTime(),
        revoked: k.revoked,
      });
    }
  }

  get size(): number {
    return this.#byHash.size;
  }

  verify(key: string): Principal {
    if (!KEY_PATTERN.test(key)) throw authFailed('service key is malformed');
    const hash = hashServiceKey(key);
    const stored = this.#byHash.get(hash);
    // The map get compares full hex strings, which is not constant-time; an attacker cannot
    // steer the SHA-256 of their guess, so that leaks nothing useful. The digest compare below
    // is constant-time anyway so the acceptance decision never rests on an early-exit compare.
    if (stored === undefined || !timingSafeEqual(stored.digest, Buffer.from(hash.slice(7), 'hex'))) {
      throw authFailed('service key is not configured');
    }
    if (stored.revoked) throw authFailed(`service key ${stored.name} is revoked`);
    if (stored.expiresAt !== undefined && this.#now() >= stored.expiresAt) {
      throw authFailed(`service key ${stored.name} expired at ${new Date(stored.expiresAt).toISOString()}`);
    }
    return {
      subject: `key:${stored.name}`,
      groups: stored.groups,
      issuer: SERVICE_KEY_ISSUER,
      authMethod: 'service-key',
      tokenId: stored.name,
      expiresAt: stored.expiresAt,
    };
  }
}
