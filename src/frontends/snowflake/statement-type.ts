import { StatementTypeId } from '../../codecs/snowflake/codes.js';
import type { ResultColumn } from '../../connectors/connector.js';

/**
 * Snowflake's `statementTypeId`, from the command tag: drivers read it to tell a DML (whose
 * single row holds the affected-row count, e.g. snowflake-sdk's `getNumUpdatedRows`) from a
 * query or DDL.
 */
export function statementTypeId(command: string): number {
  const verb = command.split(' ', 1)[0]!.toUpperCase();
  switch (verb) {
    case 'SELECT':
    case 'SHOW':
    case 'FETCH':
    case 'EXPLAIN':
    case 'VALUES':
    case 'TABLE':
      return StatementTypeId.SELECT;
    case 'INSERT':
      return StatementTypeId.INSERT;
    case 'UPDATE':
      return StatementTypeId.UPDATE;
    case 'DELETE':
      return StatementTypeId.DELETE;
    case 'MERGE':
      return StatementTypeId.MERGE;
    case 'COPY':
      // Snowflake's COPY INTO <table>: a DML whose row counts rows loaded.
      return 0x3600;
    case 'CREATE':
    case 'ALTER':
    case 'DROP':
    case 'TRUNCATE':
    case 'COMMENT':
    case 'GRANT':
    case 'REVOKE':
      return StatementTypeId.DDL;
    default:
      return StatementTypeId.SCL;
  }
}

/**
 * A write without RETURNING has no columns on PostgreSQL, but Snowflake answers it with one
 * row holding the count (`number of rows inserted`), which is where drivers look for it.
 */
export function affectedRowsColumn(command: string): ResultColumn | undefined {
  const verb = command.split(' ', 1)[0]!.toUpperCase();
  const noun = verb === 'INSERT' ? 'inserted' : verb === 'UPDATE' ? 'updated' : verb === 'DELETE' ? 'deleted' : verb === 'MERGE' ? 'merged' : undefined;
  if (noun === undefined) return undefined;
  return {
    name: `number of rows ${noun}`,
    typeOid: 20,
    tableOid: 0,
    attnum: 0,
    snowflake: { name: `number of rows ${noun}`, type: 'fixed', nullable: false, precision: 19, scale: 0, length: null, byteLength: null, database: '', schema: '', table: '', collation: null },
  };
}
