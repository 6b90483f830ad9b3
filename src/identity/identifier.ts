import { decodeJwt } from 'jose';
import type { ClientInfo, Principal } from '../pipeline/principal.js';
import type { IdentifyStage } from '../pipeline/stages.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import { authFailed, quote } from './identity-error.js';
import { Introspector } from './introspection.js';
import { JwtIssuer } from './jwt-issuer.js';
import type { IdentitiesConfig } from './schema.js';
import { KEY_PREFIX } from './service-key-format.js';
import { ServiceKeyStore } from './service-keys.js';

/** Real access tokens are a few KB; a bound keeps parsing and hashing cheap for junk input. */
const MAX_CREDENTIAL_LENGTH = 16 * 1024;

/** Compact JWS: header.payload.signature, base64url. An empty signature is still routed here so
 * that `alg: none` tokens are refused as JWTs rather than sent to introspection. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface IdentifierOptions {
  /** Epoch milliseconds; tests pass a frozen clock. */
  readonly now?: () => number;
}

/**
 * The identify stage: a credential becomes a principal or an ERR_AUTH_FAILED /
 * ERR_IDP_UNAVAILABLE `IdentityError` whose `logReason` says why (for the gateway log only).
 *
 * Routing: `pcs_…` is a service key; three dot-separated base64url segments are a JWT, verified
 * by the issuer its unverified `iss` names (used only to pick the verifier; everything is then
 * checked against that issuer's keys and settings); anything else goes to introspection when it
 * is configured.
 *
 * @example
 * const identify = createIdentifier(config.identities);
 * const principal = await identify.authenticate(bearer, { address, frontend: 'http', tls: true });
 */
export function createIdentifier(cfg: IdentitiesConfig, opts: IdentifierOptions = {}): IdentifyStage {
  const now = opts.now ?? Date.now;
  const keys = new ServiceKeyStore(cfg.keys, now);
  const issuers = new Map(cfg.oidc.map((o) => [o.issuer, new JwtIssuer(o, now)]));
  const introspector = cfg.introspection ? new Introspector(cfg.introspection, now) : undefined;

  return {
    async authenticate(credential: string, _client: ClientInfo): Promise<Principal> {
      if (typeof credential !== 'string' || credential === '') throw new PortcullisError('ERR_AUTH_REQUIRED');
      if (credential.length > MAX_CREDENTIAL_LENGTH) throw authFailed(`credential longer than ${MAX_CREDENTIAL_LENGTH} characters`);
      if (credential.startsWith(KEY_PREFIX)) return keys.verify(credential);
      if (COMPACT_JWS.test(credential)) {
        let iss: unknown;
        try {
          iss = decodeJwt(credential).iss;
        } catch {
          throw authFailed('token is not a well-formed JWT');
        }
        const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
        if (issuer === undefined) throw authFailed(`token issuer ${quote(iss)} is not configured`);
        return issuer.verify(credential);
      }
      if (introspector) return introspector.verify(credential);
      throw authFailed('credential is neither a service key nor a JWT, and introspection is not configured');
    },
  };
}
