import pg from 'pg';
import Cursor from 'pg-cursor';
import type { QueryRequest, QueryResult, ResultColumn, RowStream, StreamOutcome } from '../connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import { sendCancel, type UpstreamTarget, type UpstreamTlsOptions } from './handshake.js';
import { StatementError } from './statement-error.js';

/** Sessions kept open per connection for the driver path (HTTP, MCP). */
const POOL_SIZE = 10;
const IDLE_MS = 30_000;
/** Rows fetched from the portal per read: big enough to amortize the round trip, small enough to hold. */
const BATCH_ROWS = 1000;

/** Every value stays in PostgreSQL's text form: masking and the frontends see what psql would. */
const identity = (v: string): string => v;
const TEXT_TYPES = { getTypeParser: () => identity } as unknown as pg.CustomTypesConfig;

export interface DriverPoolOptions {
  readonly name: string;
  readonly target: UpstreamTarget;
  readonly tls: UpstreamTlsOptions;
  readonly connectTimeoutMs: number;
}

/**
 * The driver path to a real PostgreSQL: a `pg.Pool` that logs in with the gateway's credential.
 *
 * One pool per connection, not per identity: a checked-out session is stamped for the request
 * with `set_config('application_name', 'portcullis:<subject>…')` (and `statement_timeout` when
 * the decision carries one), and `DISCARD ALL` on the way back puts every setting, prepared
 * statement, temporary table and role change back, so nothing one identity did on a pooled
 * session is visible to the next. A statement that leaves a transaction open is rolled back:
 * the driver path runs one statement per request, so a transaction cannot span requests.
 *
 * Rows come through a portal (pg-cursor) with a row limit one past `maxRows`, so a huge
 * result is never fetched; the extra row only tells us that the result was truncated.
 */
export class DriverPool {
  readonly #o: DriverPoolOptions;
  readonly #pool: pg.Pool;

  constructor(o: DriverPoolOptions) {
    this.#o = o;
    const t = o.target;
    this.#pool = new pg.Pool({
      host: t.host,
      port: t.port,
      user: t.user,
      database: t.database,
      ...(t.password ? { password: t.password.reveal() } : {}),
      ssl: sslOptions(o.tls),
      application_name: 'portcullis',
      max: POOL_SIZE,
      idleTimeoutMillis: IDLE_MS,
      connectionTimeoutMillis: o.connectTimeoutMs,
    });
    // An idle session the server dropped must not become an uncaught exception; the next
    // checkout simply opens a new one.
    this.#pool.on('error', () => {});
  }

  /** The whole result at once (HTTP, MCP): the stream below, collected. */
  async query(req: QueryRequest): Promise<QueryResult> {
    const stream = await this.stream(req);
    const rows: (string | null)[][] = [];
    for await (const batch of stream) for (const r of batch) rows.push(r);
    const o = stream.outcome();
    return { columns: stream.columns, rows, rowCount: o.rowCount, command: o.command, truncated: o.truncated, notices: o.notices };
  }

  /**
   * One statement on a pooled session, its rows read from the portal in batches as the
   * caller pulls them: PostgreSQL holds the rest, so a result of any size passes in bounded
   * memory. The session returns to the pool when the rows end or the stream is closed.
   */
  async stream(req: QueryRequest): Promise<RowStream> {
    if (!Number.isInteger(req.maxRows) || req.maxRows < 0) throw new TypeError('maxRows must be a non-negative integer');
    req.signal?.throwIfAborted();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (e) {
      throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.#o.name}": ${describe(e)}`, { cause: e });
    }
    const notices: string[] = [];
    const onNotice = (n: { severity?: string | undefined; message?: string | undefined }): void => void notices.push(`${n.severity ?? 'NOTICE'}: ${n.message ?? ''}`);
    let broken: unknown;
    const onAbort = (): void => {
      // A late cancel could hit whatever the pooled session runs next: it is never reused.
      broken ??= new Error('statement aborted by the caller');
      void this.#cancel(client);
    };
    let released = false;
    let cursor: Cursor<unknown[]> | undefined;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      req.signal?.removeEventListener('abort', onAbort);
      client.off('notice', onNotice);
      await reset(client, broken);
    };
    const fail = (e: unknown): Error => {
      if (isServerError(e)) return new StatementError(e.code ?? 'XX000', e.message, e.hint);
      broken ??= e;
      return new PortcullisError('ERR_UPSTREAM_LOST', `connection "${this.#o.name}": ${describe(e)}`, { cause: e });
    };
    let first: { rows: (string | null)[][]; result: pg.QueryResult };
    try {
      const settings = ['application_name', req.applicationName];
      if (req.timeoutMs !== undefined) settings.push('statement_timeout', String(Math.max(1, Math.round(req.timeoutMs))));
      // The statement below runs in its own implicit transaction, which this makes read-only.
      if (req.readOnly === true) settings.push('default_transaction_read_only', 'on');
      await client.query(`SELECT ${settings.filter((_, i) => i % 2 === 0).map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, false)`).join(', ')}`, settings);
      client.on('notice', onNotice);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      cursor = client.query(new Cursor(req.sql, req.params ? [...req.params] : undefined, { rowMode: 'array', types: TEXT_TYPES }));
      first = await read(cursor, Math.min(BATCH_ROWS, req.maxRows + 1));
    } catch (e) {
      const err = fail(e);
      await release();
      throw err;
    }
    const columns: ResultColumn[] = (first.result.fields ?? []).map((f) => ({ name: f.name, typeOid: f.dataTypeID, tableOid: f.tableID, attnum: f.columnID }));
    const c = cursor;
    const cancel = (): void => void this.#cancel(client);
    let outcome: StreamOutcome | undefined;
    let sent = 0;
    return {
      columns,
      async *[Symbol.asyncIterator]() {
        try {
          let batch = first;
          let asked = Math.min(BATCH_ROWS, req.maxRows + 1);
          for (;;) {
            // A short read means the portal is exhausted; a read past maxRows, that we stop here.
            const exhausted = batch.rows.length < asked;
            if (sent + batch.rows.length > req.maxRows) {
              batch.rows.length = req.maxRows - sent;
              sent = req.maxRows;
              if (batch.rows.length > 0) yield batch.rows;
              await c.close();
              outcome = { rowCount: sent, command: `SELECT ${sent}`, truncated: true, notices };
              return;
            }
            sent += batch.rows.length;
            if (batch.rows.length > 0) yield batch.rows;
            if (exhausted) {
              const r = batch.result;
              const verb = r.command ?? (columns.length > 0 ? 'SELECT' : '');
              const rowCount = r.rowCount ?? (columns.length > 0 ? sent : null);
              outcome = { rowCount, command: tagOf(verb, rowCount, r.oid), truncated: false, notices };
              return;
            }
            asked = Math.min(BATCH_ROWS, req.maxRows + 1 - sent);
            batch = await read(c, asked);
          }
        } catch (e) {
          throw fail(e);
        } finally {
          if (outcome === undefined) {
            // The consumer stopped early or the read failed: the session is not reused.
            broken ??= new Error('stream abandoned');
            cancel();
          }
          await release();
        }
      },
      outcome() {
        if (outcome === undefined) throw new Error('outcome() read before the rows were exhausted');
        return outcome;
      },
      close: async () => {
        if (outcome === undefined) {
          broken ??= new Error('stream closed early');
          cancel();
        }
        await release();
      },
    };
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  /** CancelRequest on a new connection, as the protocol asks; the statement then fails with 57014. */
  async #cancel(client: pg.PoolClient): Promise<void> {
    const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
    if (processID === null || secretKey === null) return;
    await sendCancel(this.#o.target, this.#o.tls, this.#o.connectTimeoutMs, processID, secretKey).catch(() => {});
  }
}

function read(cursor: Cursor<unknown[]>, n: number): Promise<{ rows: (string | null)[][]; result: pg.QueryResult }> {
  return new Promise((resolve, reject) => {
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as (string | null)[][], result })));
  });
}

/** Back to the pool clean, or destroyed when it cannot be made clean. */
async function reset(client: pg.PoolClient, broken: unknown): Promise<void> {
  if (broken !== undefined) {
    client.release(broken instanceof Error ? broken : new Error('driver failure'));
    return;
  }
  try {
    if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK');
    await client.query('DISCARD ALL');
    client.release();
  } catch (e) {
    client.release(e instanceof Error ? e : new Error('reset failed'));
  }
}

function tagOf(verb: string, rowCount: number | null, oid: number | null | undefined): string {
  if (rowCount === null || verb === '') return verb;
  return verb === 'INSERT' ? `INSERT ${oid ?? 0} ${rowCount}` : `${verb} ${rowCount}`;
}

/** pg's DatabaseError: the server answered with an ErrorResponse. */
function isServerError(e: unknown): e is Error & { code?: string; hint?: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && 'severity' in e && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The same TLS modes as the wire path (see connection-url.ts); `prefer`/`allow` do not exist. */
function sslOptions(tls: UpstreamTlsOptions): pg.PoolConfig['ssl'] {
  switch (tls.mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}), checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.servername ? { servername: tls.servername } : {}) };
  }
}
