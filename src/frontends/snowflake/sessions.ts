import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/connector.js';
import { PortcullisError } from '../../errors/portcullis-error.js';
import type { PipelineSession } from '../../pipeline/pipeline.js';
import { QueryRegistry, type QueryRegistryLimits } from './query-registry.js';
import { newSessionToken, tokenKey } from './session-token.js';
import { SF, type SnowflakeFailure } from './wire-errors.js';

/** What the client asked for at login, echoed back in `sessionInfo` and result data. */
export interface SessionNames {
  readonly databaseName?: string | undefined;
  readonly schemaName?: string | undefined;
  readonly warehouseName?: string | undefined;
  readonly roleName?: string | undefined;
}

export interface SessionLimits {
  /** How long a session token is good for before the driver renews it with the master token. */
  readonly sessionValidityMs: number;
  /** How long the master token (and so the session) lives at most. */
  readonly masterValidityMs: number;
  /** A session with no request for this long is closed. */
  readonly idleMs: number;
  /** Snowflake sessions the listener holds at most. */
  readonly maxSessions: number;
  readonly queries: QueryRegistryLimits;
}

/** One logged-in Snowflake client: its pipeline session, connection and queries. */
export class SnowflakeSession {
  /** Snowflake's session id is a number; this one is the gateway's own. */
  readonly sessionId: number = randomInt(1, 2 ** 47);
  readonly pipeline: PipelineSession;
  readonly connector: Connector;
  readonly names: SessionNames;
  readonly queries: QueryRegistry;
  sessionKey = '';
  masterKey = '';
  sessionExpiresAt = 0;
  masterExpiresAt = 0;
  lastSeen = Date.now();
  closed = false;

  constructor(pipeline: PipelineSession, connector: Connector, names: SessionNames, limits: QueryRegistryLimits) {
    this.pipeline = pipeline;
    this.connector = connector;
    this.names = names;
    this.queries = new QueryRegistry(limits);
  }
}

export interface IssuedTokens {
  readonly token: string;
  readonly masterToken: string;
  readonly validityInSeconds: number;
  readonly masterValidityInSeconds: number;
}

export type TokenCheck = { readonly session: SnowflakeSession } | { readonly failure: SnowflakeFailure };

/**
 * The listener's Snowflake sessions, found by the SHA-256 of the tokens issued at login (see
 * session-token.ts). Each wraps one `PipelineSession`, closed with a reason at logout, expiry,
 * idleness, console termination or shutdown. A token never leaves this class except in the
 * login and renewal answers.
 */
export class SnowflakeSessions {
  readonly #limits: SessionLimits;
  readonly #log: Logger;
  readonly #bySession = new Map<string, SnowflakeSession>();
  readonly #byMaster = new Map<string, SnowflakeSession>();
  readonly #all = new Set<SnowflakeSession>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(limits: SessionLimits, logger: Logger) {
    this.#limits = limits;
    this.#log = logger;
    this.#sweeper = setInterval(() => this.sweep(), Math.min(15_000, Math.max(250, Math.floor(limits.idleMs / 4))));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#all.size;
  }

  /** Throws ERR_TOO_MANY_CONNECTIONS when the listener already holds its maximum. */
  checkCapacity(): void {
    this.sweep();
    if (this.#all.size >= this.#limits.maxSessions) throw new PortcullisError('ERR_TOO_MANY_CONNECTIONS', `the gateway already holds ${this.#limits.maxSessions} Snowflake sessions; log out unused ones or try later`);
  }

  open(pipeline: PipelineSession, connector: Connector, names: SessionNames): { session: SnowflakeSession; tokens: IssuedTokens } {
    const s = new SnowflakeSession(pipeline, connector, names, this.#limits.queries);
    const now = Date.now();
    // A session cannot outlive the credential it was opened with.
    const credentialEnds = pipeline.principal.expiresAt ?? Number.POSITIVE_INFINITY;
    s.masterExpiresAt = Math.min(now + this.#limits.masterValidityMs, credentialEnds);
    this.#all.add(s);
    pipeline.terminate = (reason) => void this.close(s, reason);
    return { session: s, tokens: this.#issue(s, now) };
  }

  /** `Authorization: Snowflake Token="…"` on every request after login. */
  check(token: string | undefined): TokenCheck {
    if (token === undefined) return { failure: invalid('send Authorization: Snowflake Token="<session token from login>"') };
    const s = this.#bySession.get(tokenKey(token));
    if (!s || s.closed) return { failure: invalid('the session token is not valid (unknown, or its session has ended); log in again') };
    const now = Date.now();
    if (now >= s.masterExpiresAt) {
      void this.close(s, 'expired');
      return { failure: invalid('the session has expired; log in again') };
    }
    if (now >= s.sessionExpiresAt) return { failure: { code: SF.SESSION_TOKEN_EXPIRED, message: 'Session token has expired; renew it with the master token. [ERR_SESSION_EXPIRED]', sqlState: '08003', httpStatus: 401 } };
    s.lastSeen = now;
    return { session: s };
  }

  /** `POST /session/token-request`: the master token buys a new session token (and rotates itself). */
  renew(masterToken: string | undefined): { session: SnowflakeSession; tokens: IssuedTokens } | { failure: SnowflakeFailure } {
    const s = masterToken === undefined ? undefined : this.#byMaster.get(tokenKey(masterToken));
    if (!s || s.closed) return { failure: invalid('the master token is not valid; log in again') };
    const now = Date.now();
    if (now >= s.masterExpiresAt) {
      void this.close(s, 'expired');
      return { failure: { code: SF.MASTER_TOKEN_EXPIRED, message: 'Master token has expired; log in again. [ERR_SESSION_EXPIRED]', sqlState: '08003', httpStatus: 401 } };
    }
    s.lastSeen = now;
    return { session: s, tokens: this.#issue(s, now) };
  }

  async close(s: SnowflakeSession, reason: string): Promise<void> {
    if (s.closed) return;
    s.closed = true;
    this.#all.delete(s);
    this.#bySession.delete(s.sessionKey);
    this.#byMaster.delete(s.masterKey);
    s.pipeline.terminate = undefined;
    try {
      await s.queries.closeAll(`the session ended (${reason})`);
    } finally {
      s.pipeline.close(reason);
      this.#log.info({ session: s.pipeline.id, subject: s.pipeline.principal.subject, reason }, 'snowflake session ended');
    }
  }

  /** Ends expired and idle sessions and ages out their finished queries. */
  sweep(now = Date.now()): void {
    for (const s of this.#all) {
      if (now >= s.masterExpiresAt) void this.close(s, 'expired');
      else if (now - s.lastSeen >= this.#limits.idleMs && s.queries.latestRunning() === undefined) void this.close(s, 'idle');
      else s.queries.sweep(now);
    }
  }

  async closeAll(reason: string): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#all].map((s) => this.close(s, reason)));
  }

  #issue(s: SnowflakeSession, now: number): IssuedTokens {
    const token = newSessionToken('session');
    const masterToken = newSessionToken('master');
    this.#bySession.delete(s.sessionKey);
    this.#byMaster.delete(s.masterKey);
    s.sessionKey = tokenKey(token);
    s.masterKey = tokenKey(masterToken);
    this.#bySession.set(s.sessionKey, s);
    this.#byMaster.set(s.masterKey, s);
    s.sessionExpiresAt = Math.min(now + this.#limits.sessionValidityMs, s.masterExpiresAt);
    s.lastSeen = now;
    return {
      token,
      masterToken,
      validityInSeconds: Math.max(1, Math.floor((s.sessionExpiresAt - now) / 1000)),
      masterValidityInSeconds: Math.max(1, Math.floor((s.masterExpiresAt - now) / 1000)),
    };
  }
}

function invalid(message: string): SnowflakeFailure {
  return { code: SF.SESSION_TOKEN_INVALID, message: `${message} [ERR_SESSION_EXPIRED]`, sqlState: '08003', httpStatus: 401 };
}
