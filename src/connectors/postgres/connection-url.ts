import { PortcullisError } from '../../errors/portcullis-error.js';
import { Secret } from '../../config/secret.js';

export type UpstreamTlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';
const TLS_MODES: readonly string[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/** Query parameters we understand; any other is refused rather than silently ignored. */
const KNOWN_PARAMS = ['sslmode', 'sslrootcert'] as const;

export interface PostgresUrl {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password?: Secret;
  readonly sslmode?: UpstreamTlsMode;
  /** A CA bundle file named in the URL (`sslrootcert`); the config's `tls.ca` wins over it. */
  readonly sslrootcert?: string;
}

/**
 * Parses `postgres://user[:password]@host[:port]/database?sslmode=…`. User, password and
 * database are percent-decoded. A password in the URL becomes a Secret; `password` (the
 * connection's separate `password` field) wins when both are present. The database defaults
 * to the user name and the port to 5432, as in libpq.
 *
 * `sslmode` accepts only disable, require, verify-ca and verify-full: `allow` and `prefer`
 * let an attacker on the path downgrade to plaintext, which a gateway should not permit.
 *
 * Errors quote the URL only through `redactUrl`, so a password cannot reach a log.
 *
 * @example
 *   parseConnectionUrl('postgres://app:s%40cret@db.internal:6432/shop?sslmode=verify-full')
 *   // → { host: 'db.internal', port: 6432, user: 'app', database: 'shop', password: Secret, sslmode: 'verify-full' }
 */
export function parseConnectionUrl(url: string, password?: Secret): PostgresUrl {
  const bad = (why: string): PortcullisError => new PortcullisError('ERR_CONFIG_INVALID', `connection URL ${redactUrl(url)}: ${why}`);
  if (!/^postgres(ql)?:\/\//i.test(url)) throw bad('must start with postgres:// or postgresql://');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('is not a valid URL');
  }
  const decode = (s: string, what: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw bad(`${what} has invalid percent-encoding`);
    }
  };

  const host = u.hostname.startsWith('[') && u.hostname.endsWith(']') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '') throw bad('has no host');
  if (u.hostname.includes(',')) throw bad('multiple hosts are not supported');
  const port = u.port === '' ? 5432 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('has an invalid port');

  const user = decode(u.username, 'the user name');
  if (user === '') throw bad('has no user name (postgres://USER@host/database)');
  const path = u.pathname.replace(/^\//, '');
  if (path.includes('/')) throw bad('the path must be just the database name');
  const database = path === '' ? user : decode(path, 'the database name');

  for (const key of u.searchParams.keys()) {
    if (!(KNOWN_PARAMS as readonly string[]).includes(key)) {
      throw bad(`unsupported parameter '${key}' (supported: ${KNOWN_PARAMS.join(', ')}; use the connection's tls block for TLS settings)`);
    }
  }
  const sslmode = u.searchParams.get('sslmode') ?? undefined;
  if (sslmode !== undefined && !TLS_MODES.includes(sslmode)) {
    throw bad(`sslmode '${sslmode}' is not supported (use ${TLS_MODES.join(', ')})`);
  }
  const sslrootcert = u.searchParams.get('sslrootcert') ?? undefined;

  const urlPassword = u.password === '' ? undefined : new Secret(decode(u.password, 'the password'), 'url');
  const effective = password ?? urlPassword;

  for (const [what, v] of [['user name', user], ['database name', database]] as const) {
    if (v.includes('\0')) throw bad(`the ${what} contains a NUL character`);
  }

  return {
    host,
    port,
    user,
    database,
    ...(effective ? { password: effective } : {}),
    ...(sslmode ? { sslmode: sslmode as UpstreamTlsMode } : {}),
    ...(sslrootcert ? { sslrootcert } : {}),
  };
}

/**
 * The URL with any password replaced by `***`, safe for logs and error messages. Works on
 * strings that are not valid URLs too; when in doubt it redacts more, never less.
 */
export function redactUrl(url: string): string {
  const scheme = url.indexOf('://');
  // Not a URL: maybe libpq's `host=… password=…` form, so secret-named keywords go.
  if (scheme < 0) return url.replace(SECRET_KEYWORD, (_m, name: string) => `${name}=***`);
  const restStart = scheme + 3;
  // libpq also takes `?password=…` (and sslpassword); any parameter named like a secret goes.
  const redacted = url.replace(SECRET_PARAM, (_m, lead: string, name: string) => `${lead}${name}=***`);
  // The last '@' ends the userinfo: a raw '@' or '/' inside a password then lands in the
  // redacted part instead of leaking as "host".
  const at = redacted.lastIndexOf('@');
  if (at < restStart) return redacted;
  const userinfo = redacted.slice(restStart, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return redacted;
  return `${redacted.slice(0, restStart)}${userinfo.slice(0, colon)}:***${redacted.slice(at)}`;
}

/** A query parameter whose name says it holds a secret, up to the next `&` or `#`. */
const SECRET_KEYWORD = /\b(\w*(?:pass|secret|key|token)\w*)\s*=\s*(?:'(?:[^'\\]|\\.)*'?|\S+)/gi;
const SECRET_PARAM = /([?&])([^=&#]*(?:pass|secret|key|token)[^=&#]*)=[^&#]*/gi;
