import { PortcullisError } from '../errors/portcullis-error.js';
import type { LimitsConfig, PolicyConfig } from '../policy/schema.js';
import type { DenyDecision } from './decision.js';
import type { LimitsStage } from './pipeline.js';
import type { Principal } from './principal.js';

/**
 * Per-identity limits from `policy.limits`:
 *
 *   policy:
 *     limits:
 *       statements_per_minute: 600      # token bucket: bursts up to this, refills evenly
 *       sessions_per_identity: 20
 *       groups:   { etl: { statements_per_minute: 6000 } }   # most generous group wins
 *       subjects: { "key:nightly": { sessions_per_identity: 50 } }  # beats groups
 *
 * Absent keys mean unlimited. Identities are keyed by subject, so one agent's many sessions
 * share one bucket.
 */
interface Resolved {
  readonly rate: number | undefined;
  readonly sessions: number | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets of identities that are idle (full) are swept once the map grows past this. */
const SWEEP_AT = 10_000;

export function createLimits(policy: PolicyConfig | undefined): LimitsStage {
  return new IdentityLimits(policy?.limits);
}

export class IdentityLimits implements LimitsStage {
  readonly #config: LimitsConfig | undefined;
  readonly #buckets = new Map<string, Bucket>();
  readonly #sessions = new Map<string, number>();
  /** Keyed by the principal object: a new token (with new groups) resolves afresh. */
  readonly #resolved = new WeakMap<Principal, Resolved>();
  readonly #rates = new Map<string, number>();

  constructor(config: LimitsConfig | undefined) {
    this.#config = config;
  }

  /** Any statement rate anywhere in the limits (default, group or subject override). */
  get hasRateLimits(): boolean {
    const c = this.#config;
    if (c === undefined) return false;
    const sets = [c, ...Object.values(c.groups ?? {}), ...Object.values(c.subjects ?? {})];
    return sets.some((l) => l.statements_per_minute !== undefined);
  }

  acquireSession(principal: Principal): () => void {
    const { sessions: cap } = this.#resolve(principal);
    const key = principal.subject;
    const open = this.#sessions.get(key) ?? 0;
    if (cap !== undefined && open >= cap) {
      throw new PortcullisError(
        'ERR_SESSION_LIMIT',
        `${key} already has ${open} open session${open === 1 ? '' : 's'}, the most policy.limits allows (${cap}); close one and retry`,
      );
    }
    this.#sessions.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#sessions.get(key) ?? 1) - 1;
      if (n <= 0) this.#sessions.delete(key);
      else this.#sessions.set(key, n);
    };
  }

  checkRate(principal: Principal, now: number): DenyDecision | undefined {
    const { rate } = this.#resolve(principal);
    if (rate === undefined) return undefined;
    const key = principal.subject;
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= SWEEP_AT) this.#sweep(now);
      b = { tokens: rate, at: now };
      this.#buckets.set(key, b);
    } else {
      const elapsed = Math.max(0, now - b.at);
      b.tokens = Math.min(rate, b.tokens + (elapsed * rate) / 60_000);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    const waitMs = Math.ceil(((1 - b.tokens) * 60_000) / rate);
    return {
      action: 'deny',
      rule: 'limits',
      code: 'ERR_RATE_LIMITED',
      reason: `${key} is over its limit of ${rate} statements per minute; wait ${waitMs} ms before the next statement, or batch work into fewer statements`,
    };
  }

  #resolve(p: Principal): Resolved {
    const cached = this.#resolved.get(p);
    if (cached !== undefined) return cached;
    const c = this.#config;
    let rate = c?.statements_per_minute;
    let sessions = c?.sessions_per_identity;
    if (c?.groups) {
      let gRate: number | undefined;
      let gSessions: number | undefined;
      for (const g of p.groups) {
        const o = c.groups[g];
        if (o?.statements_per_minute !== undefined) gRate = Math.max(gRate ?? 0, o.statements_per_minute);
        if (o?.sessions_per_identity !== undefined) gSessions = Math.max(gSessions ?? 0, o.sessions_per_identity);
      }
      rate = gRate ?? rate;
      sessions = gSessions ?? sessions;
    }
    const s = c?.subjects?.[p.subject];
    rate = s?.statements_per_minute ?? rate;
    sessions = s?.sessions_per_identity ?? sessions;
    const r = { rate, sessions };
    this.#resolved.set(p, r);
    if (rate !== undefined) this.#rates.set(p.subject, rate);
    return r;
  }

  #sweep(now: number): void {
    for (const [k, b] of this.#buckets) {
      const rate = this.#rates.get(k) ?? 0;
      if (rate === 0 || b.tokens + ((now - b.at) * rate) / 60_000 >= rate) {
        this.#buckets.delete(k);
        this.#rates.delete(k);
      }
    }
  }
}
