/** What a statement really does, as the analyzer found it by walking the parse tree. */
export type StatementKind = 'read' | 'write' | 'ddl' | 'dcl' | 'tcl' | 'session' | 'utility' | 'unknown';

/** Every kind, least dangerous first; the order `worstKind` uses to summarise a message. */
export const STATEMENT_KINDS: readonly StatementKind[] = ['read', 'tcl', 'session', 'utility', 'write', 'ddl', 'dcl', 'unknown'];

const KIND_RANK: Readonly<Record<StatementKind, number>> = {
  read: 0,
  tcl: 1,
  session: 2,
  utility: 3,
  write: 4,
  ddl: 5,
  dcl: 6,
  unknown: 7,
};

export function worstKind(a: StatementKind, b: StatementKind): StatementKind {
  return KIND_RANK[a] >= KIND_RANK[b] ? a : b;
}

export const RISK_FLAGS = [
  'destructive',
  'privilege',
  'export',
  'file-access',
  'dynamic-code',
  'session-tampering',
  'side-effect-function',
  'explain-analyze-write',
  'prepared-execute',
  'lock',
  'maintenance',
  'alter-system',
  'extension',
  'listen-notify',
  'multi-statement',
  'unparseable',
  // Snowflake: PUT/GET/LIST/REMOVE and presigned or scoped file URLs move files past the gateway.
  'file-transfer',
  // Snowflake: a new way out of the account (stages, integrations, external functions, e-mail).
  'egress',
  // Snowflake: data handed to other accounts (shares, replication and failover groups, listings).
  'sharing',
  // Snowflake: any SYSTEM$… function.
  'system-function',
  // Snowflake: CREATE … CLONE, a zero-copy copy outside the original's grants and masking.
  'clone',
  // Snowflake: AT(…)/BEFORE(…)/CHANGES(…) read data as it was, including rows since deleted.
  'time-travel',
] as const;

export type RiskFlag = (typeof RISK_FLAGS)[number];

/**
 * Flags that describe how a statement arrived rather than what it does: the facts of what runs
 * are already merged in, so an allow rule need not list them.
 */
export const INFORMATIONAL_RISKS: ReadonlySet<RiskFlag> = new Set<RiskFlag>(['multi-statement', 'prepared-execute']);

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
