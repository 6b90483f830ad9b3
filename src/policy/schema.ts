import { z } from 'zod';

/** `policy:` — placeholder shape until the policy engine lands; a config without it fails closed. */
export const policySchema = z
  .object({
    preset: z.enum(['read-only', 'read-write-with-review', 'audit-only']).optional(),
    rules: z.array(z.record(z.string(), z.unknown())).default([]),
  })
  .strict();

export type PolicyConfig = z.infer<typeof policySchema>;
