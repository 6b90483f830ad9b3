import { randomBytes } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SnowflakeParameter } from '../../codecs/snowflake/messages.js';

/**
 * One driver session: its tokens, its Snowflake session state, and its own DuckDB connection
 * (so USE and transactions stay per session). Statements of one session run one at a time, as
 * on a DuckDB connection they must.
 */
export class EmulatorSession {
  readonly id: number;
  readonly user: string;
  readonly account: string;
  token: string;
  readonly masterToken: string;
  tokenExpiresAt: number;
  readonly masterExpiresAt: number;
  database: string | null;
  schema: string | null;
  warehouse: string | null = 'EMULATOR_WH';
  role: string | null = 'PUBLIC';
  /** Session parameters set at login or with ALTER SESSION, upper-case names. */
  readonly params = new Map<string, string>();
  readonly conn: DuckDBConnection;
  closed = false;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(opts: {
    id: number;
    user: string;
    account: string;
    conn: DuckDBConnection;
    database: string | null;
    schema: string | null;
    nowMs: number;
    tokenValiditySeconds: number;
    masterValiditySeconds: number;
  }) {
    this.id = opts.id;
    this.user = opts.user;
    this.account = opts.account;
    this.conn = opts.conn;
    this.database = opts.database;
    this.schema = opts.schema;
    this.token = newToken('ST');
    this.masterToken = newToken('MT');
    this.tokenExpiresAt = opts.nowMs + opts.tokenValiditySeconds * 1000;
    this.masterExpiresAt = opts.nowMs + opts.masterValiditySeconds * 1000;
  }

  /** Issues a fresh session token (token-request RENEW); the old one stops working. */
  renew(nowMs: number, validitySeconds: number): void {
    this.token = newToken('ST');
    this.tokenExpiresAt = nowMs + validitySeconds * 1000;
  }

  /** Runs `work` after every statement queued before it has settled. */
  serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The parameters a response lists; the driver formats values with them (BINARY_OUTPUT_FORMAT
   * must be HEX or BASE64, TIMEZONE places TIMESTAMP_LTZ values) and snowflake-sdk copies them
   * into its own parameter table.
   */
  responseParameters(): SnowflakeParameter[] {
    const out: SnowflakeParameter[] = [];
    for (const [name, fallback] of DEFAULT_PARAMETERS) out.push({ name, value: this.params.get(name) ?? fallback });
    const bigint = this.params.get('JS_TREAT_INTEGER_AS_BIGINT');
    if (bigint !== undefined) out.push({ name: 'JS_TREAT_INTEGER_AS_BIGINT', value: bigint.toUpperCase() === 'TRUE' });
    return out;
  }
}

const DEFAULT_PARAMETERS: readonly (readonly [string, string | number | boolean])[] = [
  ['TIMEZONE', 'UTC'],
  ['TIMESTAMP_OUTPUT_FORMAT', 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM'],
  ['TIMESTAMP_NTZ_OUTPUT_FORMAT', 'YYYY-MM-DD HH24:MI:SS.FF3'],
  ['TIMESTAMP_LTZ_OUTPUT_FORMAT', ''],
  ['TIMESTAMP_TZ_OUTPUT_FORMAT', ''],
  ['DATE_OUTPUT_FORMAT', 'YYYY-MM-DD'],
  ['TIME_OUTPUT_FORMAT', 'HH24:MI:SS'],
  ['BINARY_OUTPUT_FORMAT', 'HEX'],
  ['CLIENT_SESSION_KEEP_ALIVE', false],
  ['CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY', 3600],
  ['QUERY_CONTEXT_CACHE_SIZE', 5],
  ['CLIENT_RESULT_CHUNK_SIZE', 16],
];

function newToken(kind: string): string {
  return `emu:${kind}:${randomBytes(24).toString('base64url')}`;
}
