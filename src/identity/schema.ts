import { z } from 'zod';
import { secretField } from '../config/secret-field.js';
import { isLoopbackUrl } from './loopback.js';
import { HASH_PATTERN, KEY_PATTERN } from './service-key-format.js';

/**
 * `identities:` — who may call the gateway. A superset of the shape in issue 4: `keys`, `oidc`
 * (one entry per trusted issuer) and optional `introspection` for opaque tokens. Durations are
 * seconds. docs/identity.md is the reference.
 */

/** Asymmetric JWS algorithms only. `none` is unsigned; `HS*` would let anyone holding the
 * issuer's public key (which is public) mint tokens if a verifier ever fed it in as a secret. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

const urlString = z
  .string()
  .min(1)
  .refine((u) => URL.canParse(u) && ['https:', 'http:'].includes(new URL(u).protocol), { message: 'must be an http(s) URL' });

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const algorithmsSchema = z
  .array(z.string())
  .min(1)
  .superRefine((algs, ctx) => {
    for (const alg of algs) {
      if (alg.toLowerCase() === 'none' || /^HS\d+$/i.test(alg)) {
        ctx.addIssue({ code: 'custom', message: `${alg} is refused: only asymmetric algorithms (${ASYMMETRIC_ALGORITHMS.join(', ')}) may verify tokens` });
      } else if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
        ctx.addIssue({ code: 'custom', message: `unknown algorithm ${alg}; use one of ${ASYMMETRIC_ALGORITHMS.join(', ')}` });
      }
    }
  });

/** Claim-mapping fields shared by JWT issuers and introspection. */
const claimMapping = {
  subject_claim: z.string().min(1).default('sub').describe('dotted path to the subject'),
  groups_claim: z.string().min(1).default('groups').describe('dotted path; array or space-separated string'),
  groups_prefix: z.string().optional().describe('prepended to every group from this source'),
  required_scopes: z.array(z.string().min(1)).default([]),
  clock_skew: z.number().min(0).max(300).default(30).describe('seconds of leeway on exp, nbf, iat'),
  http_timeout: z.number().positive().max(60).default(5).describe('seconds per request to the IdP'),
  allow_http: z.boolean().default(false).describe('plain HTTP, loopback only (tests, local development)'),
};

function checkTransport(urls: readonly (string | undefined)[], allowHttp: boolean, ctx: z.RefinementCtx, keys: readonly string[]): void {
  urls.forEach((u, i) => {
    if (u === undefined || !URL.canParse(u)) return;
    const url = new URL(u);
    if (url.protocol === 'http:' && !(allowHttp && isLoopbackUrl(url))) {
      ctx.addIssue({
        code: 'custom',
        path: [keys[i]!],
        message: allowHttp ? 'allow_http applies only to loopback hosts (127.0.0.1, ::1, localhost)' : 'must be https (http is allowed only for loopback hosts with allow_http: true)',
      });
    }
  });
}

export const oidcIssuerSchema = z
  .object({
    issuer: urlString.describe('exactly the `iss` value the IdP puts in tokens'),
    audience: stringOrList.describe('the token `aud` must contain one of these'),
    jwks_uri: urlString.optional().describe('when set, discovery is skipped'),
    discovery: z.boolean().default(true),
    algorithms: algorithmsSchema.default([...DEFAULT_ALGORITHMS]),
    ...claimMapping,
    jwks_cache_ttl: z.number().positive().default(600).describe('seconds a signing key is trusted after the IdP last published it'),
    jwks_refresh_cooldown: z.number().min(0).default(30).describe('minimum seconds between refreshes caused by an unknown kid'),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.jwks_uri === undefined && !o.discovery) {
      ctx.addIssue({ code: 'custom', path: ['jwks_uri'], message: 'is required when discovery is false' });
    }
    checkTransport([o.issuer, o.jwks_uri], o.allow_http, ctx, ['issuer', 'jwks_uri']);
  });

export const introspectionSchema = z
  .object({
    endpoint: urlString,
    client_id: z.string().min(1),
    client_secret: secretField(),
    issuer: z.string().min(1).optional().describe('recorded as the principal issuer; checked against `iss` when the answer has one'),
    audience: stringOrList.optional().describe('when set, the answer `aud` must contain one of these'),
    ...claimMapping,
    cache_ttl: z.number().min(0).max(300).default(60).describe('seconds an active answer is reused'),
  })
  .strict()
  .superRefine((o, ctx) => checkTransport([o.endpoint], o.allow_http, ctx, ['endpoint']));

export const serviceKeySchema = z
  .object({
    name: z.string().min(1),
    groups: z.array(z.string().min(1)).default([]),
    secret: secretField().optional(),
    hash: z.string().min(1).optional(),
    expires: z.coerce.date().optional(),
    revoked: z.boolean().default(false),
  })
  .strict()
  .refine((k) => (k.secret === undefined) !== (k.hash === undefined), { message: 'give exactly one of secret or hash' })
  .refine((k) => k.hash === undefined || HASH_PATTERN.test(k.hash), { path: ['hash'], message: 'must be sha256:<64 hex digits>, as printed by `portcullis keys create`' })
  // The message never echoes the value: it is a credential.
  .refine((k) => k.secret === undefined || KEY_PATTERN.test(k.secret.reveal()), {
    path: ['secret'],
    message: 'must be a key made by `portcullis keys create` (pcs_ followed by 43 base64url characters)',
  });

export const identitiesSchema = z
  .object({
    keys: z.array(serviceKeySchema).default([]),
    oidc: z.array(oidcIssuerSchema).default([]),
    introspection: introspectionSchema.optional(),
  })
  .strict()
  .superRefine((ids, ctx) => {
    const names = new Set<string>();
    ids.keys.forEach((k, i) => {
      if (names.has(k.name)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'name'], message: `duplicate key name ${k.name}` });
      names.add(k.name);
    });
    const issuers = new Set<string>();
    ids.oidc.forEach((o, i) => {
      if (issuers.has(o.issuer)) ctx.addIssue({ code: 'custom', path: ['oidc', i, 'issuer'], message: 'this issuer is configured twice' });
      issuers.add(o.issuer);
    });
  })
  .default({ keys: [], oidc: [] });

export type ServiceKeyConfig = z.infer<typeof serviceKeySchema>;
export type OidcIssuerConfig = z.infer<typeof oidcIssuerSchema>;
export type IntrospectionConfig = z.infer<typeof introspectionSchema>;
export type IdentitiesConfig = z.infer<typeof identitiesSchema>;
