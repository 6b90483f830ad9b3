import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Connector } from '../connectors/connector.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { VERSION } from '../util/version.js';

/** What every HTTP-based frontend (the HTTP API, Snowflake) takes from the config alike. */
export interface ListenerBase {
  readonly host: string;
  readonly port: number;
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly pipeline: Pipeline;
  readonly connectors: ReadonlyMap<string, Connector>;
  readonly allowInsecureLoopback: boolean;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly version: string;
}

export function listenerBase(
  listen: { readonly host: string; readonly port: number; readonly tls?: { readonly cert: string; readonly key: string } | undefined },
  config: Config,
  pipeline: Pipeline,
  connectors: ReadonlyMap<string, Connector>,
  logger: Logger,
): ListenerBase {
  return {
    host: listen.host,
    port: listen.port,
    tls: listen.tls,
    pipeline,
    connectors,
    allowInsecureLoopback: config.security.allow_insecure_loopback,
    maxConnections: config.limits.max_connections,
    logger,
    version: VERSION,
  };
}
