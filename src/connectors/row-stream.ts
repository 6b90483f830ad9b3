import type { Connector, QueryRequest, QueryResult, RowStream, StreamOutcome } from './connector.js';
import { PortcullisError } from '../errors/portcullis-error.js';

/** A finished result seen as a one-batch stream, for connectors that only answer whole. */
export function resultAsStream(result: QueryResult): RowStream {
  let done = false;
  const outcome: StreamOutcome = { rowCount: result.rowCount, command: result.command, truncated: result.truncated, notices: result.notices, queryId: result.queryId };
  return {
    columns: result.columns,
    async *[Symbol.asyncIterator]() {
      if (result.rows.length > 0) yield result.rows;
      done = true;
    },
    outcome() {
      if (!done) throw new Error('outcome() read before the rows were exhausted');
      return outcome;
    },
    close: async () => {},
  };
}

/** The connector's own stream when it has one, else its whole-result query as one batch. */
export async function openRowStream(connector: Connector, req: QueryRequest): Promise<RowStream> {
  if (connector.stream) return connector.stream(req);
  if (connector.query) return resultAsStream(await connector.query(req));
  throw new PortcullisError('ERR_UNSUPPORTED_PROTOCOL', `connection "${connector.name}" does not support driver-path queries`);
}
