/** Someone who can hold the gate; told when another party starts waiting for it. */
export interface GateHolder {
  onContended(): void;
}

/**
 * Exclusive, first-come-first-served ownership of the single PGlite backend.
 *
 * PGlite is one PostgreSQL backend in single-user mode: one transaction, one unnamed
 * statement, one set of portals at a time. A client session therefore keeps the gate from its
 * first message until the backend is idle again (ReadyForQuery 'I'), so a transaction or an
 * extended-protocol batch is never interleaved with another session's messages.
 */
export class SessionGate {
  #holder: GateHolder | null = null;
  readonly #queue: { holder: GateHolder; grant: () => void }[] = [];

  get holder(): GateHolder | null {
    return this.#holder;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** Resolves once `holder` owns the gate; at once when it already does. */
  acquire(holder: GateHolder): Promise<void> {
    if (this.#holder === holder) return Promise.resolve();
    if (this.#holder === null) {
      this.#holder = holder;
      return Promise.resolve();
    }
    return new Promise<void>((grant) => {
      this.#queue.push({ holder, grant });
      this.#holder?.onContended();
    });
  }

  /** Hands the gate to the next waiter. A non-holder releasing leaves its queue entry, if any. */
  release(holder: GateHolder): void {
    if (this.#holder !== holder) {
      const i = this.#queue.findIndex((w) => w.holder === holder);
      if (i >= 0) this.#queue.splice(i, 1);
      return;
    }
    const next = this.#queue.shift();
    this.#holder = next?.holder ?? null;
    next?.grant();
    // The new holder may already have others queued behind it.
    if (next && this.#queue.length > 0) next.holder.onContended();
  }

  /** Runs `fn` while holding the gate as an anonymous holder (health probes, seeding). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const holder: GateHolder = { onContended() {} };
    await this.acquire(holder);
    try {
      return await fn();
    } finally {
      this.release(holder);
    }
  }
}
