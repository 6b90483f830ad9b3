import type { Binding } from './messages.js';
import { decodeRowsetValue } from './values.js';

/** At most this many bind positions; Snowflake itself caps a statement's binds far lower in practice. */
export const MAX_BIND_POSITIONS = 65_535;
/** At most this many rows in one array bind through the request body. */
export const MAX_BIND_ROWS = 100_000;

/** A `bindings` map that cannot be turned into parameters; the message names the position, never the value. */
export class SnowflakeBindingError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'SnowflakeBindingError';
  }
}

/**
 * A query request's `bindings` (`{"1": {type, value}, …}`) as rows of positional parameters in
 * the gateway's canonical text form (`$1`, `$2`, … / `?` in order). A plain bind gives one row;
 * an array bind (every value an array of equal length) gives one row per element.
 *
 * Values arrive as text. snowflake-sdk sends JavaScript values stringified (`TEXT`, `FIXED`,
 * `REAL`, `BOOLEAN`, `VARIANT` as JSON, dates as ISO text), which pass through. Other drivers send
 * temporal types in epoch units — DATE as epoch milliseconds, TIME as nanoseconds since midnight,
 * TIMESTAMP_NTZ/LTZ as epoch nanoseconds, TIMESTAMP_TZ as `epochNanos tzIndex` — which are
 * converted to canonical text when the value is all digits; BINARY hex is lower-cased.
 *
 * @example
 * bindingsToParamRows({ '1': { type: 'FIXED', value: '42' }, '2': { type: 'TEXT', value: null } }) // [['42', null]]
 */
export function bindingsToParamRows(bindings: Readonly<Record<string, Binding>> | undefined): (string | null)[][] {
  if (bindings === undefined) return [[]];
  const keys = Object.keys(bindings);
  if (keys.length > MAX_BIND_POSITIONS) throw new SnowflakeBindingError(`too many bind variables (${keys.length}; at most ${MAX_BIND_POSITIONS})`);
  const ordered: Binding[] = new Array<Binding>(keys.length);
  for (const key of keys) {
    const pos = /^[1-9]\d{0,5}$/.test(key) ? Number(key) : NaN;
    if (!(pos >= 1 && pos <= keys.length)) throw new SnowflakeBindingError(`bind variable key ${JSON.stringify(key.slice(0, 20))} is not a position from 1 to ${keys.length}`);
    ordered[pos - 1] = bindings[key]!;
  }
  if (ordered.length === 0) return [[]];
  const arrays = ordered.map((b) => Array.isArray(b.value));
  if (arrays.some((a) => a !== arrays[0])) throw new SnowflakeBindingError('bind variables mix array and single values');
  if (!arrays[0]) return [ordered.map((b, i) => bindValue(b.type, b.value as string | null, i + 1))];
  const rowCount = (ordered[0]!.value as unknown[]).length;
  if (rowCount > MAX_BIND_ROWS) throw new SnowflakeBindingError(`array bind has ${rowCount} rows; at most ${MAX_BIND_ROWS}`);
  if (ordered.some((b) => (b.value as unknown[]).length !== rowCount)) throw new SnowflakeBindingError('array bind variables differ in length');
  const rows: (string | null)[][] = [];
  for (let r = 0; r < rowCount; r++) rows.push(ordered.map((b, i) => bindValue(b.type, (b.value as (string | null)[])[r] ?? null, i + 1)));
  return rows;
}

/** {@link bindingsToParamRows} for a statement that takes exactly one row of parameters. */
export function bindingsToParams(bindings: Readonly<Record<string, Binding>> | undefined): (string | null)[] {
  const rows = bindingsToParamRows(bindings);
  if (rows.length !== 1) throw new SnowflakeBindingError(`expected one row of bind values, got ${rows.length}`);
  return rows[0]!;
}

function bindValue(type: string, value: string | null, pos: number): string | null {
  if (value === null) return null;
  const digits = /^-?\d{1,30}$/.test(value);
  try {
    switch (type.toUpperCase()) {
      case 'DATE':
        // Epoch milliseconds at midnight UTC.
        return digits ? decodeRowsetValue(String(floorDiv(BigInt(value), 86_400_000n)), col('date')) : value;
      case 'TIME':
        return digits ? decodeRowsetValue(nanosToSeconds(BigInt(value)), col('time')) : value;
      case 'TIMESTAMP_NTZ':
        return digits ? decodeRowsetValue(nanosToSeconds(BigInt(value)), col('timestamp_ntz')) : value;
      case 'TIMESTAMP_LTZ':
        return digits ? decodeRowsetValue(nanosToSeconds(BigInt(value)), col('timestamp_ltz')) : value;
      case 'TIMESTAMP_TZ': {
        const m = /^(-?\d{1,30}) (\d{1,4})$/.exec(value);
        return m ? decodeRowsetValue(`${nanosToSeconds(BigInt(m[1]!))} ${m[2]}`, col('timestamp_tz')) : value;
      }
      case 'BINARY':
        return decodeRowsetValue(value, col('binary'));
      default:
        return value;
    }
  } catch {
    throw new SnowflakeBindingError(`bind variable ${pos} (${type.slice(0, 32)}) has a value of the wrong form`);
  }
}

function col(type: string) {
  return { name: 'bind', type, nullable: true, scale: 9 };
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function nanosToSeconds(nanos: bigint): string {
  const neg = nanos < 0n;
  const abs = neg ? -nanos : nanos;
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}
