// A real OpenID provider (oidc-provider) on 127.0.0.1 for the identity tests. Its signing keys
// are generated here, so tests can also forge tokens with the real key (to reach the claim
// checks) and rotate the keys mid-run by swapping in a provider with a new key set.
// oidc-provider ships no type declarations; tests run through tsx, which does not type-check.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

export const CLIENT_ID = 'agent';
export const CLIENT_SECRET = 'agent-client-secret-0123456789abcdef';
export const RESOURCE = 'urn:portcullis';
export const OTHER_RESOURCE = 'urn:other';
export const AUDIENCE = 'portcullis';
export const GROUPS = ['analysts', 'readers'];

export interface SigningKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly privateKey: CryptoKeyLike;
  readonly publicKey: CryptoKeyLike;
}
type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, privateJwk: { ...(await exportJWK(privateKey)), ...meta }, publicJwk: { ...(await exportJWK(publicKey)), ...meta } };
}

export interface Idp {
  readonly issuer: string;
  readonly server: Server;
  key: SigningKey;
  /** Serve a new provider with only `key` published (old tokens' kid disappears from the JWKS). */
  rotate(key: SigningKey): void;
  /** A JWT access token for `resource` via client_credentials over HTTP. */
  token(opts?: { resource?: string; scope?: string }): Promise<string>;
  /** An opaque access token (no resource indicator), for introspection. */
  opaqueToken(): Promise<string>;
  stop(): Promise<void>;
  jwksRequests: number;
}

export async function startIdp(): Promise<Idp> {
  let handler: ReturnType<Provider['callback']> | undefined;
  const state = { jwksRequests: 0 };
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/jwks')) state.jwksRequests++;
    handler!(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const make = (key: SigningKey) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: 'sql:read sql:write',
        },
      ],
      jwks: { keys: [key.privateJwk as never] },
      scopes: ['sql:read', 'sql:write'],
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: async () => true },
        resourceIndicators: {
          enabled: true,
          defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
          useGrantedResource: () => false,
          getResourceServerInfo: (_ctx: unknown, resource: string) => {
            const audience = resource === RESOURCE ? AUDIENCE : resource === OTHER_RESOURCE ? 'other-api' : undefined;
            if (audience === undefined) throw new errors.InvalidTarget();
            return { scope: 'sql:read sql:write', audience, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } };
          },
        },
      },
      extraTokenClaims: async () => ({ groups: GROUPS }),
      ttl: { ClientCredentials: 300 },
    });
    handler = provider.callback();
  };
  make(await newSigningKey());

  const requestToken = async (params: Record<string, string>): Promise<string> => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
    });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!body.access_token) throw new Error(`token request failed: ${body.error} ${body.error_description}`);
    return body.access_token;
  };

  const idp: Idp = {
    issuer,
    server,
    key: undefined as never,
    rotate(key) {
      idp.key = key;
      make(key);
    },
    token: (opts = {}) => requestToken({ resource: opts.resource ?? RESOURCE, scope: opts.scope ?? 'sql:read' }),
    opaqueToken: () => requestToken({ scope: 'sql:read' }),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
    get jwksRequests() {
      return state.jwksRequests;
    },
    set jwksRequests(n: number) {
      state.jwksRequests = n;
    },
  };
  idp.rotate(await newSigningKey());
  return idp;
}

/**
 * A token signed with the provider's real, published key and the claims a test needs (groups
 * default to analysts): for expiry and group cases the provider's own grant can't produce.
 */
export async function forgeToken(idp: Idp, claims: Record<string, unknown>, expiresInSeconds: number): Promise<string> {
  const { SignJWT } = await import('jose');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ groups: ['analysts'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: idp.key.kid })
    .setIssuer(idp.issuer)
    .setAudience(AUDIENCE)
    .setSubject('forged-but-validly-signed')
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(idp.key.privateKey);
}
