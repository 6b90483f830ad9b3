import { z } from 'zod';

/**
 * `mcp:` — how MCP tool results are sized for a model's context, and where agents reach the
 * gateway. To be added to the main config schema as `mcp: mcpConfigSchema`; until then
 * `readMcpConfig` supplies the defaults.
 *
 *   mcp:
 *     max_rows: 200          # rows a query tool call returns at most (a call may ask for fewer)
 *     max_bytes: 65536       # JSON bytes of rows a tool call returns at most
 *     public_url: https://portcullis.example.com   # behind a proxy: the URL agents use
 */
export const mcpConfigSchema = z
  .object({
    max_rows: z.number().int().min(1).max(100_000).default(200),
    max_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
    public_url: z
      .string()
      .min(1)
      .refine((u) => URL.canParse(u) && ['https:', 'http:'].includes(new URL(u).protocol) && new URL(u).search === '' && new URL(u).hash === '', {
        message: 'must be an http(s) URL without query or fragment',
      })
      .optional()
      .describe('the URL agents reach the gateway at, when a proxy sits in front'),
  })
  .strict()
  .default({ max_rows: 200, max_bytes: 64 * 1024 });

export type McpConfig = z.infer<typeof mcpConfigSchema>;

/** The `mcp:` section of an already validated config, or the defaults when it has none. */
export function readMcpConfig(config: unknown): McpConfig {
  return mcpConfigSchema.parse((config as { mcp?: unknown } | null)?.mcp);
}
