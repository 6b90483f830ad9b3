import { z } from 'zod';
import { secretField } from './secret-field.js';
import { identitiesSchema } from '../identity/schema.js';
import { policySchema } from '../policy/schema.js';
import { auditSchema } from '../audit/schema.js';
import { maskingSchema } from '../masking/schema.js';
import { mcpConfigSchema } from '../frontends/mcp/mcp-config.js';
import { approvalsSchema, notificationsSchema } from '../approvals/schema.js';
import { consoleSchema } from '../web/console-config.js';

const port = z.number().int().min(0).max(65535);

const tlsSchema = z
  .object({
    cert: z.string().min(1).describe('PEM certificate chain file'),
    key: z.string().min(1).describe('PEM private key file'),
  })
  .strict();

const listenerSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port,
    tls: tlsSchema.optional(),
  })
  .strict();

const upstreamTlsSchema = z
  .object({
    mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('verify-full'),
    ca: z.string().min(1).optional().describe('PEM CA bundle file; system roots when absent'),
    servername: z.string().min(1).optional(),
  })
  .strict();

const postgresConnectionSchema = z
  .object({
    type: z.literal('postgres'),
    url: z
      .string()
      .min(1)
      .refine((u) => /^postgres(ql)?:\/\//.test(u), { message: 'must be a postgres:// URL' }),
    password: secretField().optional(),
    tls: upstreamTlsSchema.optional(),
    connect_timeout: z.number().positive().default(10).describe('seconds'),
  })
  .strict();

const embeddedConnectionSchema = z
  .object({
    type: z.literal('embedded'),
    seed: z.enum(['demo', 'empty']).default('demo'),
    data_dir: z.string().min(1).optional().describe('persist here; in memory when absent'),
  })
  .strict();

export const connectionSchema = z.discriminatedUnion('type', [postgresConnectionSchema, embeddedConnectionSchema]);

const limitsSchema = z
  .object({
    max_connections: z.number().int().positive().default(1000),
    max_message_bytes: z.number().int().min(1024).max(1073741823).default(64 * 1024 * 1024),
    startup_timeout: z.number().positive().default(10).describe('seconds a client has to authenticate'),
  })
  .strict()
  .default({ max_connections: 1000, max_message_bytes: 64 * 1024 * 1024, startup_timeout: 10 });

const securitySchema = z
  .object({
    allow_insecure_loopback: z.boolean().default(false),
  })
  .strict()
  .default({ allow_insecure_loopback: false });

const loggingSchema = z
  .object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .default({ level: 'info' });

export const configSchema = z
  .object({
    listen: z
      .object({
        postgres: listenerSchema.optional(),
        http: listenerSchema.optional(),
      })
      .strict(),
    connections: z.record(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, 'connection names are 1-63 of A-Z a-z 0-9 _ . -'), connectionSchema).refine((c) => Object.keys(c).length > 0, {
      message: 'at least one connection is required',
    }),
    identities: identitiesSchema,
    security: securitySchema,
    limits: limitsSchema,
    logging: loggingSchema,
    policy: policySchema.optional(),
    audit: auditSchema.optional(),
    masking: maskingSchema.optional(),
    mcp: mcpConfigSchema.optional(),
    approvals: approvalsSchema.optional(),
    notifications: notificationsSchema.optional(),
    console: consoleSchema.optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConnectionConfig = z.infer<typeof connectionSchema>;
export type PostgresConnectionConfig = z.infer<typeof postgresConnectionSchema>;
export type EmbeddedConnectionConfig = z.infer<typeof embeddedConnectionSchema>;
export type ListenerConfig = z.infer<typeof listenerSchema>;
