import type * as Snowflake from 'snowflake-sdk';

export type SnowflakeSdk = typeof Snowflake;

/** The driver's own logger is silenced: its lines can quote login requests and server responses. */
const silent: Snowflake.SnowflakeLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

let loading: Promise<SnowflakeSdk> | undefined;

/**
 * snowflake-sdk, loaded on first use and configured once for the whole process.
 *
 * Importing the driver normally probes cloud metadata addresses (AWS, Azure, GCP) to detect
 * the platform it runs on; the gateway must not reach beyond its configured upstreams, so
 * detection is switched off before the module is evaluated — hence the dynamic import.
 */
export function loadSnowflakeSdk(): Promise<SnowflakeSdk> {
  loading ??= (async () => {
    process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true';
    const mod = (await import('snowflake-sdk')) as SnowflakeSdk & { default?: SnowflakeSdk };
    const sdk = mod.default ?? mod;
    quietDriver(sdk);
    return sdk;
  })();
  return loading;
}

/**
 * Applied at load and again after every login: the driver's "easy logging" reads a client
 * config file during the first connect and may replace the logger with a file logger.
 *
 * VARIANT values that are not strict JSON would otherwise be parsed with `eval`; values come
 * back as strings anyway (see text-values.ts), so a parser that can only parse JSON suffices.
 */
export function quietDriver(sdk: SnowflakeSdk): void {
  sdk.configure({
    logLevel: 'OFF',
    customLogger: silent,
    additionalLogToConsole: false,
    jsonColumnVariantParser: (raw: string) => JSON.parse(raw) as unknown,
    xmlColumnVariantParser: () => {
      throw new Error('XML values are returned as text');
    },
  });
}
