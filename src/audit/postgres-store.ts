import pg from 'pg';
import { PortcullisError } from '../errors/portcullis-error.js';
import { openStorePool, redactUrl } from '../util/postgres-pool.js';
import type { Secret } from '../config/secret.js';
import { GENESIS_HASH, seal, type ChainHead, type EventRow } from './chain.js';
import type { AnchorRow, CheckpointRow } from './checkpoint.js';
import { CheckpointPolicy } from './checkpoint-policy.js';
import type { AuditEvent } from './events.js';
import { EVENT_COLUMNS, openSessionsQuery, sessionStatsQuery, toSessionStats, type SessionStats, pruneTargetQuery, sessionEventsQuery, sessionStartsQuery, toCheckpointRow, toEventRow, type Dialect } from './sql-queries.js';
import type { AuditStore, SessionQuery, StoreWriterOptions } from './store.js';

/**
 * The production store: tables in a schema of a PostgreSQL database, over the gateway's own
 * `pg` connection (never a connection a client's statements use).
 *
 * Writes are group-committed: events that arrive while a batch is in flight wait and go
 * together in the next one, as one INSERT … SELECT unnest(…) statement (one round trip, one
 * commit, atomic with its checkpoint). With the server's default `synchronous_commit = on`, a
 * resolved `appendDurable` means the event is on the audit database's disk.
 *
 * Several gateways may share one store: `seq` is the primary key, so two writers racing for
 * the same seq cannot fork the chain — the loser re-reads the head and re-chains its batch.
 */
interface Waiter {
  readonly event: AuditEvent;
  readonly resolve?: () => void;
  readonly reject?: (e: Error) => void;
}

export interface PostgresStoreOptions extends StoreWriterOptions {
  readonly url: string;
  readonly password?: Secret | undefined;
  readonly schema: string;
}

const MAX_PENDING = 10_000;
const RETRY_MS = 1000;
const MAX_BATCH = 500;

export class PostgresStore implements AuditStore {
  readonly kind = 'postgres' as const;
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #opts: PostgresStoreOptions;
  readonly #policy: CheckpointPolicy;
  readonly #d: Dialect;
  #ready: Promise<void> | undefined;
  #head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  #headStale = true;
  #queue: Waiter[] = [];
  #flushing: Promise<boolean> | undefined;
  #lastError: PortcullisError | undefined;
  #scheduled = false;
  #forceCheckpoint = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: PostgresStoreOptions) {
    this.#opts = opts;
    this.location = redactUrl(opts.url);
    this.#policy = new CheckpointPolicy(opts.checkpointEvery, opts.checkpointIntervalMs, opts.signer);
    const schema = `"${opts.schema}"`;
    this.#d = { p: (n) => `$${n}`, t: (name) => `${schema}.${name}` };
    this.#pool = openStorePool({ url: opts.url, password: opts.password, max: 3, applicationName: 'portcullis-audit' });
    if (!opts.readOnly) {
      this.#timer = setInterval(() => this.#tick(), Math.min(RETRY_MS, opts.checkpointIntervalMs));
      this.#timer.unref();
    }
  }

  #t(name: 'events' | 'checkpoints' | 'anchors'): string {
    return this.#d.t(name);
  }

  #ensureReady(): Promise<void> {
    this.#ready ??= (async () => {
      if (this.#opts.readOnly) return;
      const s = `"${this.#opts.schema}"`;
      await this.#pool.query(`
        CREATE SCHEMA IF NOT EXISTS ${s};
        CREATE TABLE IF NOT EXISTS ${s}.events (
          seq bigint PRIMARY KEY, time_ms bigint NOT NULL, type text NOT NULL, session text NOT NULL,
          statement integer, subject text, connection text, action text,
          prev_hash text NOT NULL, hash text NOT NULL, body text NOT NULL);
        CREATE INDEX IF NOT EXISTS events_session ON ${s}.events (session, seq);
        DROP INDEX IF EXISTS ${s}.events_type_time;
        CREATE INDEX IF NOT EXISTS events_session_starts ON ${s}.events (seq) WHERE type = 'session.start';
        CREATE TABLE IF NOT EXISTS ${s}.checkpoints (seq bigint PRIMARY KEY, hash text NOT NULL, time_ms bigint NOT NULL, key_id text, signature text);
        CREATE TABLE IF NOT EXISTS ${s}.anchors (seq bigint PRIMARY KEY, hash text NOT NULL, time_ms bigint NOT NULL, key_id text, signature text);`);
    })().catch((e: unknown) => {
      this.#ready = undefined;
      throw unavailable('cannot prepare the audit tables in', this.location, e);
    });
    return this.#ready;
  }

  async #loadHead(): Promise<void> {
    const last = await this.#pool.query(`SELECT seq, hash FROM ${this.#t('events')} ORDER BY seq DESC LIMIT 1`);
    const anchor = await this.anchor();
    const r = last.rows[0] as { seq: string; hash: string } | undefined;
    this.#head = r ? { seq: Number(r.seq), hash: r.hash } : anchor ? { seq: anchor.seq, hash: anchor.hash } : { seq: 0, hash: GENESIS_HASH };
    const cp = await this.#pool.query(`SELECT seq, time_ms FROM ${this.#t('checkpoints')} ORDER BY seq DESC LIMIT 1`);
    const c = cp.rows[0] as { seq: string; time_ms: string } | undefined;
    this.#policy.reset(c ? { seq: Number(c.seq), timeMs: Number(c.time_ms) } : anchor, this.#opts.now());
    this.#headStale = false;
  }

  appendDurable(event: AuditEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `the audit store ${this.location} is closed`));
    return new Promise((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      this.#schedule();
    });
  }

  append(event: AuditEvent): void {
    if (this.#queue.length >= MAX_PENDING) {
      this.#opts.onAsyncError(new PortcullisError('ERR_AUDIT_UNAVAILABLE', `audit queue full (${MAX_PENDING}); dropped a ${event.type} event`));
      return;
    }
    this.#queue.push({ event });
    this.#schedule();
  }

  /** Starts a batch on the next turn unless one is in flight; that one's completion starts the next. */
  #schedule(): void {
    if (this.#scheduled || this.#flushing) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#drain().then((ok) => {
        this.#flushing = undefined;
        // After a failure the timer retries (once a second) instead of spinning on a dead store.
        if (ok && this.#queue.length && !this.#closed) this.#schedule();
        return ok;
      });
    });
  }

  async #drain(): Promise<boolean> {
    const batch = this.#queue.splice(0, MAX_BATCH);
    const force = this.#forceCheckpoint;
    this.#forceCheckpoint = false;
    try {
      await this.#commit(
        batch.map((w) => w.event),
        force,
      );
      for (const w of batch) w.resolve?.();
      return true;
    } catch (e) {
      const err = e instanceof PortcullisError ? e : unavailable('cannot write to', this.location, e);
      this.#lastError = err;
      const retry = batch.filter((w) => !w.reject);
      for (const w of batch) w.reject?.(err);
      if (retry.length) {
        this.#opts.onAsyncError(err);
        // Asynchronous events have no caller to refuse; keep them for the next attempt.
        this.#queue.unshift(...retry.slice(0, Math.max(0, MAX_PENDING - this.#queue.length)));
      }
      return false;
    }
  }

  async #commit(events: readonly AuditEvent[], forceCheckpoint: boolean): Promise<void> {
    await this.#ensureReady();
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.#headStale) await this.#loadHead();
        const rows = seal(this.#head, events);
        const head = rows.length ? { seq: rows[rows.length - 1]!.seq, hash: rows[rows.length - 1]!.hash } : this.#head;
        const cp = this.#policy.due(head, this.#opts.now(), forceCheckpoint);
        if (rows.length === 0 && !cp) return;
        await this.#pool.query(this.#insertSql(), insertParams(rows, cp));
        this.#head = head;
        if (cp) this.#policy.committed(cp);
        return;
      } catch (e) {
        this.#headStale = true;
        // 23505: another gateway took this seq first; re-read the head and re-chain the batch.
        if (attempt < 5 && (e as { code?: string }).code === '23505') continue;
        throw unavailable('cannot write to', this.location, e);
      }
    }
  }

  #insertSql(): string {
    const cols = EVENT_COLUMNS;
    return `WITH ev AS (
      INSERT INTO ${this.#t('events')} (${cols})
      SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])
      RETURNING 1)
    INSERT INTO ${this.#t('checkpoints')} (seq, hash, time_ms, key_id, signature)
    SELECT $12::bigint, $13::text, $14::bigint, $15::text, $16::text WHERE $12::bigint IS NOT NULL AND (SELECT count(*) FROM ev) >= 0`;
  }

  #tick(): void {
    if (this.#closed || this.#flushing || this.#scheduled) return;
    if (this.#queue.length) {
      this.#schedule();
      return;
    }
    // An idle tail still gets its checkpoint within checkpoint_interval; #commit decides if one is due.
    this.#flushing = this.#commit([], false).then(
      () => {
        this.#flushing = undefined;
        return true;
      },
      (e: unknown) => {
        this.#flushing = undefined;
        this.#opts.onAsyncError(e as Error);
        return false;
      },
    );
  }

  /** Waits for everything queued so far; rejects if a batch fails. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#flushing) await this.#flushing;
      else if (this.#scheduled) await new Promise<void>((r) => setImmediate(r));
      else if (this.#queue.length === 0) return;
      else {
        this.#schedule();
        await new Promise<void>((r) => setImmediate(r));
        const ok = await this.#flushing;
        if (ok === false) throw this.#lastError ?? new PortcullisError('ERR_AUDIT_UNAVAILABLE', `cannot write to the audit store ${this.location}`);
      }
    }
  }

  async #rows(sql: string, params: readonly unknown[]): Promise<Record<string, unknown>[]> {
    try {
      const r = await this.#pool.query(sql, params as unknown[]);
      return r.rows as Record<string, unknown>[];
    } catch (e) {
      throw unavailable('cannot read', this.location, e);
    }
  }

  async scan(afterSeq: number, limit: number): Promise<EventRow[]> {
    return (await this.#rows(`SELECT ${EVENT_COLUMNS} FROM ${this.#t('events')} WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit])).map(toEventRow);
  }

  async checkpoints(): Promise<CheckpointRow[]> {
    return (await this.#rows(`SELECT seq, hash, time_ms, key_id, signature FROM ${this.#t('checkpoints')} ORDER BY seq`, [])).map(toCheckpointRow);
  }

  async anchor(): Promise<AnchorRow | null> {
    const r = (await this.#rows(`SELECT seq, hash, time_ms, key_id, signature FROM ${this.#t('anchors')} ORDER BY seq DESC LIMIT 1`, []))[0];
    return r ? toCheckpointRow(r) : null;
  }

  async findSessionStarts(q: SessionQuery): Promise<EventRow[]> {
    const { sql, params } = sessionStartsQuery(this.#d, q);
    return (await this.#rows(sql, params)).map(toEventRow);
  }

  async sessionEvents(sessions: readonly string[], opts?: { types?: readonly string[]; fromStatement?: number; toStatement?: number }): Promise<EventRow[]> {
    if (sessions.length === 0) return [];
    const { sql, params } = sessionEventsQuery(this.#d, sessions, opts);
    return (await this.#rows(sql, params)).map(toEventRow);
  }

  async sessionStats(sessions: readonly string[]): Promise<SessionStats[]> {
    if (sessions.length === 0) return [];
    return (await this.#rows(sessionStatsQuery(this.#d, sessions), sessions)).map(toSessionStats);
  }

  async openSessions(gateway: string): Promise<string[]> {
    await this.#ensureReady();
    return (await this.#rows(openSessionsQuery(this.#d), []))
      .map(toEventRow)
      .filter((r) => (JSON.parse(r.body) as { gateway?: string }).gateway === gateway)
      .map((r) => r.session);
  }

  async prune(cutoffMs: number): Promise<AnchorRow | null> {
    await this.#ensureReady();
    await this.flush();
    const client = await this.#pool.connect().catch((e: unknown) => {
      throw unavailable('cannot connect to', this.location, e);
    });
    try {
      await client.query('BEGIN');
      // The same lock writers would need: nobody appends a checkpoint under our feet.
      await client.query(`LOCK TABLE ${this.#t('checkpoints')} IN SHARE ROW EXCLUSIVE MODE`);
      const r = (await client.query(pruneTargetQuery(this.#d), [cutoffMs])).rows[0] as Record<string, unknown> | undefined;
      if (!r) {
        await client.query('COMMIT');
        return null;
      }
      const a = toCheckpointRow(r);
      await client.query(`INSERT INTO ${this.#t('anchors')} (seq, hash, time_ms, key_id, signature) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seq) DO NOTHING`, [a.seq, a.hash, a.timeMs, a.keyId, a.signature]);
      await client.query(`DELETE FROM ${this.#t('events')} WHERE seq <= $1`, [a.seq]);
      await client.query(`DELETE FROM ${this.#t('checkpoints')} WHERE seq <= $1`, [a.seq]);
      await client.query('COMMIT');
      return a;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw unavailable('cannot apply retention to', this.location, e);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#timer) clearInterval(this.#timer);
    let err: unknown;
    if (!this.#opts.readOnly) {
      try {
        await this.flush();
        this.#forceCheckpoint = true;
        await this.#commit([], true);
      } catch (e) {
        err = e;
      }
    }
    this.#closed = true;
    await this.#pool.end().catch(() => {});
    if (err !== undefined) throw err;
  }
}

function insertParams(rows: readonly EventRow[], cp: CheckpointRow | null): unknown[] {
  const cols: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const r of rows) {
    cols[0]!.push(r.seq);
    cols[1]!.push(r.timeMs);
    cols[2]!.push(r.type);
    cols[3]!.push(r.session);
    cols[4]!.push(r.statement);
    cols[5]!.push(r.subject);
    cols[6]!.push(r.connection);
    cols[7]!.push(r.action);
    cols[8]!.push(r.prevHash);
    cols[9]!.push(r.hash);
    cols[10]!.push(r.body);
  }
  return [...cols, cp?.seq ?? null, cp?.hash ?? null, cp?.timeMs ?? null, cp?.keyId ?? null, cp?.signature ?? null];
}

/** pg lets the URL's (absent) password override a separate `password` option, so it goes in the URL. */
/** pg error messages name SQLSTATEs, roles and objects, never the password. */
function unavailable(what: string, location: string, e: unknown): PortcullisError {
  if (e instanceof PortcullisError) return e;
  const code = (e as { code?: string }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new PortcullisError('ERR_AUDIT_UNAVAILABLE', `${what} the audit store ${location}: ${msg}${code ? ` (${code})` : ''}`, { cause: e });
}
