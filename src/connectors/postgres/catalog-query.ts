/**
 * Reads the catalog of a PostgreSQL upstream over a short-lived session of its own: one simple
 * Query carrying every statement (one round trip), then Terminate.
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-SIMPLE-QUERY
 */
import type { WireOpenOptions, WireUpstream } from '../connector.js';
import { CATALOG_STATEMENTS, CatalogSnapshot, type CatalogRow, type CatalogRows } from '../catalog-snapshot.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { MessageWriter } from '../../codecs/pgwire/writer.js';
import { BodyReader, ProtocolError } from '../../codecs/pgwire/body-reader.js';
import { Be, Fe } from '../../codecs/pgwire/message-codes.js';
import { MessageFramer } from './framer.js';
import { describeErrorBody } from '../../codecs/pgwire/error-fields.js';

export interface PostgresCatalogOptions {
  /** The connection's name, for error messages. */
  readonly connection: string;
  /** Covers the statements after the session is open; the session is dropped past it. */
  readonly timeoutMs: number;
  readonly loadedAt: number;
}

/**
 * Names go over the wire in UTF-8 whatever the database encoding; application_name lets a DBA
 * tell this session from client traffic in pg_stat_activity.
 */
export const CATALOG_SESSION: WireOpenOptions = {
  applicationName: 'portcullis:catalog',
  parameters: new Map([['client_encoding', 'UTF8']]),
};

/**
 * REPEATABLE READ gives every statement the same snapshot. The server-side timeouts end the
 * work upstream too (a dropped socket is noticed only when the server next writes); the lock
 * timeout keeps a pending ALTER TABLE from parking us behind it.
 */
const catalogQuery = (timeoutMs: number): Buffer =>
  new MessageWriter(4096)
    .begin(Fe.Query)
    .cstring(
      [
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
        `SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))}`,
        "SET LOCAL lock_timeout = '5s'",
        ...CATALOG_STATEMENTS.map((s) => s.sql),
        'COMMIT',
      ].join(';\n'),
    )
    .end()
    .take();

const terminate = new MessageWriter(8).begin(Fe.Terminate).end().take();

/**
 * Opens a session with `open`, reads the catalog and closes the session. Rejects with
 * ERR_UPSTREAM_UNAVAILABLE when the upstream cannot be reached, refuses a statement or does
 * not answer within `timeoutMs`.
 *
 * @example
 *   const snap = await loadPostgresCatalog(() => connector.openWire(CATALOG_SESSION), { connection: 'main', timeoutMs: 30_000, loadedAt: Date.now() });
 */
export async function loadPostgresCatalog(open: () => Promise<WireUpstream>, opts: PostgresCatalogOptions): Promise<CatalogSnapshot> {
  const up = await open();
  const framer = new MessageFramer(up.socket, up.leftover);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    up.socket.destroy();
  }, opts.timeoutMs);
  try {
    up.socket.write(catalogQuery(opts.timeoutMs));
    const sets = await readResultSets(framer, opts.connection);
    up.socket.end(terminate);
    const parts = CATALOG_STATEMENTS.flatMap((s) => (s.rows === undefined ? [] : [s.rows]));
    if (sets.length !== parts.length) throw new ProtocolError(`expected ${parts.length} result sets, got ${sets.length}`);
    const rows: Partial<Record<keyof CatalogRows, CatalogRow[]>> = {};
    parts.forEach((part, i) => (rows[part] = sets[i]));
    return CatalogSnapshot.fromRows(rows as CatalogRows, opts.loadedAt);
  } catch (e) {
    up.socket.destroy();
    if (e instanceof PortcullisError) throw e;
    const reason = timedOut ? `no answer within ${opts.timeoutMs} ms` : e instanceof Error ? e.message : String(e);
    throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `reading the catalog of connection "${opts.connection}" failed: ${reason}`, { cause: e });
  } finally {
    clearTimeout(timer);
    framer.detach();
  }
}

/** Reads to ReadyForQuery: the rows of each RowDescription, in order. */
async function readResultSets(f: MessageFramer, connection: string): Promise<CatalogRow[][]> {
  const sets: CatalogRow[][] = [];
  let current: CatalogRow[] | undefined;
  let failure: string | undefined;
  for (;;) {
    const msg = await f.next();
    switch (msg.code) {
      case Be.RowDescription:
        current = [];
        sets.push(current);
        break;
      case Be.DataRow:
        if (current === undefined) throw new ProtocolError('DataRow before RowDescription');
        current.push(dataRow(msg.body));
        break;
      case Be.CommandComplete:
        current = undefined;
        break;
      case Be.ErrorResponse:
        // The server skips the rest of the string and sends ReadyForQuery; wait for it so the
        // session ends cleanly.
        failure ??= describeErrorBody(msg.body);
        break;
      case Be.ReadyForQuery:
        if (failure !== undefined) {
          throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `reading the catalog of connection "${connection}" failed: ${failure}`);
        }
        return sets;
      case Be.NoticeResponse:
      case Be.ParameterStatus:
      case Be.NotificationResponse:
        break;
      default:
        throw new ProtocolError(`unexpected message '${String.fromCharCode(msg.code)}' in a catalog query`);
    }
  }
}

function dataRow(body: Buffer): CatalogRow {
  const r = new BodyReader(body);
  const n = r.int16();
  const row: (string | null)[] = new Array<string | null>(n);
  for (let i = 0; i < n; i++) {
    const len = r.int32();
    row[i] = len < 0 ? null : r.bytes(len).toString('utf8');
  }
  return row;
}
