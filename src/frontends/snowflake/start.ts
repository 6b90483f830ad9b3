import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Connector } from '../../connectors/connector.js';
import type { MaskingEngine } from '../../masking/index.js';
import type { Pipeline } from '../../pipeline/pipeline.js';
import { SnowflakeFrontend } from './server.js';
import { listenerBase } from '../listener-base.js';


/** Builds the Snowflake listener from the validated config; `main.ts` calls this. */
export async function startSnowflakeFrontend(
  config: Config,
  pipeline: Pipeline,
  connectors: ReadonlyMap<string, Connector>,
  logger: Logger,
  masking?: MaskingEngine,
): Promise<{ host: string; port: number; close(): Promise<void> } | undefined> {
  const l = config.listen.snowflake;
  if (!l) return undefined;
  const frontend = new SnowflakeFrontend({
    ...listenerBase(l, config, pipeline, connectors, logger),
    // PostgreSQL quotes values into some error texts (`invalid input syntax for type integer:
    // "…"`): with masking on, every error a client reads is treated as touching sensitive data.
    maskText: masking?.enabled ? (text, sql) => masking.maskErrorMessage({ severity: 'ERROR', code: 'XX000', message: text }, { sensitive: true, statementText: sql })?.message ?? text : undefined,
  });
  const addr = await frontend.listen();
  return { ...addr, close: () => frontend.close() };
}
