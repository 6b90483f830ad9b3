import type { SnowflakeConnectionConfig } from '../../config/schema.js';
import type { Connector } from '../connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';

/** Skeleton: replaced by the snowflake-sdk connector. */
export class SnowflakeConnector implements Connector {
  readonly type = 'snowflake';
  readonly dialect = 'snowflake' as const;
  readonly name: string;
  constructor(name: string, _config: SnowflakeConnectionConfig) {
    this.name = name;
  }
  async start(): Promise<void> {}
  async health(): Promise<number> {
    throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.name}": not implemented`);
  }
  async close(): Promise<void> {}
}
