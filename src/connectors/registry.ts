import type { ConnectionConfig } from '../config/schema.js';
import type { Connector } from './connector.js';
import { PostgresConnector } from './postgres/postgres-connector.js';
import { EmbeddedConnector } from './embedded/embedded-connector.js';
import { SnowflakeConnector } from './snowflake/snowflake-connector.js';

/**
 * The explicit list of connector types. A new database is a new folder and one line here.
 */
export function createConnector(name: string, config: ConnectionConfig): Connector {
  switch (config.type) {
    case 'postgres':
      return new PostgresConnector(name, config);
    case 'embedded':
      return new EmbeddedConnector(name, config);
    case 'snowflake':
      return new SnowflakeConnector(name, config);
  }
}
