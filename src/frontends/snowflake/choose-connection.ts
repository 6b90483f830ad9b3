import type { Connector } from '../../connectors/connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';

/**
 * Which gateway connection a Snowflake client reaches. A driver always names an account (its
 * `account` option), and a SQL API call may name a database: when that is the name of a
 * connection, it is the one. Otherwise a gateway with a single connection serves it; with
 * several, the caller must choose, and the error lists the choices.
 */
export function chooseConnection(connectors: ReadonlyMap<string, Connector>, named: readonly (string | undefined)[], what: string): Connector {
  for (const n of named) {
    if (n === undefined || n === '') continue;
    const exact = connectors.get(n) ?? [...connectors.values()].find((c) => c.name.toLowerCase() === n.toLowerCase());
    if (exact) return exact;
  }
  if (connectors.size === 1) return connectors.values().next().value!;
  const choices = [...connectors.keys()].map((k) => `"${k}"`).join(', ');
  const given = named.find((n) => n !== undefined && n !== '');
  throw new PortcullisError(
    'ERR_UNKNOWN_CONNECTION',
    given === undefined ? `name a connection as the ${what}; this gateway has ${choices}` : `no connection named ${JSON.stringify(given.slice(0, 64))}; set the ${what} to one of ${choices}`,
  );
}
