import type * as Snowflake from 'snowflake-sdk';
import type { SnowflakeConnectionConfig } from '../../config/schema.js';

/**
 * Rows the driver decodes ahead of the reader, per statement. Small: the row stream is
 * pulled batch by batch (snowflake-row-stream.ts), and anything decoded early sits in memory.
 */
const ROW_STREAM_HIGH_WATER_MARK = 64;

/**
 * snowflake-sdk's options for one login with the gateway's credential. Called per login, so
 * the secret is revealed only when a session is being opened and never kept in a field.
 *
 * `url` (the development emulator, or a private-link host) becomes `accessUrl`; the driver
 * still wants an account name, which for a URL is its first host label (as the driver itself
 * derives it for `myorg-acct.snowflakecomputing.com`).
 */
export function loginOptions(config: SnowflakeConnectionConfig): Snowflake.ConnectionOptions {
  const where: Snowflake.ConnectionOptions =
    config.url !== undefined ? { accessUrl: config.url, account: config.account ?? accountOfUrl(config.url) } : { account: config.account! };
  return {
    ...where,
    username: config.user,
    ...credential(config),
    ...(config.role !== undefined ? { role: config.role } : {}),
    ...(config.warehouse !== undefined ? { warehouse: config.warehouse } : {}),
    ...(config.database !== undefined ? { database: config.database } : {}),
    ...(config.schema !== undefined ? { schema: config.schema } : {}),
    application: 'Portcullis',
    rowStreamHighWaterMark: ROW_STREAM_HIGH_WATER_MARK,
    // The driver's default turns SQL NULL into the string 'NULL' for values fetched as strings
    // (a process-wide setting in the driver, set again by every login here).
    representNullAsStringNull: false,
    // Login is bounded by connect_timeout (session-pool.ts); retries past it would only keep
    // a failed login running in the background.
    sfRetryMaxLoginRetries: 2,
    // Nothing from this process is cached on disk or handed to a browser.
    clientStoreTemporaryCredential: false,
    clientRequestMFAToken: false,
    disableConsoleLogin: true,
  };
}

function credential(config: SnowflakeConnectionConfig): Snowflake.ConnectionOptions {
  if (config.private_key !== undefined) {
    return {
      authenticator: 'SNOWFLAKE_JWT',
      privateKey: config.private_key.reveal(),
      ...(config.private_key_passphrase !== undefined ? { privateKeyPass: config.private_key_passphrase.reveal() } : {}),
    };
  }
  if (config.oauth_token !== undefined) return { authenticator: 'OAUTH', token: config.oauth_token.reveal() };
  return { authenticator: 'SNOWFLAKE', password: config.password?.reveal() ?? '' };
}

/** Every credential of the connection, for scrubbing driver messages (upstream-errors.ts). */
export function credentialTexts(config: SnowflakeConnectionConfig): string[] {
  return [config.private_key, config.private_key_passphrase, config.oauth_token, config.password].flatMap((s) => (s === undefined ? [] : [s.reveal()]));
}

function accountOfUrl(url: string): string {
  const host = new URL(url).hostname;
  return host.split('.')[0] || host;
}
