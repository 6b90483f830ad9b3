// A real OpenID provider (oidc-provider) for the console's authorization-code flow: one
// confidential client, a login page where the browser types a user name, and the user's groups
// in the ID token. Consent is granted automatically, as for a first-party client.
// oidc-provider ships no type declarations; tests run through tsx, which does not type-check.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { newSigningKey } from '../identity/oidc-harness.js';

export const CONSOLE_CLIENT_ID = 'portcullis-console';
export const CONSOLE_CLIENT_SECRET = 'console-client-secret-0123456789abcdef';

export interface LoginIdp {
  readonly issuer: string;
  /** (Re)builds the provider with the console client allowed to return to `redirectUri`. */
  register(redirectUri: string): void;
  stop(): Promise<void>;
}

/** `users`: login name → groups. Anyone else who types a name gets no groups. */
export async function startLoginIdp(users: Record<string, string[]>): Promise<LoginIdp> {
  const key = await newSigningKey();
  let provider: any;
  const server = createServer((req, res) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0]!);
    if (!m || !provider) return void provider?.callback()(req, res);
    (m[2] ? login(req, res) : loginPage(req, res, m[1]!)).catch((e: Error) => {
      res.statusCode = 500;
      res.end(e.message);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function loginPage(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    await provider.interactionDetails(req, res);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Test IdP</title><h1>Test identity provider</h1><form method="post" action="/interaction/${uid}/login"><label for="login">User</label><input id="login" name="login" autofocus><button type="submit">Continue</button></form>`);
  }

  async function login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += c;
    const accountId = new URLSearchParams(body).get('login') ?? '';
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }

  return {
    issuer,
    register(redirectUri) {
      provider = new Provider(issuer, {
        clients: [{ client_id: CONSOLE_CLIENT_ID, client_secret: CONSOLE_CLIENT_SECRET, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
        jwks: { keys: [key.privateJwk as never] },
        scopes: ['openid', 'profile', 'groups'],
        claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
        // Groups in the ID token itself, as the console reads them.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        cookies: { keys: ['test-only-cookie-key'] },
        interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
        findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, name: id, groups: users[id] ?? [] }) }),
        loadExistingGrant: async (ctx: any) => {
          const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
          if (existing) return ctx.oidc.provider.Grant.find(existing);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
          grant.addOIDCScope('openid profile groups');
          await grant.save();
          ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId, grant.jti);
          return grant;
        },
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
