import { StatementType, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { StatementTypeId } from '../../codecs/snowflake/codes.js';
import type { SnowflakeColumnType } from '../../codecs/snowflake/rowtype.js';
import { encodeRowsetValue } from '../../codecs/snowflake/values.js';
import { chunkToText, emulatedColumn } from './duckdb-columns.js';
import { ResultBuilder, type StoredResult } from './result-builder.js';
import type { EmulatorSession } from './session.js';
import { parseSessionCommand } from './session-commands.js';
import { fixUpSql } from './sql-fixup.js';
import { quoteIdent } from './sql-tokens.js';

export interface RunOptions {
  readonly inlineRows: number;
  readonly chunkRows: number;
  /**
   * Names ever written as quoted identifiers (shared by all sessions): a column created as
   * `"lower"` keeps its case in `select *` too, while DuckDB's own lower-case names (catalog
   * views, expressions) are upper-cased as Snowflake would show them.
   */
  readonly quotedNames?: Set<string>;
}

/**
 * Runs one Snowflake statement in a session and collects its result in Snowflake's shape.
 * Rejects with DuckDB's error (see sql-errors.ts for how it is reported).
 */
export async function runStatement(session: EmulatorSession, sqlText: string, params: readonly DuckDBValue[], opts: RunOptions): Promise<StoredResult> {
  const command = parseSessionCommand(sqlText);
  let sql = sqlText;
  if (command) {
    switch (command.kind) {
      case 'use':
        await applyUse(session, command.target, command.names);
        return statusResult('Statement executed successfully.', StatementTypeId.SCL);
      case 'set':
        for (const [k, v] of command.values) session.params.set(k, v);
        return statusResult('Statement executed successfully.', StatementTypeId.SCL);
      case 'unset':
        for (const k of command.names) session.params.delete(k);
        return statusResult('Statement executed successfully.', StatementTypeId.SCL);
      case 'create-database': {
        const exists = await databaseExists(session.conn, command.name);
        if (exists && command.ifNotExists) return statusResult(`${command.name} already exists, statement succeeded.`, StatementTypeId.DDL);
        if (exists && command.orReplace) await session.conn.run(`DETACH ${quoteIdent(command.name)}`);
        // Snowflake switches the session to a database it just created.
        await session.conn.run(`ATTACH ':memory:' AS ${quoteIdent(command.name)}; CREATE SCHEMA ${quoteIdent(command.name)}."PUBLIC"`);
        await applyUse(session, 'DATABASE', [command.name]);
        return statusResult(`Database ${command.name} successfully created.`, StatementTypeId.DDL);
      }
      case 'rewrite':
        sql = command.sql;
        break;
    }
  }

  const fixed = fixUpSql(sql, { warehouse: session.warehouse, role: session.role, account: session.account, user: session.user });
  const quoted = opts.quotedNames ?? new Set<string>();
  for (const n of fixed.quotedNames) quoted.add(n);
  const result = await session.conn.stream(fixed.sql, params.length ? [...params] : undefined);
  const kind = result.statementType;
  const typeId = statementTypeId(kind);
  if (typeId === StatementTypeId.DDL || (typeId !== StatementTypeId.SELECT && result.columnCount === 0)) {
    return statusResult('Statement executed successfully.', typeId);
  }
  const where = { database: session.database ?? '', schema: session.schema ?? '' };
  const columns = Array.from({ length: result.columnCount }, (_, i) => {
    const duckName = result.columnName(i);
    const name = dmlColumnName(kind) ?? snowflakeColumnName(duckName, quoted);
    return emulatedColumn(name, result.columnType(i), where);
  });
  const rowtype: SnowflakeColumnType[] = columns.map((c) => c.rowtype);
  const builder = new ResultBuilder(rowtype, typeId, opts.inlineRows, opts.chunkRows);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const row of chunkToText(chunk, columns)) {
      for (let c = 0; c < row.length; c++) row[c] = encodeRowsetValue(row[c]!, rowtype[c]!);
      builder.add(row);
    }
  }
  return builder.finish();
}

async function applyUse(session: EmulatorSession, target: string, names: readonly string[]): Promise<void> {
  if (target === 'WAREHOUSE') {
    session.warehouse = names.join('.');
    return;
  }
  if (target === 'ROLE') {
    session.role = names.join('.');
    return;
  }
  let database = session.database;
  let schema = session.schema;
  if (target === 'DATABASE' || (target === 'AUTO' && names.length === 1 && (await databaseExists(session.conn, names[0]!)))) {
    database = names[0]!;
    schema = 'PUBLIC';
  } else if (names.length >= 2) {
    database = names[names.length - 2]!;
    schema = names[names.length - 1]!;
  } else {
    schema = names[0]!;
  }
  if (database === null) throw new Error('Catalog Error: no current database; USE DATABASE first');
  await session.conn.run(`USE ${quoteIdent(database)}.${quoteIdent(schema ?? 'PUBLIC')}`);
  session.database = database;
  session.schema = schema;
}

async function databaseExists(conn: DuckDBConnection, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll('SELECT 1 FROM duckdb_databases() WHERE database_name = $1', [name]);
  return r.currentRowCount > 0;
}

function statementTypeId(kind: StatementType): number {
  switch (kind) {
    case StatementType.SELECT:
    case StatementType.EXPLAIN:
    case StatementType.PRAGMA:
    case StatementType.CALL:
      return StatementTypeId.SELECT;
    case StatementType.INSERT:
      return StatementTypeId.INSERT;
    case StatementType.UPDATE:
      return StatementTypeId.UPDATE;
    case StatementType.DELETE:
      return StatementTypeId.DELETE;
    case StatementType.MERGE_INTO:
      return StatementTypeId.MERGE;
    case StatementType.CREATE:
    case StatementType.DROP:
    case StatementType.ALTER:
    case StatementType.CREATE_FUNC:
    case StatementType.ATTACH:
    case StatementType.DETACH:
      return StatementTypeId.DDL;
    default:
      return StatementTypeId.SCL;
  }
}

function snowflakeColumnName(duckName: string, quoted: ReadonlySet<string>): string {
  if (quoted.has(duckName)) return duckName;
  // DuckDB names COUNT(*) after its internal function.
  return duckName === 'count_star()' ? 'COUNT(*)' : duckName.toUpperCase();
}

/** Snowflake names the single count column of a DML result after the verb. */
function dmlColumnName(kind: StatementType): string | undefined {
  switch (kind) {
    case StatementType.INSERT:
      return 'number of rows inserted';
    case StatementType.UPDATE:
      return 'number of rows updated';
    case StatementType.DELETE:
      return 'number of rows deleted';
    default:
      return undefined;
  }
}

/** The one-row `status` result Snowflake gives for DDL and session statements. */
function statusResult(message: string, typeId: number): StoredResult {
  return {
    rowtype: [{ name: 'status', type: 'text', nullable: true, length: 16_777_216, byteLength: 16_777_216, database: '', schema: '', table: '' }],
    rowset: [[message]],
    chunks: [],
    total: 1,
    statementTypeId: typeId,
  };
}
