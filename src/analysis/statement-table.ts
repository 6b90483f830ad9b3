import type { RiskFlag, StatementKind } from './facts.js';
import { isObj, objectTypeName, str, type Obj } from './node.js';

/**
 * Every parse-tree node type that is a statement, with the kind and tag it contributes. The
 * walker escalates a statement's kind to the worst statement node it meets anywhere in the
 * tree, so a DELETE in a CTE makes its SELECT a write. A top-level node missing from this
 * table is kind `unknown` — new PostgreSQL statements fail closed until someone classifies them.
 */
export interface StatementNode {
  readonly kind: StatementKind | ((b: Obj) => StatementKind);
  readonly tag: string | ((b: Obj) => string);
  readonly risks?: readonly RiskFlag[];
}

const ddl = (tag: string | ((b: Obj) => string), risks?: readonly RiskFlag[]): StatementNode => ({ kind: 'ddl', tag, ...(risks ? { risks } : {}) });
const dcl = (tag: string | ((b: Obj) => string), risks: readonly RiskFlag[] = ['privilege']): StatementNode => ({ kind: 'dcl', tag, risks });
const objTag = (prefix: string, field: string) => (b: Obj) => `${prefix} ${objectTypeName(b[field])}`;

const TRANSACTION_TAGS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

const TWO_PHASE: ReadonlySet<string> = new Set(['TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED', 'TRANS_STMT_ROLLBACK_PREPARED']);

export const STATEMENT_NODES: Readonly<Record<string, StatementNode>> = {
  SelectStmt: { kind: (b) => (isObj(b['intoClause']) ? 'ddl' : 'read'), tag: (b) => (isObj(b['intoClause']) ? 'SELECT INTO' : 'SELECT') },
  InsertStmt: { kind: 'write', tag: 'INSERT' },
  UpdateStmt: { kind: 'write', tag: 'UPDATE' },
  DeleteStmt: { kind: 'write', tag: 'DELETE' },
  MergeStmt: { kind: 'write', tag: 'MERGE' },
  CopyStmt: {
    kind: (b) => (b['is_from'] === true ? 'write' : 'read'),
    tag: 'COPY',
  },
  TruncateStmt: { kind: 'write', tag: 'TRUNCATE TABLE', risks: ['destructive'] },
  CallStmt: { kind: 'write', tag: 'CALL', risks: ['dynamic-code'] },
  DoStmt: { kind: 'utility', tag: 'DO' },
  ExplainStmt: { kind: 'read', tag: 'EXPLAIN' },
  PrepareStmt: { kind: 'read', tag: 'PREPARE', risks: ['prepared-execute'] },
  ExecuteStmt: { kind: 'read', tag: 'EXECUTE', risks: ['prepared-execute'] },
  DeallocateStmt: { kind: 'session', tag: 'DEALLOCATE' },
  DeclareCursorStmt: { kind: 'read', tag: 'DECLARE CURSOR' },
  FetchStmt: { kind: 'read', tag: (b) => (b['ismove'] === true ? 'MOVE' : 'FETCH') },
  ClosePortalStmt: { kind: 'session', tag: 'CLOSE CURSOR' },
  // Two-phase commit is not transaction control of one's own session. COMMIT/ROLLBACK PREPARED
  // finish a prepared transaction by its name, any session's that ran as the same database role
  // (every principal, behind the gateway's credential): they make its writes happen or discard
  // them. PREPARE TRANSACTION parks one that outlives the session, locks included, even a
  // read-only one. All three are writes.
  TransactionStmt: {
    kind: (b) => (TWO_PHASE.has(str(b['kind']) ?? '') ? 'write' : 'tcl'),
    tag: (b) => TRANSACTION_TAGS[str(b['kind']) ?? ''] ?? 'TRANSACTION',
  },
  ConstraintsSetStmt: { kind: 'tcl', tag: 'SET CONSTRAINTS' },
  VariableSetStmt: { kind: 'session', tag: (b) => (str(b['kind'])?.startsWith('VAR_RESET') ? 'RESET' : 'SET') },
  VariableShowStmt: { kind: 'session', tag: 'SHOW' },
  DiscardStmt: { kind: 'session', tag: (b) => `DISCARD ${(str(b['target']) ?? 'DISCARD_ALL').replace('DISCARD_', '')}` },
  ListenStmt: { kind: 'utility', tag: 'LISTEN', risks: ['listen-notify'] },
  NotifyStmt: { kind: 'utility', tag: 'NOTIFY', risks: ['listen-notify', 'side-effect-function'] },
  UnlistenStmt: { kind: 'session', tag: 'UNLISTEN' },
  LockStmt: { kind: 'utility', tag: 'LOCK TABLE', risks: ['lock'] },
  VacuumStmt: { kind: 'utility', tag: (b) => (b['is_vacuumcmd'] === true ? 'VACUUM' : 'ANALYZE'), risks: ['maintenance'] },
  ClusterStmt: { kind: 'utility', tag: 'CLUSTER', risks: ['maintenance', 'lock'] },
  ReindexStmt: { kind: 'utility', tag: 'REINDEX', risks: ['maintenance', 'lock'] },
  CheckPointStmt: { kind: 'utility', tag: 'CHECKPOINT', risks: ['maintenance'] },
  RefreshMatViewStmt: { kind: 'write', tag: 'REFRESH MATERIALIZED VIEW', risks: ['maintenance'] },
  AlterSystemStmt: { kind: 'utility', tag: 'ALTER SYSTEM', risks: ['alter-system', 'session-tampering'] },
  LoadStmt: { kind: 'utility', tag: 'LOAD', risks: ['file-access', 'dynamic-code'] },

  CreateStmt: ddl('CREATE TABLE'),
  CreateTableAsStmt: ddl(
    (b) => (b['is_select_into'] === true ? 'SELECT INTO' : b['objtype'] === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS'),
    ['export'],
  ),
  ViewStmt: ddl('CREATE VIEW'),
  IndexStmt: ddl('CREATE INDEX', ['lock']),
  AlterTableStmt: ddl(objTag('ALTER', 'objtype')),
  DropStmt: ddl(objTag('DROP', 'removeType'), ['destructive']),
  RenameStmt: ddl(objTag('ALTER', 'renameType')),
  AlterObjectSchemaStmt: ddl(objTag('ALTER', 'objectType')),
  AlterObjectDependsStmt: ddl(objTag('ALTER', 'objectType')),
  AlterOwnerStmt: ddl(objTag('ALTER', 'objectType'), ['privilege']),
  CommentStmt: ddl('COMMENT'),
  SecLabelStmt: ddl('SECURITY LABEL', ['privilege']),
  CreateSchemaStmt: ddl('CREATE SCHEMA'),
  CreateSeqStmt: ddl('CREATE SEQUENCE'),
  AlterSeqStmt: ddl('ALTER SEQUENCE'),
  CreateDomainStmt: ddl('CREATE DOMAIN'),
  AlterDomainStmt: ddl('ALTER DOMAIN', []),
  DefineStmt: ddl(objTag('CREATE', 'kind')),
  CompositeTypeStmt: ddl('CREATE TYPE'),
  CreateEnumStmt: ddl('CREATE TYPE'),
  CreateRangeStmt: ddl('CREATE TYPE'),
  AlterEnumStmt: ddl('ALTER TYPE'),
  AlterTypeStmt: ddl('ALTER TYPE'),
  AlterCollationStmt: ddl('ALTER COLLATION'),
  CreateFunctionStmt: ddl((b) => (b['is_procedure'] === true ? 'CREATE PROCEDURE' : 'CREATE FUNCTION'), ['dynamic-code']),
  AlterFunctionStmt: ddl(objTag('ALTER', 'objtype'), ['dynamic-code']),
  CreateTrigStmt: ddl('CREATE TRIGGER', ['dynamic-code']),
  CreateEventTrigStmt: ddl('CREATE EVENT TRIGGER', ['dynamic-code', 'privilege']),
  AlterEventTrigStmt: ddl('ALTER EVENT TRIGGER', ['privilege']),
  RuleStmt: ddl('CREATE RULE', ['dynamic-code']),
  CreateStatsStmt: ddl('CREATE STATISTICS'),
  AlterStatsStmt: ddl('ALTER STATISTICS'),
  CreateOpClassStmt: ddl('CREATE OPERATOR CLASS'),
  CreateOpFamilyStmt: ddl('CREATE OPERATOR FAMILY'),
  AlterOpFamilyStmt: ddl('ALTER OPERATOR FAMILY'),
  AlterOperatorStmt: ddl('ALTER OPERATOR'),
  CreateCastStmt: ddl('CREATE CAST'),
  CreateConversionStmt: ddl('CREATE CONVERSION'),
  CreateTransformStmt: ddl('CREATE TRANSFORM'),
  AlterTSDictionaryStmt: ddl('ALTER TEXT SEARCH DICTIONARY'),
  AlterTSConfigurationStmt: ddl('ALTER TEXT SEARCH CONFIGURATION'),
  CreateAmStmt: ddl('CREATE ACCESS METHOD', ['extension']),
  CreateExtensionStmt: ddl('CREATE EXTENSION', ['extension']),
  AlterExtensionStmt: ddl('ALTER EXTENSION', ['extension']),
  AlterExtensionContentsStmt: ddl('ALTER EXTENSION', ['extension']),
  CreatePLangStmt: ddl('CREATE LANGUAGE', ['extension', 'dynamic-code']),
  CreateFdwStmt: ddl('CREATE FOREIGN DATA WRAPPER', ['extension']),
  AlterFdwStmt: ddl('ALTER FOREIGN DATA WRAPPER', ['extension']),
  CreateForeignServerStmt: ddl('CREATE SERVER', ['export']),
  AlterForeignServerStmt: ddl('ALTER SERVER', ['export']),
  CreateForeignTableStmt: ddl('CREATE FOREIGN TABLE', ['export']),
  ImportForeignSchemaStmt: ddl('IMPORT FOREIGN SCHEMA'),
  CreatePublicationStmt: ddl('CREATE PUBLICATION', ['export']),
  AlterPublicationStmt: ddl('ALTER PUBLICATION', ['export']),
  CreateSubscriptionStmt: ddl('CREATE SUBSCRIPTION', ['privilege']),
  AlterSubscriptionStmt: ddl('ALTER SUBSCRIPTION', ['privilege']),
  DropSubscriptionStmt: ddl('DROP SUBSCRIPTION', ['destructive']),
  CreateTableSpaceStmt: ddl('CREATE TABLESPACE', ['file-access']),
  DropTableSpaceStmt: ddl('DROP TABLESPACE', ['destructive']),
  AlterTableSpaceOptionsStmt: ddl('ALTER TABLESPACE'),
  AlterTableMoveAllStmt: ddl('ALTER TABLE', ['lock']),
  CreatedbStmt: ddl('CREATE DATABASE'),
  AlterDatabaseStmt: ddl('ALTER DATABASE'),
  AlterDatabaseRefreshCollStmt: ddl('ALTER DATABASE'),
  AlterDatabaseSetStmt: ddl('ALTER DATABASE'),
  DropdbStmt: ddl('DROP DATABASE', ['destructive']),

  GrantStmt: dcl((b) => (b['is_grant'] === true ? 'GRANT' : 'REVOKE')),
  GrantRoleStmt: dcl((b) => (b['is_grant'] === true ? 'GRANT ROLE' : 'REVOKE ROLE')),
  AlterDefaultPrivilegesStmt: dcl('ALTER DEFAULT PRIVILEGES'),
  CreateRoleStmt: dcl('CREATE ROLE'),
  AlterRoleStmt: dcl('ALTER ROLE'),
  AlterRoleSetStmt: dcl('ALTER ROLE'),
  DropRoleStmt: dcl('DROP ROLE', ['privilege', 'destructive']),
  CreatePolicyStmt: dcl('CREATE POLICY'),
  AlterPolicyStmt: dcl('ALTER POLICY'),
  CreateUserMappingStmt: dcl('CREATE USER MAPPING'),
  AlterUserMappingStmt: dcl('ALTER USER MAPPING'),
  DropUserMappingStmt: dcl('DROP USER MAPPING'),
  DropOwnedStmt: dcl('DROP OWNED', ['privilege', 'destructive']),
  ReassignOwnedStmt: dcl('REASSIGN OWNED'),
};

/** Statements whose analysis cannot depend on a literal's value; see the normalized cache. */
export const LITERAL_FREE_NODES: ReadonlySet<string> = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

export function nodeKind(info: StatementNode, body: Obj): StatementKind {
  return typeof info.kind === 'function' ? info.kind(body) : info.kind;
}

export function nodeTag(info: StatementNode, body: Obj): string {
  return typeof info.tag === 'function' ? info.tag(body) : info.tag;
}
