import { z } from 'zod';
import { secretField } from '../config/secret-field.js';

const groups = z.array(z.string().min(1)).default([]);

/**
 * `console:` — the web console for reviewers and auditors (docs/console.md). Sign-in is the
 * authorization-code flow against one of `identities.oidc`; `dev_sign_in` replaces it with a
 * name-and-groups form and is meant for the demo only.
 */
export const consoleSchema = z
  .object({
    issuer: z.string().min(1).optional().describe('one of identities.oidc[].issuer'),
    client_id: z.string().min(1).optional(),
    client_secret: secretField().optional().describe('absent for a public client (PKCE only)'),
    redirect_url: z.string().url().optional().describe('default: <listener>/console/callback'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'groups']),
    reviewers: groups,
    auditors: groups,
    admins: groups,
    session_ttl: z.number().positive().max(86_400).default(28_800).describe('seconds a console sign-in lasts'),
    dev_sign_in: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.dev_sign_in && (c.issuer === undefined || c.client_id === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'issuer and client_id are required unless dev_sign_in is true' });
    }
    if (c.scopes.includes('openid') === false) ctx.addIssue({ code: 'custom', path: ['scopes'], message: 'must include openid' });
  });

export type ConsoleConfig = z.infer<typeof consoleSchema>;
