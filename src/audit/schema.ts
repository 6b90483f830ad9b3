import { z } from 'zod';
import { Secret } from '../config/secret.js';
import { secretField } from '../config/secret-field.js';
import { PortcullisError } from '../errors/portcullis-error.js';

const DEFAULT_RESULTS = { max_rows: 1000, max_bytes: 1024 * 1024 };

/**
 * `audit:` in the gateway config. Absent means SQLite at ./data/portcullis.db (relative to the
 * working directory), refuse on failure, results capped at 1,000 rows / 1 MiB, 365 days.
 *
 * @example
 * audit:
 *   store: postgres://portcullis@audit-db:5432/audit
 *   password: ${env:AUDIT_DB_PASSWORD}
 *   signing_key: ${file:/etc/portcullis/audit-ed25519.pem}
 */
export const auditSchema = z
  .object({
    enabled: z.boolean().default(true).describe('false turns recording off entirely (benchmarks, local development); never in production'),
    store: z
      .union([z.string().min(1), z.instanceof(Secret)])
      .default('sqlite:./data/portcullis.db')
      .refine((s) => /^(sqlite:|postgres(ql)?:\/\/)/.test(typeof s === 'string' ? s : s.reveal()), { message: 'must be sqlite:PATH or a postgres:// URL' })
      .describe('sqlite:PATH or postgres://…; a ${env:…} reference keeps a URL with a password secret'),
    password: secretField().optional().describe('PostgreSQL password, when the URL carries none'),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier')
      .default('portcullis')
      .describe('PostgreSQL schema holding the audit tables'),
    on_failure: z.enum(['refuse', 'allow']).default('refuse'),
    results: z
      .object({
        max_rows: z.number().int().min(0).default(DEFAULT_RESULTS.max_rows),
        max_bytes: z.number().int().min(0).default(DEFAULT_RESULTS.max_bytes),
      })
      .strict()
      .default(DEFAULT_RESULTS),
    retention_days: z.number().int().positive().default(365),
    signing_key: secretField().optional().describe('Ed25519 private key, PEM; usually ${file:…}'),
    checkpoint_every: z.number().int().positive().default(1000).describe('events between checkpoints'),
    checkpoint_interval: z.number().positive().default(60).describe('seconds between checkpoints while events arrive'),
    instance: z.string().min(1).max(200).optional().describe('this gateway instance; defaults to the host name'),
    readers: z.array(z.string().min(1)).default([]).describe('groups that may read recordings through GET /api/v1/sessions (console auditors and admins may too)'),
  })
  .strict();

export type AuditConfig = z.output<typeof auditSchema>;
export type AuditConfigInput = z.input<typeof auditSchema>;

/** Parses `config.audit` (unknown until the main schema carries it); absent means all defaults. */
export function parseAuditConfig(raw: unknown): AuditConfig {
  return auditSchema.parse(raw ?? {});
}

/** The `audit:` section of a loaded config file (any object), validated; errors name the key. */
export function auditConfigOf(config: object, origin = 'config'): AuditConfig {
  const r = auditSchema.safeParse((config as { audit?: unknown }).audit ?? {});
  if (!r.success) {
    // Not config/load's formatter: the main schema will import this file, and load imports the main schema.
    const lines = r.error.issues.map((i) => `  - ${['audit', ...i.path.map(String)].join('.')}: ${i.code === 'unrecognized_keys' ? `unknown key(s): ${i.keys.join(', ')}` : i.message}`);
    throw new PortcullisError('ERR_CONFIG_INVALID', `${origin} is invalid:\n${lines.join('\n')}`);
  }
  return r.data;
}
