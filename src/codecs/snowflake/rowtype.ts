/**
 * One entry of a Snowflake result's `rowtype`, as the driver protocol and SQL API describe a
 * column. Field names follow Snowflake's JSON so the frontend can hand it to drivers as is.
 */
export interface SnowflakeColumnType {
  readonly name: string;
  /** Lower-case Snowflake type: fixed, real, text, binary, boolean, date, time, timestamp_ntz, timestamp_ltz, timestamp_tz, variant, object, array. */
  readonly type: string;
  readonly nullable: boolean;
  readonly precision?: number | null | undefined;
  readonly scale?: number | null | undefined;
  readonly length?: number | null | undefined;
  readonly byteLength?: number | null | undefined;
  /** The source table as Snowflake reports it; empty for computed columns. */
  readonly database?: string | undefined;
  readonly schema?: string | undefined;
  readonly table?: string | undefined;
  readonly collation?: string | null | undefined;
}
