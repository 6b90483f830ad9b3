import type * as Snowflake from 'snowflake-sdk';
import type { ResultColumn } from '../connector.js';
import type { SnowflakeColumnType } from '../../codecs/snowflake/rowtype.js';
import { decodeRowsetValue } from '../../codecs/snowflake/values.js';

/**
 * snowflake-sdk converts every rowset value into a JavaScript value; these are the types for
 * which its string form is the rowset text itself (numbers as sent, booleans as TRUE/FALSE,
 * VARIANT and semi-structured OBJECT/ARRAY as the server's JSON text — which also keeps the
 * driver's `eval` fallback for non-JSON variants from ever running).
 *
 * Dates, timestamps and binaries are taken as objects instead: their string form depends on
 * session output formats and the TIMEZONE parameter, while the objects carry the exact epoch
 * seconds, nanoseconds and offset (or bytes). TIME exists only as a formatted string, whose
 * format the session sets (`TIME_OUTPUT_FORMAT`, see session-pool.ts).
 */
export const FETCH_AS_STRING = ['String', 'Boolean', 'Number', 'JSON', 'OBJECT', 'ARRAY', 'MAP'] as unknown as Snowflake.DataType[];

/** One driver value (rowMode `array`) to the gateway's canonical text form, or null. */
export type ValueDecoder = (value: unknown) => string | null;

/** Snowflake's date and timestamp values: a Date carrying the exact parts the driver decoded. */
interface SfDate {
  getEpochSeconds(): number;
  getNanoSeconds(): number;
  getTimezone(): unknown;
}

const NANOS = 1_000_000_000n;
const CLOCK = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/**
 * The result's columns as the gateway describes them. snowflake-sdk exposes name, type,
 * nullability, precision and scale of each rowtype entry; length, byteLength and the source
 * table are not reachable through its API, so they are left out rather than guessed.
 */
export function describeColumns(columns: readonly Snowflake.Column[] | undefined): ResultColumn[] {
  return (columns ?? []).map((c) => {
    const snowflake: SnowflakeColumnType = {
      name: c.getName(),
      type: String(c.getType()).toLowerCase(),
      nullable: c.isNullable(),
      precision: numberOrNull(c.getPrecision()),
      scale: numberOrNull(c.getScale()),
    };
    return { name: snowflake.name, typeOid: 0, tableOid: 0, attnum: 0, snowflake };
  });
}

/**
 * The decoder for one column. Everything goes through the shared codec's
 * `decodeRowsetValue` so the connector and the Snowflake frontend agree on every form; the
 * driver's objects are first turned back into the rowset text they were read from.
 */
export function valueDecoder(col: SnowflakeColumnType): ValueDecoder {
  switch (col.type) {
    case 'date':
      return (v) => (v === null || v === undefined ? null : decodeRowsetValue(String(Math.floor(sfDate(v, col).getEpochSeconds() / 86_400)), col));
    case 'timestamp_ntz':
    case 'timestamp_ltz': {
      const nine = { ...col, scale: 9 };
      return (v) => (v === null || v === undefined ? null : decodeRowsetValue(epochText(sfDate(v, col)), nine));
    }
    case 'timestamp_tz': {
      const nine = { ...col, scale: 9 };
      return (v) => {
        if (v === null || v === undefined) return null;
        const d = sfDate(v, col);
        const offset = d.getTimezone();
        if (typeof offset !== 'number') throw new TypeError(`column ${JSON.stringify(col.name)}: the driver reported no time zone offset`);
        return decodeRowsetValue(`${epochText(d)} ${offset + 1440}`, nine);
      };
    }
    case 'time':
      return (v) => (v === null || v === undefined ? null : clock(String(v)));
    case 'binary':
      return (v) => {
        if (v === null || v === undefined) return null;
        if (!Buffer.isBuffer(v)) throw new TypeError(`column ${JSON.stringify(col.name)}: the driver returned no bytes`);
        return v.toString('hex');
      };
    default:
      return (v) => (v === null || v === undefined ? null : decodeRowsetValue(typeof v === 'string' ? v : JSON.stringify(v), col));
  }
}

function sfDate(v: unknown, col: SnowflakeColumnType): SfDate {
  const d = v as Partial<SfDate> | null;
  if (typeof d?.getEpochSeconds !== 'function' || typeof d.getNanoSeconds !== 'function') {
    throw new TypeError(`column ${JSON.stringify(col.name)}: the driver returned no ${col.type} value`);
  }
  return d as SfDate;
}

/** Seconds since the epoch with nine fraction digits, as the rowset would carry them. */
function epochText(d: SfDate): string {
  const total = BigInt(d.getEpochSeconds()) * NANOS + BigInt(Math.round(d.getNanoSeconds()));
  const abs = total < 0n ? -total : total;
  return `${total < 0n ? '-' : ''}${abs / NANOS}.${(abs % NANOS).toString().padStart(9, '0')}`;
}

/** `HH24:MI:SS.FF9` from the driver, fraction trimmed; another session format passes unchanged. */
function clock(s: string): string {
  const m = CLOCK.exec(s);
  if (!m) return s;
  const frac = (m[4] ?? '').replace(/0+$/, '');
  return `${m[1]}:${m[2]}:${m[3]}${frac === '' ? '' : `.${frac}`}`;
}

function numberOrNull(n: unknown): number | null {
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}
