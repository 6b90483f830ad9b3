import { z } from 'zod';
import { secretField } from '../config/secret-field.js';

/** `identities:` — service keys now; OIDC issuers are added by the identity engine. */
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
  .refine((k) => (k.secret === undefined) !== (k.hash === undefined), { message: 'give exactly one of secret or hash' });

export const identitiesSchema = z
  .object({
    keys: z.array(serviceKeySchema).default([]),
  })
  .strict()
  .default({ keys: [] });

export type ServiceKeyConfig = z.infer<typeof serviceKeySchema>;
export type IdentitiesConfig = z.infer<typeof identitiesSchema>;
