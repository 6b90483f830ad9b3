import { z } from 'zod';
import { Secret } from '../config/secret.js';
import { secretField } from '../config/secret-field.js';
import { PortcullisError } from '../errors/portcullis-error.js';
import { durationSchema } from '../policy/schema.js';

export const WAIT_MODES = ['hold', 'return'] as const;
export type WaitMode = (typeof WAIT_MODES)[number];

const FRONTENDS = ['pgwire', 'http', 'mcp', 'snowflake'] as const;

/**
 * A rule's `review:` block. The policy schema passes it through untouched so that the policy
 * language does not depend on this engine; it is validated here, once, at start.
 *
 * `mode` is one mode for every frontend, or one per frontend (`{ pgwire: hold, mcp: return }`):
 * an interactive psql session can wait, an agent whose tool calls time out cannot. Absent, it
 * is `hold` on the PostgreSQL wire and `return` on HTTP and MCP.
 */
export const reviewSchema = z
  .object({
    approvers: z.array(z.string().min(1)).min(1).optional().describe('groups whose members may approve; approvals.default_approvers when absent'),
    approvals: z.number().int().min(1).max(10).default(1),
    mode: z.union([z.enum(WAIT_MODES), z.partialRecord(z.enum(FRONTENDS), z.enum(WAIT_MODES))]).optional(),
    timeout: durationSchema.default(120_000).describe('hold: how long the session waits'),
    expires: durationSchema.default(15 * 60_000).describe('how long a request may be decided'),
    scope: z.enum(['statement', 'window']).default('statement'),
    window: durationSchema.default(10 * 60_000).describe('scope window: how long the grant lasts'),
  })
  .strict();

export type ReviewOptions = z.output<typeof reviewSchema>;

const webhookSchema = z
  .object({
    url: z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
    secret: secretField().optional().describe('HMAC-SHA256 key; the signature travels in X-Portcullis-Signature'),
    format: z.enum(['json', 'slack']).default('json'),
    timeout: durationSchema.default(5000),
  })
  .strict();

/** `notifications:` — who hears about approval requests and their outcome. */
export const notificationsSchema = z
  .object({
    webhooks: z.array(webhookSchema).default([]),
  })
  .strict();

/**
 * `approvals:` — its presence turns review decisions into requests a person can approve;
 * without it they are refused with ERR_APPROVAL_REQUIRED (fail closed).
 *
 * @example
 * approvals:
 *   store: postgres://portcullis@audit-db:5432/audit   # absent: wherever audit.store is
 *   password: ${env:AUDIT_DB_PASSWORD}
 *   default_approvers: [dba]
 */
export const approvalsSchema = z
  .object({
    store: z
      .union([z.string().min(1), z.instanceof(Secret)])
      .refine((s) => /^(sqlite:.+|postgres(ql)?:\/\/)/.test(typeof s === 'string' ? s : s.reveal()), { message: 'must be sqlite:PATH or a postgres:// URL' })
      .optional()
      .describe('sqlite:PATH or postgres://…; defaults to the audit store: its PostgreSQL database, else approvals.db beside its SQLite file'),
    password: secretField().optional().describe('PostgreSQL password, when the URL carries none'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
      .optional()
      .describe('PostgreSQL schema holding approval_requests and approval_votes; defaults to audit.schema (portcullis)'),
    console_url: z.string().url().optional().describe('where reviewers decide; named in notices and webhooks'),
    default_approvers: z.array(z.string().min(1)).min(1).optional(),
    estimate: z.boolean().default(true).describe('EXPLAIN writes upstream for an affected-row estimate'),
    instance: z.string().min(1).max(200).optional().describe('this gateway; a restart abandons only its own held requests'),
  })
  .strict();

export type ApprovalsConfig = z.output<typeof approvalsSchema>;
export type NotificationsConfig = z.output<typeof notificationsSchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;

/** Validates a rule's review block; errors name the rule so the config can be fixed. */
export function parseReview(rule: string, raw: unknown): ReviewOptions {
  const r = reviewSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${['review', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
  throw new PortcullisError('ERR_CONFIG_INVALID', `policy rule "${rule}": ${issues}`);
}

export function modeFor(o: ReviewOptions, frontend: string): WaitMode {
  if (typeof o.mode === 'string') return o.mode;
  // A database session can wait; an agent's HTTP/MCP tool call would time out first.
  const fallback: WaitMode = frontend === 'pgwire' ? 'hold' : 'return';
  return (o.mode as Partial<Record<string, WaitMode>> | undefined)?.[frontend] ?? fallback;
}
