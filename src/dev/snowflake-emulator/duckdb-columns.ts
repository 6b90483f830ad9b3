import {
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { SnowflakeColumnType } from '../../codecs/snowflake/rowtype.js';
import { formatCivilDate, pad2 } from '../../codecs/snowflake/civil-time.js';

/** A result column: how the driver sees it and how one DuckDB value becomes canonical text. */
export interface EmulatedColumn {
  readonly rowtype: SnowflakeColumnType;
  /** Nested types (struct, list, map) are read whole through DuckDB's JSON converter. */
  readonly nested: boolean;
  readonly toText: (v: DuckDBValue) => string;
}

/**
 * Maps a DuckDB result column onto the Snowflake type a real account would report for the
 * equivalent column. TIMESTAMPTZ becomes TIMESTAMP_LTZ because DuckDB keeps only the instant,
 * not a per-value offset; JSON becomes VARIANT, STRUCT/MAP OBJECT, LIST/ARRAY ARRAY.
 */
export function emulatedColumn(name: string, t: DuckDBType, db: { database: string; schema: string }): EmulatedColumn {
  const base = { name, nullable: true, database: db.database, schema: db.schema, table: '' };
  const plain = (rowtype: SnowflakeColumnType, toText: (v: DuckDBValue) => string = String): EmulatedColumn => ({ rowtype, nested: false, toText });
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return plain({ ...base, type: 'boolean' });
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      // Snowflake has one integer type, NUMBER(38,0).
      return plain({ ...base, type: 'fixed', precision: 38, scale: 0 });
    case DuckDBTypeId.DECIMAL: {
      const d = t as DuckDBType & { width: number; scale: number };
      return plain({ ...base, type: 'fixed', precision: d.width, scale: d.scale });
    }
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return plain({ ...base, type: 'real' }, realText);
    case DuckDBTypeId.DATE:
      return plain({ ...base, type: 'date' }, (v) => formatCivilDate((v as { days: number }).days));
    case DuckDBTypeId.TIME:
      return plain({ ...base, type: 'time', scale: 6 }, (v) => clock((v as { micros: bigint }).micros * 1000n));
    case DuckDBTypeId.TIME_NS:
      return plain({ ...base, type: 'time', scale: 9 }, (v) => clock((v as { nanos: bigint }).nanos));
    case DuckDBTypeId.TIMESTAMP:
      return plain({ ...base, type: 'timestamp_ntz', scale: 6 }, (v) => timestamp((v as { micros: bigint }).micros * 1000n, false));
    case DuckDBTypeId.TIMESTAMP_NS:
      return plain({ ...base, type: 'timestamp_ntz', scale: 9 }, (v) => timestamp((v as { nanos: bigint }).nanos, false));
    case DuckDBTypeId.TIMESTAMP_MS:
      return plain({ ...base, type: 'timestamp_ntz', scale: 3 }, (v) => timestamp((v as { millis: bigint }).millis * 1_000_000n, false));
    case DuckDBTypeId.TIMESTAMP_S:
      return plain({ ...base, type: 'timestamp_ntz', scale: 0 }, (v) => timestamp((v as { seconds: bigint }).seconds * 1_000_000_000n, false));
    case DuckDBTypeId.TIMESTAMP_TZ:
      return plain({ ...base, type: 'timestamp_ltz', scale: 6 }, (v) => timestamp((v as { micros: bigint }).micros * 1000n, true));
    case DuckDBTypeId.BLOB:
      return plain({ ...base, type: 'binary', length: 8_388_608, byteLength: 8_388_608 }, (v) => Buffer.from((v as { bytes: Uint8Array }).bytes).toString('hex'));
    case DuckDBTypeId.STRUCT:
    case DuckDBTypeId.MAP:
      return { rowtype: { ...base, type: 'object' }, nested: true, toText: String };
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return { rowtype: { ...base, type: 'array' }, nested: true, toText: String };
    case DuckDBTypeId.VARCHAR:
      if (t.alias?.toUpperCase() === 'JSON') return plain({ ...base, type: 'variant' });
      return plain({ ...base, type: 'text', length: 16_777_216, byteLength: 16_777_216 });
    default:
      // UUID, INTERVAL, ENUM, BIT, … have no Snowflake counterpart; their DuckDB text is honest.
      return plain({ ...base, type: 'text', length: 16_777_216, byteLength: 16_777_216 });
  }
}

/** Canonical text of every value in one DuckDB chunk, row-major, null for NULL. */
export function chunkToText(chunk: DuckDBDataChunk, columns: readonly EmulatedColumn[]): (string | null)[][] {
  const rowCount = chunk.rowCount;
  const rows: (string | null)[][] = new Array(rowCount);
  for (let r = 0; r < rowCount; r++) rows[r] = new Array<string | null>(columns.length);
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c]!;
    if (col.nested) {
      const values = chunk.convertColumnValues(c, JsonDuckDBValueConverter);
      for (let r = 0; r < rowCount; r++) rows[r]![c] = values[r] === null || values[r] === undefined ? null : JSON.stringify(values[r]);
    } else {
      const values = chunk.getColumnValues(c);
      for (let r = 0; r < rowCount; r++) {
        const v = values[r];
        rows[r]![c] = v === null || v === undefined ? null : col.toText(v);
      }
    }
  }
  return rows;
}

function realText(v: DuckDBValue): string {
  const n = v as number;
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

const NANOS_PER_DAY = 86_400_000_000_000n;

function clock(nanos: bigint): string {
  const secs = Number(nanos / 1_000_000_000n);
  const frac = nanos % 1_000_000_000n;
  const base = `${pad2(Math.floor(secs / 3600))}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
  return frac === 0n ? base : `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}

function timestamp(epochNanos: bigint, utcOffset: boolean): string {
  let days = epochNanos / NANOS_PER_DAY;
  let rem = epochNanos % NANOS_PER_DAY;
  if (rem < 0n) {
    rem += NANOS_PER_DAY;
    days -= 1n;
  }
  return `${formatCivilDate(Number(days))} ${clock(rem)}${utcOffset ? '+00:00' : ''}`;
}
