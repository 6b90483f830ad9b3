import { SnowflakeCode } from '../../codecs/snowflake/codes.js';

/** A failed statement as Snowflake reports it: error number, SQLSTATE, message. */
export interface EmulatedSqlError {
  readonly code: string;
  readonly sqlState: string;
  readonly message: string;
}

/**
 * DuckDB reports errors as `<Kind> Error: <text>` without a SQLSTATE; the kind maps onto the
 * Snowflake error number and SQLSTATE a real account gives for the same mistake, so client
 * code that branches on `err.code`/`err.sqlState` behaves as it would against Snowflake.
 */
export function sqlErrorFromDuckDB(e: unknown): EmulatedSqlError {
  const raw = e instanceof Error ? e.message : String(e);
  // DuckDB sometimes wraps the error ("Failed to extract statements: Parser Error: …").
  const m = /([A-Z][A-Za-z]*(?: [A-Z][a-z]+)*) Error: ([\s\S]*)$/.exec(raw);
  const kind = m?.[1] ?? '';
  const text = (m?.[2] ?? raw).split('\n\nLINE ')[0]!.trim();
  switch (kind) {
    case 'Parser':
      return { code: SnowflakeCode.SQL_SYNTAX_ERROR, sqlState: '42000', message: `SQL compilation error:\n${text}` };
    case 'Catalog':
      if (/does not exist/i.test(text)) {
        const name = /with name "?([^"!\s]+)"? does not exist/i.exec(text)?.[1];
        const what = name ? `Object '${name.toUpperCase()}' does not exist or not authorized.` : text;
        return { code: SnowflakeCode.OBJECT_DOES_NOT_EXIST, sqlState: '42S02', message: `SQL compilation error:\n${what}` };
      }
      return { code: SnowflakeCode.SQL_COMPILATION_ERROR, sqlState: '42000', message: `SQL compilation error:\n${text}` };
    case 'Binder':
      if (/column .* not found|Referenced column/i.test(text)) {
        return { code: SnowflakeCode.INVALID_IDENTIFIER, sqlState: '42000', message: `SQL compilation error:\n${text}` };
      }
      return { code: SnowflakeCode.SQL_COMPILATION_ERROR, sqlState: '42601', message: `SQL compilation error:\n${text}` };
    case 'Conversion':
    case 'Invalid Input':
    case 'Out of Range':
    case 'Range':
      return { code: SnowflakeCode.VALUE_NOT_RECOGNIZED, sqlState: '22018', message: text };
    case 'Constraint':
      return { code: SnowflakeCode.CONSTRAINT_VIOLATION, sqlState: '23000', message: text };
    case 'INTERRUPT':
    case 'Interrupt':
      return { code: SnowflakeCode.STATEMENT_CANCELLED, sqlState: '57014', message: 'SQL execution canceled' };
    default:
      return { code: SnowflakeCode.EXECUTION_ERROR, sqlState: 'XX000', message: text || 'statement failed' };
  }
}
