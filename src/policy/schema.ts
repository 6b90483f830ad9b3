import { z } from 'zod';
import { RISK_FLAGS, STATEMENT_KINDS } from '../analysis/facts.js';

const nameList = z.array(z.string().min(1)).min(1);

/** "30s", "500ms", "2m" or a number of milliseconds. */
export const durationSchema = z.union([
  z.number().int().positive().describe('milliseconds'),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|s|m|min|h)$/, 'a duration such as "500ms", "30s", "2m" or "1h", or a number of milliseconds')
    .transform((s) => {
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)$/.exec(s)!;
      const n = Number(m[1]);
      const unit = m[2]!;
      const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000;
      return Math.round(n * factor);
    }),
]);

const whoSchema = z
  .object({
    groups: nameList.optional().describe('any of these groups (glob)'),
    subjects: nameList.optional().describe('any of these subjects (glob)'),
    connections: nameList.optional().describe('any of these connection names (glob)'),
    frontends: z.array(z.enum(['pgwire', 'http', 'mcp', 'snowflake'])).min(1).optional(),
  })
  .strict();

const whatSchema = z
  .object({
    kinds: z.array(z.enum(STATEMENT_KINDS as [string, ...string[]])).min(1).optional(),
    risks: z.array(z.enum([...RISK_FLAGS, '*'] as [string, ...string[]])).min(1).optional(),
    tables: nameList.optional().describe('globs over relations read or written: "public.*", "*.customers", "orders"'),
    functions: nameList.optional().describe('globs over functions called: "pg_catalog.*", "nextval"'),
    tags: nameList.optional().describe('command tags such as "SELECT", "DROP TABLE"; case-insensitive'),
  })
  .strict();

export const ruleSchema = z
  .object({
    name: z.string().min(1).regex(/^[A-Za-z0-9_.:-]+$/, 'rule names are letters, digits and _ . : -'),
    description: z.string().optional(),
    who: whoSchema.optional(),
    what: whatSchema.optional(),
    action: z.enum(['allow', 'deny', 'review']),
    reason: z.string().min(1).optional().describe('shown to the agent on deny/review'),
    max_rows: z.number().int().positive().optional(),
    timeout: durationSchema.optional(),
    mask: z.array(z.string().min(1)).optional(),
    review: z.record(z.string(), z.unknown()).optional().describe('passed to the approvals engine'),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.action !== 'allow' && (r.max_rows !== undefined || r.timeout !== undefined || r.mask !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'max_rows, timeout and mask only apply to allow rules' });
    }
    if (r.action !== 'review' && r.review !== undefined) ctx.addIssue({ code: 'custom', message: 'review: only applies to review rules' });
  });

const limitSetSchema = z
  .object({
    statements_per_minute: z.number().int().positive().optional(),
    sessions_per_identity: z.number().int().positive().optional(),
  })
  .strict();

export const limitsSchema = limitSetSchema
  .extend({
    groups: z.record(z.string(), limitSetSchema).optional().describe('overrides by group; the most generous group wins'),
    subjects: z.record(z.string(), limitSetSchema).optional().describe('overrides by subject; beats groups'),
  })
  .strict();

export const PRESETS = ['read-only', 'read-write-with-review', 'audit-only'] as const;
export type PresetName = (typeof PRESETS)[number];

/**
 * `policy:` — ordered rules, then an optional preset, then deny. See docs/policy.md.
 * A config without a policy refuses to start (fail closed).
 */
export const policySchema = z
  .object({
    preset: z.enum(PRESETS).optional(),
    rules: z.array(ruleSchema).default([]),
    limits: limitsSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate rule name "${r.name}"` });
      seen.add(r.name);
    });
  });

export type PolicyConfig = z.infer<typeof policySchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
