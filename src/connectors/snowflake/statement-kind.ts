/**
 * What the connector needs to know about a statement's text before and after running it,
 * without parsing it: its leading keyword. (Admission has already analysed the statement; this
 * only decides how the connector treats its session and labels its result.)
 */

/**
 * Statements that leave nothing behind in the session: no parameter, current
 * database/schema/role/warehouse, open transaction, temporary object or variable. After any
 * other statement the session is logged out rather than reused (session-pool.ts), so that
 * `USE ROLE`, `ALTER SESSION SET …`, `SET x = …` or an open `BEGIN` cannot reach another
 * caller's statement. Unknown or unreadable statements count as not clean.
 */
const SESSION_CLEAN: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'LIST', 'LS']);

/** Statements whose result is their rows, labelled `SELECT n` as PostgreSQL would. */
const ROW_RESULT: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'VALUES', 'LIST', 'LS', 'CALL']);

/** The first keyword, upper-cased, after leading comments, whitespace and parentheses; '' when none. */
export function leadingKeyword(sql: string): string {
  let i = 0;
  for (;;) {
    while (i < sql.length && (/\s/.test(sql[i]!) || sql[i] === '(' || sql[i] === ';')) i++;
    if (sql.startsWith('--', i) || sql.startsWith('//', i)) {
      const nl = sql.indexOf('\n', i);
      if (nl < 0) return '';
      i = nl + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) return '';
      i = end + 2;
    } else break;
  }
  return /^[A-Za-z_]+/.exec(sql.slice(i))?.[0].toUpperCase() ?? '';
}

/**
 * PUT and GET make snowflake-sdk read or write files on the gateway's own disk. The driver
 * decides by the statement's first three characters after trimming (lib/util.js
 * isPutCommand/isGetCommand), so the same test is applied here, comments or not.
 */
export function isFileTransfer(sql: string): boolean {
  const head = sql.trim().slice(0, 3).toUpperCase();
  return head === 'PUT' || head === 'GET';
}

export function leavesSessionClean(keyword: string): boolean {
  return SESSION_CLEAN.has(keyword);
}

/**
 * The command tag and row count, as `QueryResult` reports them: DML reports the rows it
 * changed (snowflake-sdk's `getNumUpdatedRows`, -1 for anything else), other statements the
 * rows returned.
 */
export function commandOf(keyword: string, rowsReturned: number, rowsUpdated: number): { command: string; rowCount: number | null } {
  if (rowsUpdated >= 0 && (keyword === 'INSERT' || keyword === 'UPDATE' || keyword === 'DELETE' || keyword === 'MERGE')) {
    return { command: keyword === 'INSERT' ? `INSERT 0 ${rowsUpdated}` : `${keyword} ${rowsUpdated}`, rowCount: rowsUpdated };
  }
  if (ROW_RESULT.has(keyword) || keyword === '') return { command: `SELECT ${rowsReturned}`, rowCount: rowsReturned };
  return { command: keyword, rowCount: rowsReturned };
}
