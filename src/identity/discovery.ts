import { fetchJson } from './fetch-json.js';
import { idpUnavailable } from './identity-error.js';
import { isAllowedEndpoint } from './loopback.js';

/**
 * The `jwks_uri` from an issuer's OpenID Provider Metadata.
 *
 * The document lives at the issuer plus `/.well-known/openid-configuration` (OpenID Connect
 * Discovery 1.0 §4), and its `issuer` must equal the configured issuer exactly (§4.3):
 * otherwise one tenant's metadata could be served for another's.
 */
export async function discoverJwksUri(issuer: string, opts: { timeoutMs: number; allowHttp: boolean }): Promise<URL> {
  const url = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const doc = await fetchJson(url, { ...opts, what: 'discovery' });
  if (doc['issuer'] !== issuer) {
    throw idpUnavailable(`discovery ${url.origin}${url.pathname}: metadata names a different issuer than the configured ${issuer}`);
  }
  const jwksUri = doc['jwks_uri'];
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri)) throw idpUnavailable(`discovery ${url.origin}${url.pathname}: metadata has no valid jwks_uri`);
  const jwks = new URL(jwksUri);
  if (!isAllowedEndpoint(jwks, opts.allowHttp)) throw idpUnavailable(`discovery ${url.origin}${url.pathname}: jwks_uri is not https`);
  return jwks;
}
