/**
 * What masking needs to know about PostgreSQL types, by OID: which values are text that can be
 * masked as strings, which are JSON, which are not worth scanning, and what a type's zero value
 * is when `binary.non_text: zero` asks for a valid stand-in instead of NULL.
 * Binary layouts from the types' *send functions.
 */
import { Oid } from '../codecs/pgwire/type-oids.js';

/** How a value of a type is masked. */
export const enum ValueClass {
  /** Bytes are UTF-8 text in both formats. */
  Text,
  /** JSON text; masked values must stay valid JSON. `jsonb` binary adds a version byte. */
  Json,
  Jsonb,
  /** A type whose text holds no free-form data: not scanned by detectors. */
  Opaque,
  /** Any other type: scanned in text format, replaced by NULL or zero when hit. */
  Other,
}

const TEXT = new Set<number>([Oid.Text, Oid.Varchar, Oid.Bpchar, Oid.Name, Oid.Unknown, Oid.Xml]);
// bytea is not opaque: with `bytea_output = escape` its text shows printable bytes as they are.
const OPAQUE = new Set<number>([
  Oid.Bool, Oid.Int2, Oid.Int4, Oid.Oid, Oid.Float4, Oid.Float8, Oid.Date, Oid.Time, Oid.Timestamp, Oid.Timestamptz,
  Oid.Interval, Oid.Timetz, Oid.Uuid, Oid.Money, 27, 28, 29, 3220, 2205, 2206, 1000, 1005, 1007, 1016, 1021, 1022, 1182, 1115, 1185, 2951,
]);
/** Types PostgreSQL ships up to here; higher OIDs are user or extension types (citext, domains…). */
const FIRST_USER_OID = 16384;

export function valueClass(oid: number, format: number): ValueClass {
  if (oid === Oid.Json) return ValueClass.Json;
  if (oid === Oid.Jsonb) return format === 1 ? ValueClass.Jsonb : ValueClass.Json;
  if (TEXT.has(oid)) return ValueClass.Text;
  // An unknown or extension type in text format is text as far as the client sees it.
  if (format === 0 && (oid === Oid.Unspecified || oid >= FIRST_USER_OID)) return ValueClass.Text;
  if (OPAQUE.has(oid)) return ValueClass.Opaque;
  return ValueClass.Other;
}

const TEXT_ZERO: ReadonlyMap<number, string> = new Map<number, string>([
  [Oid.Bool, 'f'], [Oid.Int2, '0'], [Oid.Int4, '0'], [Oid.Int8, '0'], [Oid.Oid, '0'], [Oid.Float4, '0'], [Oid.Float8, '0'],
  [Oid.Numeric, '0'], [Oid.Money, '$0.00'], [Oid.Date, '2000-01-01'], [Oid.Time, '00:00:00'], [Oid.Timestamp, '2000-01-01 00:00:00'],
  [Oid.Timestamptz, '2000-01-01 00:00:00+00'], [Oid.Interval, '00:00:00'], [Oid.Uuid, '00000000-0000-0000-0000-000000000000'],
  [Oid.Inet, '0.0.0.0'], [Oid.Cidr, '0.0.0.0/32'], [Oid.Bytea, '\\x'],
]);

/** Fixed binary widths whose all-zero bytes are a valid value (0, false, 2000-01-01, the nil UUID). */
const BINARY_WIDTH: ReadonlyMap<number, number> = new Map<number, number>([
  [Oid.Bool, 1], [Oid.Int2, 2], [Oid.Int4, 4], [Oid.Int8, 8], [Oid.Oid, 4], [Oid.Float4, 4], [Oid.Float8, 8], [Oid.Money, 8],
  [Oid.Date, 4], [Oid.Time, 8], [Oid.Timestamp, 8], [Oid.Timestamptz, 8], [Oid.Interval, 16], [Oid.Timetz, 12], [Oid.Uuid, 16],
]);

/** The zero value of a type in text format, if it has one. */
export function textZero(oid: number): string | undefined {
  return TEXT_ZERO.get(oid);
}

/** The zero value of a type in binary format, if it has one; `length` is the value being replaced. */
export function binaryZero(oid: number, length: number): Buffer | undefined {
  if (oid === Oid.Numeric) return Buffer.alloc(8); // ndigits 0, weight 0, sign +, dscale 0
  if (oid === Oid.Bytea) return Buffer.alloc(0);
  const w = BINARY_WIDTH.get(oid);
  return w !== undefined && w === length ? Buffer.alloc(w) : undefined;
}

/** Numeric types whose text a digit-for-digit fake keeps parseable. */
export function isNumeric(oid: number): boolean {
  return oid === Oid.Int2 || oid === Oid.Int4 || oid === Oid.Int8 || oid === Oid.Numeric || oid === Oid.Float4 || oid === Oid.Float8;
}
