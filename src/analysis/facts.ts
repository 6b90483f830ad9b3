/** What a statement really does, as the analyzer found it by walking the parse tree. */
export type StatementKind = 'read' | 'write' | 'ddl' | 'dcl' | 'tcl' | 'session' | 'utility' | 'unknown';

export type RiskFlag =
  | 'destructive'
  | 'privilege'
  | 'export'
  | 'file-access'
  | 'dynamic-code'
  | 'session-tampering'
  | 'side-effect-function'
  | 'explain-analyze-write'
  | 'prepared-execute'
  | 'lock'
  | 'maintenance'
  | 'alter-system'
  | 'extension'
  | 'listen-notify'
  | 'multi-statement'
  | 'unparseable';

export interface StatementFacts {
  readonly kind: StatementKind;
  /** The command tag PostgreSQL would report, e.g. `SELECT`, `DROP TABLE`. */
  readonly tag: string;
  /** Relations read, schema-qualified where the SQL qualifies them (`public.customers`, or `customers`). */
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly functions: readonly string[];
  readonly risks: readonly RiskFlag[];
  /** Why the analyzer gave up, when kind is `unknown`. */
  readonly error?: string | undefined;
}

/** The analysis of one client message (a Query may hold several statements). */
export interface Analysis {
  readonly statements: readonly StatementFacts[];
  /** The kind that policy sees for the message as a whole (the "worst" of the statements). */
  readonly kind: StatementKind;
  readonly risks: readonly RiskFlag[];
  readonly reads: readonly string[];
  readonly writes: readonly string[];
  readonly functions: readonly string[];
}
