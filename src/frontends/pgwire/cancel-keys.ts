import { randomInt, timingSafeEqual } from 'node:crypto';

/**
 * The gateway issues its own BackendKeyData to clients, so a client never learns the upstream
 * backend's pid or secret, and a CancelRequest can only reach the session it was issued for.
 */
export interface Cancellable {
  cancelUpstream(): void;
}

export class CancelKeys {
  readonly #byPid = new Map<number, { secret: number; target: Cancellable }>();

  issue(target: Cancellable): { pid: number; secret: number } {
    let pid: number;
    do pid = randomInt(1, 0x7fffffff);
    while (this.#byPid.has(pid));
    const secret = randomInt(-0x80000000, 0x7fffffff);
    this.#byPid.set(pid, { secret, target });
    return { pid, secret };
  }

  release(pid: number): void {
    this.#byPid.delete(pid);
  }

  /** Returns true when the key matched and the cancel was forwarded. */
  cancel(pid: number, secret: number): boolean {
    const e = this.#byPid.get(pid);
    if (!e) return false;
    const a = Buffer.alloc(4), b = Buffer.alloc(4);
    a.writeInt32BE(e.secret);
    b.writeInt32BE(secret | 0);
    if (!timingSafeEqual(a, b)) return false;
    e.target.cancelUpstream();
    return true;
  }
}
