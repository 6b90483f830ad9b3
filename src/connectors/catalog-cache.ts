import type { CatalogSnapshot } from './catalog-snapshot.js';

export interface CatalogCacheOptions {
  /** Age after which a snapshot is reloaded in the background (it keeps serving meanwhile). */
  readonly ttlMs?: number;
  /** After a failed background reload, how long the old snapshot serves before the next try. */
  readonly retryMs?: number;
  /** The clock; tests pass a frozen one. */
  readonly now?: () => number;
}

/** Loads a snapshot; `loadedAt` is the clock reading when the load began. */
export type CatalogLoader = (loadedAt: number) => Promise<CatalogSnapshot>;

/**
 * Keeps one connector's catalog snapshot: the first `get()` loads it (concurrent callers share
 * that load), later ones get it at once. Past `ttlMs` a reload starts in the background while
 * the old snapshot keeps serving; at most one load is in flight at a time.
 *
 * `invalidate()` is for DDL: the next `get()` waits for a load that began after the call,
 * because a stale view definition or column list could name the wrong sources (a view
 * redefined to select `ssn` would still look harmless). Call it once the transaction that ran
 * the DDL has committed: the loader's own session cannot see uncommitted changes.
 *
 * @example
 *   const cache = new CatalogCache((at) => loadPostgresCatalog(open, { loadedAt: at, … }));
 *   const catalog = await cache.get();
 *   // after relaying `ALTER TABLE …` and its COMMIT:
 *   cache.invalidate();
 */
export class CatalogCache {
  readonly #load: CatalogLoader;
  readonly #ttlMs: number;
  readonly #retryMs: number;
  readonly #now: () => number;
  #snapshot: CatalogSnapshot | undefined;
  /** The invalidation generation the current snapshot was requested in. */
  #snapshotGen = -1;
  #gen = 0;
  #refreshAt = 0;
  #inflight: { readonly gen: number; readonly promise: Promise<CatalogSnapshot> } | undefined;

  constructor(load: CatalogLoader, options: CatalogCacheOptions = {}) {
    const ttlMs = options.ttlMs ?? 60_000;
    if (!(ttlMs > 0)) throw new TypeError('CatalogCache: ttlMs must be positive');
    this.#load = load;
    this.#ttlMs = ttlMs;
    this.#retryMs = options.retryMs ?? Math.min(ttlMs, 5_000);
    this.#now = options.now ?? Date.now;
  }

  /** The current snapshot, loading it first when there is none or it was invalidated. */
  get(): Promise<CatalogSnapshot> {
    const snapshot = this.#snapshot;
    if (snapshot !== undefined && this.#snapshotGen === this.#gen) {
      if (this.#inflight === undefined && this.#now() >= this.#refreshAt) {
        // A failed background reload is not the caller's problem: the old snapshot serves.
        this.#start().catch(noop);
      }
      return Promise.resolve(snapshot);
    }
    if (this.#inflight?.gen === this.#gen) return this.#inflight.promise;
    return this.#start();
  }

  /** Makes the next `get()` wait for a fresh load. */
  invalidate(): void {
    this.#gen++;
  }

  /** The snapshot now held, without loading (undefined before the first load). */
  peek(): CatalogSnapshot | undefined {
    return this.#snapshot;
  }

  #start(): Promise<CatalogSnapshot> {
    const gen = this.#gen;
    const previous = this.#inflight?.promise;
    let promise: Promise<CatalogSnapshot> | undefined;
    const run = async (): Promise<CatalogSnapshot> => {
      // One load at a time: a load requested after an invalidation queues behind the one
      // already running, which may have read the catalog before the DDL committed. (Awaited
      // even when absent, so `promise` is assigned before `finally` can compare it.)
      await previous?.catch(noop);
      const startedAt = this.#now();
      try {
        const snapshot = await this.#load(startedAt);
        if (gen >= this.#snapshotGen) {
          this.#snapshot = snapshot;
          this.#snapshotGen = gen;
          this.#refreshAt = startedAt + this.#ttlMs;
        }
        return snapshot;
      } catch (e) {
        this.#refreshAt = this.#now() + this.#retryMs;
        throw e;
      } finally {
        if (this.#inflight?.promise === promise) this.#inflight = undefined;
      }
    };
    promise = run();
    this.#inflight = { gen, promise };
    return promise;
  }
}

function noop(): void {}
