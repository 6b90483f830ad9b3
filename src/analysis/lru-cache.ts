/**
 * A bounded least-recently-used map. JavaScript Maps iterate in insertion order, so re-inserting
 * on a hit keeps the oldest entry first and eviction is O(1). Before the map is first full,
 * hits are not re-inserted: the order then only says which entries were added first.
 */
export class LruCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError('LruCache size must be a positive integer');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const v = this.#map.get(key);
    // Recency only decides what to evict: until the map is full, a hit (the hot path: every
    // repeated statement) need not move its entry.
    if (v !== undefined && this.#map.size >= this.#max) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }

  clear(): void {
    this.#map.clear();
  }
}
