/**
 * The database ran (or tried to run) an admitted statement and reported an error: a syntax
 * error, a missing table, a constraint violation, a cancelled statement. This is the
 * database's answer, not the gateway's, so it carries the server's SQLSTATE and message and
 * no Portcullis code; frontends show it as the outcome of the statement.
 *
 * The server's DETAIL field is left out on purpose: it quotes row values (`Key (email)=(…)
 * already exists`) that masking has not seen.
 */
export class StatementError extends Error {
  readonly sqlstate: string;
  readonly hint: string | undefined;

  constructor(sqlstate: string, message: string, hint?: string) {
    super(message);
    this.name = 'StatementError';
    this.sqlstate = sqlstate;
    this.hint = hint;
  }
}

export function isStatementError(e: unknown): e is StatementError {
  return e instanceof StatementError;
}

/** `SELECT 3`, `INSERT 0 1`, `CREATE TABLE`: the number at the end of a tag is the row count. */
export function rowCountOfTag(tag: string): number | null {
  const m = /^(?:SELECT|INSERT \d+|UPDATE|DELETE|MERGE|FETCH|MOVE|COPY) (\d+)$/.exec(tag);
  return m ? Number(m[1]) : null;
}
