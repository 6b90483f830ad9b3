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

const snowflakeConnectionSchema = z
  .object({
    type: z.literal('snowflake'),
    account: z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/, 'an account identifier such as myorg-myaccount').optional(),
    url: z
      .string()
      .min(1)
      .refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' })
      .optional()
      .describe('the account URL; defaults to https://<account>.snowflakecomputing.com (http:// only for the development emulator)'),
    user: z.string().min(1),
    private_key: secretField().optional().describe('PEM PKCS#8 key for key-pair (JWT) authentication; preferred'),
    private_key_passphrase: secretField().optional(),
    oauth_token: secretField().optional(),
    password: secretField().optional(),
    role: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
    database: z.string().min(1).optional(),
    schema: z.string().min(1).optional(),
    connect_timeout: z.number().positive().default(30).describe('seconds'),
  })
  .strict()
  .refine((c) => c.account !== undefined || c.url !== undefined, { message: 'account or url is required' })
  .refine((c) => [c.private_key, c.oauth_token, c.password].filter((x) => x !== undefined).length === 1, {
    message: 'exactly one of private_key, oauth_token or password is required',
  });

export const connectionSchema = z.discriminatedUnion('type', [postgresConnectionSchema, embeddedConnectionSchema, snowflakeConnectionSchema]);

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
        snowflake: listenerSchema.optional().describe('the Snowflake driver protocol and SQL API v2; drivers connect here'),
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
export type SnowflakeConnectionConfig = z.infer<typeof snowflakeConnectionSchema>;
export type ListenerConfig = z.infer<typeof listenerSchema>;
