import type { ResultColumn } from '../../connectors/connector.js';
import type { SnowflakeColumnType } from '../../codecs/snowflake/rowtype.js';
import { rowTypeFromPg } from '../../codecs/snowflake/rowtype-from-pg.js';
import { encodeRowsetValue } from '../../codecs/snowflake/values.js';

/**
 * A result's columns as Snowflake clients see them (`rowtype`), and each row as the JSON text
 * of its rowset entry.
 *
 * A column a masking rule replaced becomes `text`: `****` or a hash is no longer a number or a
 * date, and a driver told "fixed" would turn it into NaN or throw.
 */
export interface EncodedColumns {
  readonly rowtype: readonly SnowflakeColumnType[];
  /** One row as JSON text: `["1","a",null]`. */
  encodeRow(row: readonly (string | null)[]): string;
}

export function encodeColumns(columns: readonly ResultColumn[], masked: readonly boolean[]): EncodedColumns {
  const rowtype = columns.map((c, i): SnowflakeColumnType => {
    const own = c.snowflake ?? rowTypeFromPg({ name: c.name, typeOid: c.typeOid });
    if (!masked[i]) return own;
    return { name: own.name, type: 'text', nullable: true, length: 16_777_216, byteLength: 16_777_216, precision: null, scale: null, collation: null, database: own.database ?? '', schema: own.schema ?? '', table: own.table ?? '' };
  });
  return {
    rowtype,
    encodeRow(row) {
      const out: (string | null)[] = new Array<string | null>(row.length);
      for (let i = 0; i < row.length; i++) out[i] = encodeValue(row[i] ?? null, rowtype[i]);
      return JSON.stringify(out);
    },
  };
}

/**
 * A value the codec cannot read in its column's type (PostgreSQL's `infinity` for a date, a
 * numeric `NaN`) goes out as its text rather than failing the whole result: the client shows
 * an odd value instead of losing every row.
 */
function encodeValue(v: string | null, col: SnowflakeColumnType | undefined): string | null {
  if (v === null || col === undefined) return v;
  try {
    return encodeRowsetValue(v, col);
  } catch {
    return v;
  }
}
