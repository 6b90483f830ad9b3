import { PortcullisError } from '../../errors/portcullis-error.js';
import type { SnowflakeQuery } from './snowflake-query.js';

export interface QueryRegistryLimits {
  /** Queries a session may hold at once: running, waiting for a reviewer, or unfetched. */
  readonly maxQueries: number;
  /** How long a query stays fetchable after it finished (or, unfinished, after it started). */
  readonly ttlMs: number;
  /** Result bytes a session may keep for later fetches; past it the oldest finished go first. */
  readonly maxRetainedBytes: number;
}

/**
 * One Snowflake session's queries by id, so a driver can poll `GET /queries/{id}/result`,
 * ask `/monitoring/queries/{id}` or abort. Bounded in count, age and kept bytes: a client that
 * fires statements and never fetches cannot grow the gateway's memory.
 */
export class QueryRegistry {
  readonly #limits: QueryRegistryLimits;
  readonly #byId = new Map<string, SnowflakeQuery>();
  readonly #onEvict: ((q: SnowflakeQuery) => void) | undefined;

  constructor(limits: QueryRegistryLimits, onEvict?: (q: SnowflakeQuery) => void) {
    this.#limits = limits;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Throws ERR_RATE_LIMITED when the session already holds its maximum of live queries. */
  add(q: SnowflakeQuery, now = Date.now()): void {
    this.sweep(now);
    if (this.#byId.size >= this.#limits.maxQueries) {
      for (const old of this.#byId.values()) {
        if (old.doneAt === undefined || old.status.kind === 'busy') continue;
        this.#evict(old);
        break;
      }
    }
    if (this.#byId.size >= this.#limits.maxQueries) {
      throw new PortcullisError('ERR_RATE_LIMITED', `this session already has ${this.#limits.maxQueries} statements running or waiting to be fetched; fetch or abort some first`);
    }
    this.#byId.set(q.id, q);
  }

  get(id: string): SnowflakeQuery | undefined {
    return this.#byId.get(id);
  }

  /** The query a retried query-request (same client request id and text) already started. */
  byClientRequest(requestId: string, sql: string): SnowflakeQuery | undefined {
    for (const q of this.#byId.values()) if (q.clientRequestId === requestId && q.sql === sql) return q;
    return undefined;
  }

  /** The latest query started under a client request id (abort-request names that, not the query id). */
  byRequestId(requestId: string): SnowflakeQuery | undefined {
    let found: SnowflakeQuery | undefined;
    for (const q of this.#byId.values()) if (q.clientRequestId === requestId) found = q;
    return found;
  }

  /** The most recent query still running, if any. */
  latestRunning(): SnowflakeQuery | undefined {
    let found: SnowflakeQuery | undefined;
    for (const q of this.#byId.values()) if (q.doneAt === undefined) found = q;
    return found;
  }

  sweep(now = Date.now()): void {
    let retained = 0;
    for (const q of this.#byId.values()) {
      if (q.status.kind === 'busy') continue;
      if ((q.doneAt ?? q.createdAt) + this.#limits.ttlMs < now) this.#evict(q);
      else retained += q.retainedBytes;
    }
    if (retained <= this.#limits.maxRetainedBytes) return;
    for (const q of this.#byId.values()) {
      if (retained <= this.#limits.maxRetainedBytes) break;
      if (q.doneAt === undefined || q.status.kind === 'busy') continue;
      retained -= q.retainedBytes;
      this.#evict(q);
    }
  }

  async closeAll(reason: string): Promise<void> {
    const all = [...this.#byId.values()];
    this.#byId.clear();
    await Promise.all(all.map((q) => q.cancel(reason).then(() => q.dispose())));
    for (const q of all) this.#onEvict?.(q);
  }

  #evict(q: SnowflakeQuery): void {
    this.#byId.delete(q.id);
    void q.dispose();
    this.#onEvict?.(q);
  }
}
