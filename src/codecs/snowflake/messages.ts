import { z } from 'zod';
import type { SnowflakeColumnType } from './rowtype.js';

/**
 * The JSON bodies of Snowflake's driver REST API (the protocol snowflake-sdk, the Python
 * connector and JDBC speak; shapes read from snowflake-sdk's lib/services/sf.js,
 * lib/connection/statement.js and lib/connection/result/result.js). Inputs a server parses are
 * zod schemas that keep unknown fields (drivers add fields freely); outputs are plain types.
 *
 * Every response is an envelope `{ data, code, message, success }`: `success: false` with a
 * `code` is an error the driver raises (`err.code`, `err.sqlState` from `data.sqlState`).
 */

const Str = z.string().max(1 << 20);

/** `POST /session/v1/login-request` (query string: `databaseName`, `schemaName`, `warehouse`, `roleName`). */
export const LoginRequestSchema = z.object({
  data: z
    .object({
      LOGIN_NAME: Str.optional(),
      PASSWORD: Str.optional(),
      /** Absent or `SNOWFLAKE` for a password, `SNOWFLAKE_JWT` (key pair) or `OAUTH` with `TOKEN`. */
      AUTHENTICATOR: Str.optional(),
      TOKEN: Str.optional(),
      ACCOUNT_NAME: Str.optional(),
      CLIENT_APP_ID: Str.optional(),
      CLIENT_APP_VERSION: Str.optional(),
      SESSION_PARAMETERS: z.record(z.string(), z.unknown()).optional(),
      CLIENT_ENVIRONMENT: z.unknown().optional(),
    })
    .loose(),
  inFlightCtx: z.unknown().optional(),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/** A session parameter as login and query responses list them. */
export interface SnowflakeParameter {
  readonly name: string;
  readonly value: string | number | boolean | null;
}

export interface LoginResponseData {
  readonly token: string;
  readonly masterToken: string;
  /** Session token lifetime; the driver renews at `/session/token-request` when told 390112. */
  readonly validityInSeconds: number;
  readonly masterValidityInSeconds: number;
  readonly sessionId: number;
  readonly parameters: readonly SnowflakeParameter[];
  readonly sessionInfo: {
    readonly databaseName: string | null;
    readonly schemaName: string | null;
    readonly warehouseName: string | null;
    readonly roleName: string | null;
  };
  readonly displayUserName?: string;
  readonly serverVersion?: string;
  readonly firstLogin?: boolean;
  readonly healthCheckInterval?: number;
  readonly newClientForUpgrade?: string | null;
}

/** `POST /session/token-request` with the master token in the Authorization header. */
export const TokenRequestSchema = z.object({
  requestType: z.enum(['RENEW', 'ISSUE']),
  oldSessionToken: Str.optional(),
});
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export interface TokenResponseData {
  readonly sessionToken: string;
  readonly validityInSecondsST: number;
  readonly masterToken: string;
  readonly validityInSecondsMT: number;
  readonly sessionId: number;
}

/**
 * One bind variable. snowflake-sdk sends `{ type: 'TEXT'|'FIXED'|'REAL'|'BOOLEAN'|'VARIANT', value }`
 * with the value as text; an array value is an array bind (one entry per row). Other drivers
 * also send DATE, TIME, TIMESTAMP_* and BINARY (see bindings.ts).
 */
export const BindingSchema = z.object({
  type: z.string().max(64),
  value: z.union([Str, z.null(), z.array(z.union([Str, z.null()])).max(1_000_000)]),
  fmt: z.string().max(64).optional(),
});
export type Binding = z.infer<typeof BindingSchema>;

/** `POST /queries/v1/query-request?requestId=…`. */
export const QueryRequestSchema = z
  .object({
    sqlText: Str,
    asyncExec: z.boolean().optional(),
    sequenceId: z.number().int().optional(),
    /** Keys are 1-based positions as strings: `{"1": {type, value}}`. */
    bindings: z.record(z.string(), BindingSchema).optional(),
    bindStage: z.string().optional(),
    /** Statement-level parameters: QUERY_TAG, STATEMENT_TIMEOUT_IN_SECONDS, MULTI_STATEMENT_COUNT, … */
    parameters: z.record(z.string(), z.unknown()).optional(),
    describeOnly: z.boolean().optional(),
    isInternal: z.boolean().optional(),
    disableOfflineChunks: z.boolean().optional(),
    queryContextDTO: z.unknown().optional(),
  })
  .loose();
export type QueryRequest = z.infer<typeof QueryRequestSchema>;

/** `POST /queries/v1/abort-request` (the statement path form carries the id in the URL instead). */
export const AbortRequestSchema = z.object({ requestId: Str.optional(), sqlText: Str.optional() }).loose();

/** A result chunk the driver downloads itself (a presigned URL on real Snowflake). */
export interface ChunkDescriptor {
  readonly url: string;
  readonly rowCount: number;
  readonly uncompressedSize: number;
  readonly compressedSize: number;
}

/** The `data` of a successful query response (also of `GET /queries/{id}/result`). */
export interface QueryResultData {
  readonly queryId: string;
  readonly rowtype: readonly SnowflakeColumnType[];
  /** The first rows inline, each value a string or null (see values.ts). */
  readonly rowset: readonly (readonly (string | null)[])[];
  /** Rows in the whole result; `returned` of them are in `rowset` plus `chunks`. */
  readonly total: number;
  readonly returned: number;
  readonly queryResultFormat: 'json';
  /** Result format version; anything but 0 selects the `seconds tzIndex` TIMESTAMP_TZ form. */
  readonly version: number;
  readonly chunks?: readonly ChunkDescriptor[];
  /** Headers the driver sends with every chunk download. */
  readonly chunkHeaders?: Readonly<Record<string, string>>;
  readonly statementTypeId: number;
  readonly parameters: readonly SnowflakeParameter[];
  readonly finalDatabaseName: string | null;
  readonly finalSchemaName: string | null;
  readonly finalWarehouseName: string | null;
  readonly finalRoleName: string | null;
  readonly sqlState?: string;
}

/** The `data` of an in-progress answer (code 333333/333334). */
export interface QueryInProgressData {
  readonly queryId: string;
  /** Relative URL the driver GETs with its session token: `/queries/{id}/result`. */
  readonly getResultUrl: string;
  readonly queryAbortsAfterSecs?: number;
  readonly progressDesc?: string | null;
}

/** `GET /monitoring/queries/{id}`: `data.queries[0].status` is RUNNING, SUCCESS, FAILED_WITH_ERROR, ABORTED, … */
export interface QueryMonitoringData {
  readonly queries: readonly {
    readonly id: string;
    readonly status: string;
    readonly sqlText: string;
    readonly startTime: number;
    readonly endTime: number;
    readonly errorCode?: string;
    readonly errorMessage?: string;
  }[];
}

export interface SnowflakeEnvelope<T> {
  readonly data: T;
  readonly code: string | null;
  readonly message: string | null;
  readonly success: boolean;
}

export interface ErrorData {
  readonly sqlState?: string;
  readonly queryId?: string;
  readonly errorCode?: string;
  readonly internalError?: boolean;
  readonly age?: number;
  readonly line?: number;
  readonly pos?: number;
  readonly type?: string;
}

/** A successful envelope. */
export function okEnvelope<T>(data: T, code: string | null = null, message: string | null = null): SnowflakeEnvelope<T> {
  return { data, code, message, success: true };
}

/**
 * An error envelope as drivers expect it: `success: false`, the code at the top and in
 * `data.errorCode`, the SQLSTATE in `data.sqlState`.
 *
 * @example
 * errorEnvelope('002003', "SQL compilation error:\nObject 'X' does not exist or not authorized.", { sqlState: '42S02', queryId })
 */
export function errorEnvelope(code: string, message: string, data: Omit<ErrorData, 'errorCode'> = {}): SnowflakeEnvelope<ErrorData> {
  return { data: { internalError: false, ...data, errorCode: code }, code, message, success: false };
}
