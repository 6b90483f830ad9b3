import type * as Snowflake from 'snowflake-sdk';
import { PortcullisError } from '../../errors/portcullis-error.js';

export interface SessionPoolOptions {
  readonly connection: string;
  /** Opens one authenticated session (login.ts). */
  readonly open: () => Promise<Snowflake.Connection>;
  readonly close: (conn: Snowflake.Connection) => void;
  /** How long a statement waits for a free session before the upstream counts as unavailable. */
  readonly waitMs: number;
  readonly size?: number;
  readonly idleMs?: number;
}

/**
 * Sessions kept per connection. Few: each statement holds one until its rows are read or
 * closed, and a Snowflake login costs a round trip plus key signing, not a process.
 */
const POOL_SIZE = 8;
/** Snowflake keeps an idle session for hours; the gateway gives it back much sooner. */
const IDLE_MS = 5 * 60_000;

interface Waiter {
  /** False once it timed out or was aborted: a session meant for it goes to the next one. */
  readonly pending: () => boolean;
  readonly resolve: (conn: Snowflake.Connection) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * A few Snowflake sessions shared by the driver path, one statement at a time each.
 *
 * A statement gets a session to itself from `acquire` until `release`, so a session-level
 * setting made for it cannot reach another caller's statement. `release(conn, false)` logs the
 * session out instead of keeping it: the connector does that after anything that may have
 * changed the session's state (see statement-kind.ts) or when the session broke. A kept
 * session the driver has since given up (`isUp()` false, e.g. its master token expired) is
 * replaced by a fresh login on the next `acquire`.
 */
export class SessionPool {
  readonly #o: SessionPoolOptions;
  readonly #size: number;
  readonly #idleMs: number;
  #idle: { conn: Snowflake.Connection; since: number }[] = [];
  /** Sessions open, in use or being opened. */
  #count = 0;
  #waiters: Waiter[] = [];
  #closed = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(o: SessionPoolOptions) {
    this.#o = o;
    this.#size = o.size ?? POOL_SIZE;
    this.#idleMs = o.idleMs ?? IDLE_MS;
  }

  async acquire(signal?: AbortSignal): Promise<Snowflake.Connection> {
    if (this.#closed) throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.#o.connection}" is closed`);
    signal?.throwIfAborted();
    for (let s = this.#idle.pop(); s !== undefined; s = this.#idle.pop()) {
      if (s.conn.isUp()) return s.conn;
      this.#discard(s.conn);
    }
    if (this.#count < this.#size) return this.#login();
    return new Promise((resolve, reject) => {
      let pending = true;
      const done = (): void => {
        pending = false;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
      const waiter: Waiter = {
        pending: () => pending,
        resolve: (conn) => {
          done();
          resolve(conn);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const onAbort = (): void => waiter.reject(signal?.reason);
      const timer = setTimeout(
        () => waiter.reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.#o.connection}": all ${this.#size} Snowflake sessions stayed busy for ${this.#o.waitMs / 1000} s`)),
        this.#o.waitMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Hands the session back: kept for the next statement when `reusable`, else logged out. */
  release(conn: Snowflake.Connection, reusable: boolean): void {
    if (!reusable || this.#closed || !conn.isUp()) {
      this.#discard(conn);
      this.#serveWaiter();
      return;
    }
    const waiter = this.#waiters[0];
    if (waiter !== undefined) {
      waiter.resolve(conn);
      return;
    }
    this.#idle.push({ conn, since: Date.now() });
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(this.#idleMs, 60_000)).unref();
  }

  /** Logs out every idle session; sessions in use are logged out when released. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const s of this.#idle.splice(0)) this.#discard(s.conn);
    for (const w of [...this.#waiters]) w.reject(new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.#o.connection}" is closed`));
  }

  async #login(): Promise<Snowflake.Connection> {
    this.#count++;
    try {
      const conn = await this.#o.open();
      if (this.#closed) {
        this.#discard(conn);
        throw new PortcullisError('ERR_UPSTREAM_UNAVAILABLE', `connection "${this.#o.connection}" is closed`);
      }
      return conn;
    } catch (e) {
      this.#count--;
      throw e;
    }
  }

  /** A slot freed up: the longest waiter gets a new session (or the login's error). */
  #serveWaiter(): void {
    const waiter = this.#waiters[0];
    if (waiter === undefined || this.#count >= this.#size) return;
    this.#waiters.shift();
    this.#login().then(
      (conn) => (waiter.pending() ? waiter.resolve(conn) : this.release(conn, true)),
      (e) => waiter.reject(e),
    );
  }

  #discard(conn: Snowflake.Connection): void {
    this.#count--;
    this.#o.close(conn);
  }

  #sweep(): void {
    const cutoff = Date.now() - this.#idleMs;
    const stale = this.#idle.filter((s) => s.since < cutoff);
    if (stale.length === 0) return;
    this.#idle = this.#idle.filter((s) => s.since >= cutoff);
    for (const s of stale) this.#discard(s.conn);
    if (this.#idle.length === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
