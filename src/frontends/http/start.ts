import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Connector } from '../../connectors/connector.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { readMcpConfig } from '../mcp/mcp-config.js';
import { HttpFrontend } from './server.js';
import { listenerBase } from '../listener-base.js';
import type { ApprovalsBackend } from './approvals-api.js';
import type { MaskingEngine } from '../../masking/index.js';
import { mountConsole, type ConsoleWiring } from './console-mount.js';
import { recordAction } from '../../web/action-log.js';


/** Builds the HTTP listener (query API + MCP) from the validated config; `main.ts` calls this. */
export async function startHttpListener(
  config: Config,
  pipeline: Pipeline,
  connectors: ReadonlyMap<string, Connector>,
  logger: Logger,
  masking?: MaskingEngine,
  approvals?: ApprovalsBackend,
  consoleWiring?: ConsoleWiring,
): Promise<{ host: string; port: number; close(): Promise<void> } | undefined> {
  const l = config.listen.http;
  if (!l) return undefined;
  const frontend = new HttpFrontend({
    ...listenerBase(l, config, pipeline, connectors, logger),
    mcp: readMcpConfig(config),
    issuers: config.identities.oidc.map((o) => o.issuer),
    scopes: [...new Set(config.identities.oidc.flatMap((o) => o.required_scopes))],
    approvals,
    sessions: consoleWiring?.audit
      ? {
          query: consoleWiring.audit,
          readerGroups: [...new Set([...(config.audit?.readers ?? []), ...(config.console?.auditors ?? []), ...(config.console?.admins ?? [])])],
          logger,
          recordAction,
        }
      : undefined,
    console: mountConsole(config, connectors, logger, consoleWiring),
    // describe_table marks the columns this principal will only ever see masked.
    maskedColumns:
      masking && masking.enabled
        ? ({ principal, schema, table, columns }) => {
            const ctx = masking.errorContext({ groups: principal.groups });
            return new Set(columns.filter((c) => ctx.columnMasked?.(`${schema}.${table}.${c}`) === true));
          }
        : undefined,
  });
  const addr = await frontend.listen();
  return { ...addr, close: () => frontend.close() };
}
