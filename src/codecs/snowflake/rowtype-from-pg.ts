import type { SnowflakeColumnType } from './rowtype.js';
import { Oid } from '../pgwire/type-oids.js';

/** A PostgreSQL result column as RowDescription describes it. */
export interface PgColumnDescription {
  readonly name: string;
  readonly typeOid: number;
  /** RowDescription's type modifier (`atttypmod`); -1 or absent when none. */
  readonly typeModifier?: number | undefined;
}


/**
 * The Snowflake `rowtype` entry for a PostgreSQL column, so a PostgreSQL connection can be served
 * through the Snowflake frontend. Values then go through `encodeRowsetValue` from their
 * PostgreSQL text form unchanged (bytea's `\x` prefix is accepted there).
 *
 * Types without a faithful Snowflake counterpart (uuid, interval, timetz, arrays, ranges,
 * enums, anything unknown) become `text`, which every driver shows as the PostgreSQL text.
 * So does `numeric` without a declared precision: a Snowflake `fixed` must state its scale,
 * and drivers parse scale-0 values as integers.
 *
 * @example
 * rowTypeFromPg({ name: 'id', typeOid: 23 }) // { name: 'id', type: 'fixed', precision: 10, scale: 0, nullable: true }
 */
export function rowTypeFromPg(col: PgColumnDescription): SnowflakeColumnType {
  const name = col.name;
  const mod = col.typeModifier ?? -1;
  switch (col.typeOid) {
    case Oid.Int2:
      return { name, type: 'fixed', precision: 5, scale: 0, nullable: true };
    case Oid.Int4:
      return { name, type: 'fixed', precision: 10, scale: 0, nullable: true };
    case Oid.Int8:
      return { name, type: 'fixed', precision: 19, scale: 0, nullable: true };
    case Oid.Oid:
      return { name, type: 'fixed', precision: 10, scale: 0, nullable: true };
    case Oid.Numeric: {
      // typmod = ((precision << 16) | scale) + 4, per numeric.c.
      if (mod < 4) return text(name, null);
      const precision = ((mod - 4) >> 16) & 0xffff;
      const scale = (mod - 4) & 0xffff;
      // Snowflake's NUMBER stops at 38 digits and scale ≤ precision; beyond, only text is exact.
      if (precision < 1 || precision > 38 || scale > precision) return text(name, null);
      return { name, type: 'fixed', precision, scale, nullable: true };
    }
    case Oid.Float4:
    case Oid.Float8:
      return { name, type: 'real', nullable: true };
    case Oid.Bool:
      return { name, type: 'boolean', nullable: true };
    case Oid.Date:
      return { name, type: 'date', nullable: true };
    case Oid.Time:
      return { name, type: 'time', scale: 6, nullable: true };
    case Oid.Timestamp:
      return { name, type: 'timestamp_ntz', scale: 6, nullable: true };
    case Oid.Timestamptz:
      // An instant shown in the session's zone: Snowflake's LTZ, not TZ (which keeps an offset per value).
      return { name, type: 'timestamp_ltz', scale: 6, nullable: true };
    case Oid.Json:
    case Oid.Jsonb:
      return { name, type: 'variant', nullable: true };
    case Oid.Bytea:
      return { name, type: 'binary', length: 8_388_608, byteLength: 8_388_608, nullable: true };
    case Oid.Varchar:
    case Oid.Bpchar:
      // varchar/bpchar typmod = length + 4.
      return text(name, mod >= 4 ? mod - 4 : null);
    case Oid.Char:
      return text(name, 1);
    case Oid.Name:
      return text(name, 63);
    default:
      return text(name, null);
  }
}

/** Snowflake's VARCHAR without a length is 16 MiB characters (16 777 216); bytes are up to 4 per character. */
function text(name: string, length: number | null): SnowflakeColumnType {
  const chars = length ?? 16_777_216;
  return { name, type: 'text', length: chars, byteLength: Math.min(chars * 4, 16_777_216), nullable: true };
}
