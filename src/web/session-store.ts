import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from './roles.js';
import type { PendingLogin } from './oidc-sign-in.js';

export interface ConsoleSession {
  readonly id: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly issuer: string;
  readonly roles: readonly Role[];
  /** Synchronizer token: the page echoes it in a header on every state-changing request. */
  readonly csrf: string;
  readonly expiresAt: number;
}

const MAX_PENDING = 1000;

/**
 * Signed-in people and sign-ins in flight, in memory: a restart signs everyone out, which is
 * the safe direction. The cookie holds only a random id, so nothing about the person travels.
 */
export class SessionStore {
  readonly #sessions = new Map<string, ConsoleSession>();
  readonly #logins = new Map<string, PendingLogin>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  create(who: Omit<ConsoleSession, 'id' | 'csrf' | 'expiresAt'>, ttlMs: number): ConsoleSession {
    this.#sweep();
    const s: ConsoleSession = { ...who, id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: this.#now() + ttlMs };
    this.#sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const s = this.#sessions.get(id);
    if (s && s.expiresAt <= this.#now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  addLogin(l: PendingLogin): void {
    this.#sweep();
    // A flood of abandoned sign-ins must not grow memory without bound.
    if (this.#logins.size >= MAX_PENDING) this.#logins.delete(this.#logins.keys().next().value!);
    this.#logins.set(l.state, l);
  }

  /** The login for this state, once: a replayed callback finds nothing. */
  takeLogin(state: string): PendingLogin | undefined {
    const l = this.#logins.get(state);
    this.#logins.delete(state);
    return l && l.expiresAt > this.#now() ? l : undefined;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k);
    for (const [k, l] of this.#logins) if (l.expiresAt <= now) this.#logins.delete(k);
  }
}

/** Constant-time comparison, so the token cannot be guessed a byte at a time. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
