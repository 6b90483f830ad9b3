import type { PresetName, RuleConfig } from './schema.js';

/**
 * Presets are ordinary rules appended after the user's, so `policy explain` can name the one
 * that decided. Reads here mean kind read/tcl/session with no risk flag: a SELECT calling
 * pg_read_file, nextval or set_config('role', …) is not a read for this purpose.
 */
const READ_KINDS = ['read', 'tcl', 'session'] as const;

const readOnly: readonly RuleConfig[] = [
  { name: 'preset:read-only', action: 'allow', what: { kinds: [...READ_KINDS] } },
  {
    name: 'preset:read-only/refuse',
    action: 'deny',
    reason:
      'this connection is read-only for you: plain reads run, while writes, DDL, and reads that call risky functions (file access, nextval, set_config, …), lock rows or export data are refused; rephrase as a plain SELECT or ask an administrator',
  },
];

export const DANGEROUS_RISKS = ['destructive', 'privilege', 'file-access', 'alter-system', 'session-tampering', 'file-transfer', 'egress', 'sharing'] as const;

const readWriteWithReview: readonly RuleConfig[] = [
  {
    name: 'preset:read-write-with-review/refuse-dangerous',
    action: 'deny',
    what: { risks: [...DANGEROUS_RISKS] },
    reason:
      'destructive statements (DROP, TRUNCATE, DELETE/UPDATE without a WHERE that names a column, ALTER … DROP), privilege changes, server file access, file transfers, new egress paths, data sharing, ALTER SYSTEM and session tampering are never run for agents; ask a database administrator',
  },
  { name: 'preset:read-write-with-review/reads', action: 'allow', what: { kinds: [...READ_KINDS] } },
  {
    name: 'preset:read-write-with-review/hold-changes',
    action: 'review',
    what: { kinds: ['read', 'tcl', 'session', 'utility', 'write', 'ddl', 'dcl'] },
    reason: 'changes and risky reads are held until a person approves them',
  },
];

export function presetRules(preset: PresetName | undefined): readonly RuleConfig[] {
  switch (preset) {
    case 'read-only':
      return readOnly;
    case 'read-write-with-review':
    case 'audit-only':
      // audit-only records what read-write-with-review would have done; see engine.ts.
      return readWriteWithReview;
    default:
      return [];
  }
}
