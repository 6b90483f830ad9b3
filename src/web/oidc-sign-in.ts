import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { OidcIssuerConfig } from '../identity/schema.js';
import type { Secret } from '../config/secret.js';
import { fetchJson } from '../identity/fetch-json.js';
import { groupsFrom, readClaim } from '../identity/claims.js';
import { isAllowedEndpoint } from '../identity/loopback.js';
import { PortcullisError } from '../errors/portcullis-error.js';

/** What a browser must bring back to the callback: kept server-side, keyed by `state`. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  readonly redirectUri: string;
  readonly expiresAt: number;
}

export interface SignedIn {
  readonly subject: string;
  readonly groups: string[];
}

interface Endpoints {
  readonly authorization: URL;
  readonly token: URL;
  readonly jwks: ReturnType<typeof createRemoteJWKSet>;
}

const LOGIN_TTL_MS = 10 * 60_000;

/**
 * The OpenID Connect authorization-code flow with PKCE (RFC 7636, S256) for the console, by
 * hand: the provider's metadata from discovery, a token request with the code verifier, and the
 * ID token verified with the provider's published keys, its nonce matched to the one we sent.
 */
export class OidcSignIn {
  readonly #issuer: OidcIssuerConfig;
  readonly #clientId: string;
  readonly #secret: Secret | undefined;
  readonly #scopes: readonly string[];
  #endpoints: Promise<Endpoints> | undefined;

  constructor(issuer: OidcIssuerConfig, clientId: string, secret: Secret | undefined, scopes: readonly string[]) {
    this.#issuer = issuer;
    this.#clientId = clientId;
    this.#secret = secret;
    this.#scopes = scopes;
  }

  /** A fresh login and the URL to send the browser to. */
  async begin(redirectUri: string, now: number): Promise<{ login: PendingLogin; url: string }> {
    const e = await this.#discover();
    const login: PendingLogin = { state: token(), nonce: token(), verifier: token(), redirectUri, expiresAt: now + LOGIN_TTL_MS };
    const url = new URL(e.authorization);
    const challenge = createHash('sha256').update(login.verifier).digest('base64url');
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: this.#clientId,
      redirect_uri: redirectUri,
      scope: this.#scopes.join(' '),
      state: login.state,
      nonce: login.nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })) {
      url.searchParams.set(k, v);
    }
    return { login, url: url.href };
  }

  /** Redeems the code and verifies the ID token; throws ERR_AUTH_FAILED or ERR_IDP_UNAVAILABLE. */
  async finish(login: PendingLogin, code: string): Promise<SignedIn> {
    const e = await this.#discover();
    const c = this.#issuer;
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: login.redirectUri, code_verifier: login.verifier });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    // RFC 6749 §2.3.1: client_secret_basic, with both parts form-encoded first.
    if (this.#secret) headers['authorization'] = `Basic ${Buffer.from(`${encodeURIComponent(this.#clientId)}:${encodeURIComponent(this.#secret.reveal())}`).toString('base64')}`;
    else body.set('client_id', this.#clientId);
    const answer = await fetchJson(e.token, { timeoutMs: c.http_timeout * 1000, allowHttp: c.allow_http, method: 'POST', headers, body: body.toString(), what: 'console token request' });
    const idToken = answer['id_token'];
    if (typeof idToken !== 'string') throw new PortcullisError('ERR_AUTH_FAILED', `${c.issuer}: the token answer has no id_token (is openid among the console scopes?)`);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(idToken, e.jwks, { issuer: c.issuer, audience: this.#clientId, algorithms: c.algorithms, clockTolerance: c.clock_skew, requiredClaims: ['exp', 'iat', 'nonce'] }));
    } catch (err) {
      // jose's errors carry the claims set; only the kind of failure is kept.
      const why = err instanceof errors.JOSEError ? err.code : 'not verifiable';
      throw new PortcullisError('ERR_AUTH_FAILED', `${c.issuer}: the ID token was refused (${why})`);
    }
    if (payload['nonce'] !== login.nonce) throw new PortcullisError('ERR_AUTH_FAILED', `${c.issuer}: the ID token nonce does not match this sign-in`);
    const subject = readClaim(payload, c.subject_claim);
    if (typeof subject !== 'string' || subject === '') throw new PortcullisError('ERR_AUTH_FAILED', `${c.issuer}: the ID token has no ${c.subject_claim}`);
    return { subject, groups: groupsFrom(payload, c.groups_claim, c.groups_prefix) };
  }

  #discover(): Promise<Endpoints> {
    // A failed discovery is retried at the next sign-in rather than remembered.
    this.#endpoints ??= this.#load().catch((e: unknown) => {
      this.#endpoints = undefined;
      throw e;
    });
    return this.#endpoints;
  }

  async #load(): Promise<Endpoints> {
    const c = this.#issuer;
    const where = `${c.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await fetchJson(new URL(where), { timeoutMs: c.http_timeout * 1000, allowHttp: c.allow_http, what: 'console discovery' });
    // OpenID Connect Discovery §4.3: the metadata must name the issuer we asked about.
    if (doc['issuer'] !== c.issuer) throw new PortcullisError('ERR_IDP_UNAVAILABLE', `${where}: metadata names a different issuer`);
    const url = (name: string): URL => {
      const v = doc[name];
      if (typeof v !== 'string' || !URL.canParse(v) || !isAllowedEndpoint(new URL(v), c.allow_http)) throw new PortcullisError('ERR_IDP_UNAVAILABLE', `${where}: no usable ${name}`);
      return new URL(v);
    };
    const methods = doc['code_challenge_methods_supported'];
    if (Array.isArray(methods) && !methods.includes('S256')) throw new PortcullisError('ERR_IDP_UNAVAILABLE', `${where}: the provider does not offer PKCE S256`);
    return { authorization: url('authorization_endpoint'), token: url('token_endpoint'), jwks: createRemoteJWKSet(new URL(c.jwks_uri ?? url('jwks_uri').href), { timeoutDuration: c.http_timeout * 1000 }) };
  }
}

function token(): string {
  return randomBytes(32).toString('base64url');
}
