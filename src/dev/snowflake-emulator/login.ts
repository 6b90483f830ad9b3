import { createHash, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { compactVerify } from 'jose';
import { SnowflakeCode } from '../../codecs/snowflake/codes.js';
import type { LoginRequest } from '../../codecs/snowflake/messages.js';

/** How one emulated user may log in; any combination. */
export interface EmulatorUser {
  readonly password?: string;
  /** PEM (SPKI) public key for key-pair (`SNOWFLAKE_JWT`) authentication. */
  readonly publicKeyPem?: string;
  /** An OAuth access token accepted for this user (`OAUTH`). */
  readonly oauthToken?: string;
}

export type LoginOutcome =
  | { readonly ok: true; readonly user: string; readonly account: string }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** Users with their keys parsed once; names are case-insensitive, as Snowflake login names are. */
export class UserDirectory {
  readonly #users = new Map<string, { readonly user: EmulatorUser; readonly key: KeyObject | null; readonly fingerprint: string | null }>();

  constructor(users: Readonly<Record<string, EmulatorUser>>) {
    for (const [name, user] of Object.entries(users)) {
      const key = user.publicKeyPem ? createPublicKey(user.publicKeyPem) : null;
      if (key && key.asymmetricKeyType !== 'rsa') throw new TypeError(`user ${name}: the public key must be RSA (Snowflake key-pair authentication uses RS256)`);
      const fingerprint = key ? `SHA256:${createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('base64')}` : null;
      this.#users.set(name.toUpperCase(), { user, key, fingerprint });
    }
  }

  /**
   * Checks a login request's credentials. Failures are deliberately vague (the same code for an
   * unknown user as for a wrong password), as Snowflake's are.
   */
  async authenticate(data: LoginRequest['data'], nowMs: number): Promise<LoginOutcome> {
    const account = (data.ACCOUNT_NAME ?? 'EMULATOR').split('.')[0]!.toUpperCase();
    const authenticator = (data.AUTHENTICATOR ?? 'SNOWFLAKE').toUpperCase();
    const login = (data.LOGIN_NAME ?? '').toUpperCase();
    const refused = (code: string, message: string): LoginOutcome => ({ ok: false, code, message });
    switch (authenticator) {
      case 'SNOWFLAKE': {
        const entry = this.#users.get(login);
        if (!entry?.user.password || data.PASSWORD === undefined || !sameSecret(entry.user.password, data.PASSWORD)) {
          return refused(SnowflakeCode.LOGIN_INCORRECT, 'Incorrect username or password was specified.');
        }
        return { ok: true, user: login, account };
      }
      case 'SNOWFLAKE_JWT': {
        const entry = this.#users.get(login);
        if (!entry?.key || !data.TOKEN) return refused(SnowflakeCode.JWT_INVALID, 'JWT token is invalid.');
        const problem = await checkKeyPairJwt(data.TOKEN, entry.key, `${account}.${login}`, entry.fingerprint!, nowMs);
        return problem === null ? { ok: true, user: login, account } : refused(SnowflakeCode.JWT_INVALID, `JWT token is invalid. [${problem}]`);
      }
      case 'OAUTH': {
        const token = data.TOKEN ?? '';
        for (const [name, entry] of this.#users) {
          if (entry.user.oauthToken && sameSecret(entry.user.oauthToken, token) && (login === '' || login === name)) return { ok: true, user: name, account };
        }
        return refused(SnowflakeCode.OAUTH_TOKEN_INVALID, 'Invalid OAuth access token.');
      }
      default:
        return refused(SnowflakeCode.LOGIN_INCORRECT, `The authenticator ${JSON.stringify(authenticator.slice(0, 40))} is not supported by the emulator.`);
    }
  }
}

/**
 * Snowflake's key-pair JWT (docs: "Key-pair authentication and key-pair rotation"): RS256,
 * `sub` = `ACCOUNT.USER`, `iss` = `ACCOUNT.USER.SHA256:<base64 SHA-256 of the DER public key>`,
 * at most one hour between `iat` and `exp`. snowflake-sdk writes `iat`/`exp` in milliseconds
 * (lib/authentication/auth_keypair.js uses Date.now()), other drivers in seconds; both are read.
 * Returns null when valid, else a short reason.
 */
async function checkKeyPairJwt(token: string, key: KeyObject, subject: string, fingerprint: string, nowMs: number): Promise<string | null> {
  let payload: Record<string, unknown>;
  try {
    const verified = await compactVerify(token, key, { algorithms: ['RS256'] });
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
  } catch {
    return 'signature';
  }
  if (payload.sub !== subject) return 'sub';
  if (payload.iss !== `${subject}.${fingerprint}`) return 'iss';
  const iat = epochMs(payload.iat);
  const exp = epochMs(payload.exp);
  if (iat === null || exp === null) return 'iat/exp';
  const skew = 60_000;
  if (exp <= nowMs - skew) return 'expired';
  if (iat > nowMs + skew) return 'issued in the future';
  if (exp - iat > 3_600_000) return 'lifetime over one hour';
  return null;
}

function epochMs(v: unknown): number | null {
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  // Seconds since 1970 stay below 1e11 until the year 5138; milliseconds are above it since 1973.
  return v > 1e11 ? v : v * 1000;
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}
