import type { SnowflakeColumnType } from './rowtype.js';
import { daysFromCivil, daysInMonth, formatCivilDate, pad2 } from './civil-time.js';

/**
 * Values in Snowflake's JSON result format (`queryResultFormat: "json"`, result `version` ≥ 1),
 * converted to and from the gateway's canonical text form — the form `QueryResult.rows` holds.
 *
 * | type | canonical text | rowset (JSON string) |
 * |---|---|---|
 * | fixed | `-12.50` | `-12.50` (padded to the column's scale) |
 * | real | `1.5`, `NaN`, `inf`, `-inf` | `1.5`, `NaN`, `Infinity`, `-Infinity` |
 * | text, variant, object, array | as is (JSON text for the semi-structured ones) | as is |
 * | boolean | `true`, `false` | `1`, `0` |
 * | date | `YYYY-MM-DD` | days since 1970-01-01: `-1` |
 * | time | `HH:MM:SS[.f…]` | seconds since midnight, `scale` fraction digits: `45296.500000000` |
 * | timestamp_ntz, timestamp_ltz | `YYYY-MM-DD HH:MM:SS[.f…]` (ltz: `+HH:MM` suffix) | epoch seconds, `scale` fraction digits: `-0.500000000` |
 * | timestamp_tz | `YYYY-MM-DD HH:MM:SS[.f…]+HH:MM` (local time and its offset) | `epochSeconds.fraction tzIndex`, tzIndex = offset minutes + 1440 |
 * | binary | lower-case hex | upper-case hex |
 *
 * Why these forms: snowflake-sdk (lib/connection/result/column.js) reads a DATE as
 * `Number(raw) * 86400`, TIME/TIMESTAMP as `BigNumber(raw) × 10^scale` split into seconds and
 * nanoseconds, a TIMESTAMP_TZ (result version ≠ 0) as `raw.split(' ')` with the index minus 1440
 * as the offset, a BOOLEAN as `1`/`0`/`TRUE`/`FALSE`, BINARY with `Buffer.from(raw, 'hex')`.
 * Infinities go out as `Infinity` because every driver's float parser accepts it (Node's
 * `Number('inf')` is NaN); decoding also accepts Snowflake's own `inf`.
 *
 * Canonical fractions are printed without trailing zeros (none when zero); the scale used on the
 * wire is the column's (`scale`, default 9) and longer fractions are truncated to it.
 *
 * @example
 * encodeRowsetValue('1969-12-31', { name: 'D', type: 'date', nullable: true }) // '-1'
 * decodeRowsetValue('1.500000000 1500', { name: 'T', type: 'timestamp_tz', nullable: true, scale: 9 })
 * // '1970-01-01 01:00:01.5+01:00'
 */
export function encodeRowsetValue(text: string | null, col: SnowflakeColumnType): string | null {
  if (text === null) return null;
  switch (col.type) {
    case 'fixed':
      return encodeFixed(text, col);
    case 'real':
      return encodeReal(text);
    case 'boolean':
      return parseBoolean(text) ? '1' : '0';
    case 'date':
      return String(parseDate(text));
    case 'time':
      return formatScaled(parseTime(text), scaleOf(col));
    case 'timestamp_ntz':
      return formatScaled(parseTimestamp(text, 'none').epochNanos, scaleOf(col));
    case 'timestamp_ltz':
      return formatScaled(parseTimestamp(text, 'optional').epochNanos, scaleOf(col));
    case 'timestamp_tz': {
      const ts = parseTimestamp(text, 'optional');
      return `${formatScaled(ts.epochNanos, scaleOf(col))} ${ts.offsetMinutes + 1440}`;
    }
    case 'binary':
      // PostgreSQL prints bytea as `\x…`; accepting it here saves every caller the strip.
      return checkHex(text.startsWith('\\x') ? text.slice(2) : text).toUpperCase();
    default:
      // text, variant, object, array, and any type a newer server may add: the text is the value.
      return text;
  }
}

/** The inverse of {@link encodeRowsetValue}: a rowset string to the canonical text form. */
export function decodeRowsetValue(raw: string | null, col: SnowflakeColumnType): string | null {
  if (raw === null) return null;
  switch (col.type) {
    case 'fixed':
      if (!DECIMAL.test(raw)) throw new SnowflakeValueError(col, 'is not a decimal number');
      return raw;
    case 'real':
      return decodeReal(raw, col);
    case 'boolean':
      return parseBoolean(raw, col) ? 'true' : 'false';
    case 'date': {
      if (!INTEGER.test(raw)) throw new SnowflakeValueError(col, 'is not a day count');
      return formatCivilDate(Number(raw));
    }
    case 'time': {
      const nanos = parseScaled(raw, col);
      if (nanos < 0n || nanos >= NANOS_PER_DAY) throw new SnowflakeValueError(col, 'is outside a day');
      return formatClock(nanos);
    }
    case 'timestamp_ntz':
      return formatTimestamp(parseScaled(raw, col), null);
    case 'timestamp_ltz':
      return formatTimestamp(parseScaled(raw, col), 0);
    case 'timestamp_tz': {
      const space = raw.indexOf(' ');
      const index = space < 0 ? NaN : Number(raw.slice(space + 1));
      if (!Number.isInteger(index) || index < 0 || index > 2880) throw new SnowflakeValueError(col, 'has no valid time zone index');
      const offset = index - 1440;
      return formatTimestamp(parseScaled(raw.slice(0, space), col) + BigInt(offset) * 60n * NANOS_PER_SECOND, offset);
    }
    case 'binary':
      return checkHex(raw, col).toLowerCase();
    default:
      return raw;
  }
}

/** A value that does not have the form its column's type requires. The value itself is never quoted. */
export class SnowflakeValueError extends TypeError {
  constructor(col: SnowflakeColumnType | null, problem: string) {
    super(col ? `value of column ${JSON.stringify(col.name)} (${col.type}) ${problem}` : `value ${problem}`);
    this.name = 'SnowflakeValueError';
  }
}

const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_DAY = 86_400n * NANOS_PER_SECOND;
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;
const INTEGER = /^-?\d{1,9}$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(-?\d{4,6})-(\d{2})-(\d{2})$/;
const CLOCK = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const OFFSET = /^(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

function scaleOf(col: SnowflakeColumnType): number {
  const s = col.scale;
  return typeof s === 'number' && Number.isInteger(s) && s >= 0 && s <= 9 ? s : 9;
}

function encodeFixed(text: string, col: SnowflakeColumnType): string {
  if (!DECIMAL.test(text)) throw new SnowflakeValueError(col, 'is not a decimal number');
  const scale = typeof col.scale === 'number' ? col.scale : 0;
  const dot = text.indexOf('.');
  const digits = dot < 0 ? 0 : text.length - dot - 1;
  // Snowflake always prints NUMBER(p,s) with exactly s fraction digits; drivers that read the
  // text (not just Number()) rely on that.
  if (scale > 0 && digits < scale) return (dot < 0 ? `${text}.` : text) + '0'.repeat(scale - digits);
  return text;
}

function encodeReal(text: string): string {
  switch (text.toLowerCase()) {
    case 'nan':
      return 'NaN';
    case 'inf':
    case 'infinity':
    case '+inf':
    case '+infinity':
      return 'Infinity';
    case '-inf':
    case '-infinity':
      return '-Infinity';
  }
  if (!FLOAT.test(text)) throw new SnowflakeValueError(null, 'is not a floating-point number');
  return text;
}

function decodeReal(raw: string, col: SnowflakeColumnType): string {
  switch (raw.toLowerCase()) {
    case 'nan':
      return 'NaN';
    case 'inf':
    case 'infinity':
      return 'inf';
    case '-inf':
    case '-infinity':
      return '-inf';
  }
  if (!FLOAT.test(raw)) throw new SnowflakeValueError(col, 'is not a floating-point number');
  return raw;
}

function parseBoolean(text: string, col: SnowflakeColumnType | null = null): boolean {
  switch (text.toLowerCase()) {
    case 'true':
    case 't':
    case '1':
      return true;
    case 'false':
    case 'f':
    case '0':
      return false;
  }
  throw new SnowflakeValueError(col, 'is not a boolean');
}

function checkHex(text: string, col: SnowflakeColumnType | null = null): string {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new SnowflakeValueError(col, 'is not hexadecimal');
  return text;
}

function parseDate(text: string): number {
  const m = DATE.exec(text);
  if (!m) throw new SnowflakeValueError(null, 'is not a date (YYYY-MM-DD)');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw new SnowflakeValueError(null, 'is not a calendar date');
  return daysFromCivil(year, month, day);
}

/** Nanoseconds since midnight. */
function parseTime(text: string): bigint {
  const m = CLOCK.exec(text);
  if (!m) throw new SnowflakeValueError(null, 'is not a time (HH:MM:SS[.fffffffff])');
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  if (h > 23 || min > 59 || s > 59) throw new SnowflakeValueError(null, 'is not a time of day');
  return BigInt(h * 3600 + min * 60 + s) * NANOS_PER_SECOND + BigInt((m[4] ?? '').padEnd(9, '0'));
}

function parseTimestamp(text: string, offset: 'none' | 'optional'): { epochNanos: bigint; offsetMinutes: number } {
  // Date, then 'T' or one space, then a clock, then an optional offset glued to it.
  const sep = text.search(/[T ]/);
  if (sep < 0) throw new SnowflakeValueError(null, 'is not a timestamp');
  const days = parseDate(text.slice(0, sep));
  const rest = text.slice(sep + 1);
  const clockEnd = /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?/.exec(rest)?.[0].length ?? 0;
  const nanos = parseTime(rest.slice(0, clockEnd));
  const tail = rest.slice(clockEnd).trim();
  let offsetMinutes = 0;
  if (tail !== '') {
    if (offset === 'none') throw new SnowflakeValueError(null, 'carries a time zone offset where none is allowed');
    const m = OFFSET.exec(tail);
    if (!m) throw new SnowflakeValueError(null, 'has an unreadable time zone offset');
    if (!m[1]) {
      const hh = Number(m[3]);
      const mm = Number(m[4] ?? '0');
      if (hh > 23 || mm > 59) throw new SnowflakeValueError(null, 'has an out-of-range time zone offset');
      offsetMinutes = (m[2] === '-' ? -1 : 1) * (hh * 60 + mm);
    }
  }
  const local = BigInt(days) * NANOS_PER_DAY + nanos;
  return { epochNanos: local - BigInt(offsetMinutes) * 60n * NANOS_PER_SECOND, offsetMinutes };
}

/** Nanoseconds as a signed decimal of seconds with exactly `scale` fraction digits (truncated toward minus infinity). */
function formatScaled(nanos: bigint, scale: number): string {
  const unit = 10n ** BigInt(9 - scale);
  let units = nanos / unit;
  if (nanos % unit !== 0n && nanos < 0n) units -= 1n;
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const factor = 10n ** BigInt(scale);
  const whole = abs / factor;
  const frac = abs % factor;
  const sign = neg ? '-' : '';
  return scale === 0 ? `${sign}${whole}` : `${sign}${whole}.${frac.toString().padStart(scale, '0')}`;
}

/** A signed decimal of seconds (at most nanosecond precision) to nanoseconds. */
function parseScaled(raw: string, col: SnowflakeColumnType): bigint {
  const m = /^(-?)(\d{1,15})(?:\.(\d{1,9}))?$/.exec(raw);
  if (!m) throw new SnowflakeValueError(col, 'is not a number of seconds');
  const nanos = BigInt(m[2]!) * NANOS_PER_SECOND + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] === '-' ? -nanos : nanos;
}

function formatClock(nanosOfDay: bigint): string {
  const secs = Number(nanosOfDay / NANOS_PER_SECOND);
  const frac = nanosOfDay % NANOS_PER_SECOND;
  const clock = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
  if (frac === 0n) return clock;
  return `${clock}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}

/** Local nanoseconds since the epoch as `YYYY-MM-DD HH:MM:SS[.f]`, with `+HH:MM` when an offset is given. */
function formatTimestamp(localNanos: bigint, offsetMinutes: number | null): string {
  let days = localNanos / NANOS_PER_DAY;
  let rem = localNanos % NANOS_PER_DAY;
  if (rem < 0n) {
    rem += NANOS_PER_DAY;
    days -= 1n;
  }
  const base = `${formatCivilDate(Number(days))} ${formatClock(rem)}`;
  if (offsetMinutes === null) return base;
  const abs = Math.abs(offsetMinutes);
  return `${base}${offsetMinutes < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}
