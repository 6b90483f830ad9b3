import { INFORMATIONAL_RISKS, type Analysis, type RiskFlag, type StatementFacts } from '../analysis/facts.js';
import type { ClientInfo, Principal } from '../pipeline/principal.js';
import type { AllowDecision, Decision, DenyDecision, ReviewDecision } from '../pipeline/decision.js';
import type { DecideStage, DecisionInput } from '../pipeline/stages.js';
import { compileRule, type CompiledRule } from './compile.js';
import { presetRules } from './presets.js';
import { policySchema, type PolicyConfig } from './schema.js';

export interface PolicyEngine extends DecideStage {
  /** The decision plus which statement and rule decided, for `policy explain` and the audit log. */
  explain(input: DecisionInput): PolicyExplanation;
  readonly rules: readonly CompiledRule[];
  runsReadOnly(input: DecisionInput): boolean;
  readsOnly(principal: Principal, client: ClientInfo, connection: string): boolean;
}

export interface PolicyExplanation {
  readonly decision: Decision;
  /** One entry per statement: the rule that matched it (`default` when none did). */
  readonly perStatement: readonly { readonly tag: string; readonly rule: string; readonly action: Decision['action'] }[];
}

const AUDIT_RULE = 'preset:audit-only';
/** A table name no narrow glob matches: "some table the analyzer cannot see". */
const UNSEEN_TABLE = '(a table a function or view may write)';
const EMPTY_STATEMENT: StatementFacts = Object.freeze({ kind: 'read', tag: 'EMPTY', reads: [], writes: [], functions: [], risks: [] });

/**
 * The decide stage: user rules in order, then the preset's rules, then deny. Synchronous and
 * pure; globs are compiled once here. Each statement of a message is decided on its own and the
 * message gets the strictest result (any deny denies all of it, then any review).
 *
 * @example
 *   const engine = createPolicyEngine({ preset: 'read-only', rules: [] });
 *   engine.decide({ principal, client, connection: 'warehouse', analysis }).action;
 */
export function createPolicyEngine(policy: PolicyConfig | unknown): PolicyEngine {
  const config = policySchema.parse(policy);
  const rules = [...config.rules.map((r) => compileRule(r)), ...presetRules(config.preset).map((r) => compileRule(r, true))];
  const audit = config.preset === 'audit-only';

  const decideStatement = (s: StatementFacts, multi: boolean, applicable: readonly CompiledRule[], input: DecisionInput): Decision => {
    for (const r of applicable) {
      if (!r.what(s, multi)) continue;
      if (r.action === 'allow') return r.allowDecision!;
      if (r.action === 'deny') return denyByRule(r, s);
      return reviewByRule(r, s);
    }
    return defaultDeny(s, input);
  };

  const explain = (input: DecisionInput): PolicyExplanation => {
    const applicable = rules.filter((r) => r.who(input.principal, input.client, input.connection));
    const analysis = input.analysis;
    const statements = analysis.statements.length > 0 ? analysis.statements : [emptyFacts(analysis)];
    const multi = statements.length > 1;
    const per = statements.map((s) => decideStatement(s, multi, applicable, input));
    let decision = combine(per);
    if (audit) decision = auditOnly(decision, statements);
    return { decision, perStatement: per.map((d, i) => ({ tag: statements[i]!.tag, rule: d.rule, action: d.action })) };
  };

  const decide = (input: DecisionInput): Decision => {
    const analysis = input.analysis;
    // The common case — one statement, first applicable rule allows — allocates nothing, in
    // audit-only too (where an allow stands as it is): the same answer explain() gives.
    if (analysis.statements.length === 1) {
      const s = analysis.statements[0]!;
      let d: Decision | undefined;
      for (const r of rules) {
        if (!r.who(input.principal, input.client, input.connection) || !r.what(s, false)) continue;
        d = r.action === 'allow' ? r.allowDecision! : r.action === 'deny' ? denyByRule(r, s) : reviewByRule(r, s);
        break;
      }
      d ??= defaultDeny(s, input);
      return audit ? auditOnly(d, analysis.statements) : d;
    }
    return explain(input).decision;
  };

  const readsOnly = (principal: Principal, client: ClientInfo, connection: string): boolean => {
    // audit-only runs everything; it must not change what the database does.
    if (audit) return false;
    for (const r of rules) {
      if (!r.who(principal, client, connection)) continue;
      if (r.action === 'deny') {
        // A deny with no conditions ends the list for this principal: nothing after it applies.
        if (unconditional(r)) return true;
        continue;
      }
      // A person may approve whatever a review rule holds, risky reads (nextval) included.
      if (r.action === 'review') return false;
      if (!allowsOnlyPlainReads(r)) return false;
    }
    return true;
  };

  const runsReadOnly = (input: DecisionInput): boolean => {
    if (audit) return false;
    const statements = input.analysis.statements;
    if (statements.length === 0 || !statements.every(plainRead)) return false;
    // Would the same statement pass as a write to the tables it reads and to one the analyzer
    // cannot name (where a function may write)? Then the principal may write anywhere anyway,
    // and a writing function is within what policy grants.
    const asWrite = statements.map((s): StatementFacts => ({ ...s, kind: 'write', writes: [...s.reads, UNSEEN_TABLE] }));
    const d = decide({ ...input, analysis: { ...input.analysis, kind: 'write', writes: [...input.analysis.reads, UNSEEN_TABLE], statements: asWrite } });
    return d.action !== 'allow';
  };

  return { decide, explain, rules, readsOnly, runsReadOnly };
}

function unconditional(r: CompiledRule): boolean {
  const w = r.config.what;
  return w === undefined || Object.values(w).every((v) => v === undefined);
}

/** A read with no risk the analyzer flags: what the presets call a read (kind read, nothing risky). */
function plainRead(s: StatementFacts): boolean {
  if (s.kind !== 'read' && s.kind !== 'tcl' && s.kind !== 'session') return false;
  for (const r of s.risks) if (!INFORMATIONAL_RISKS.has(r)) return false;
  return true;
}

/** An allow rule that can match nothing but plain reads: only read-like kinds, and no risk tolerated. */
function allowsOnlyPlainReads(r: CompiledRule): boolean {
  const kinds = r.config.what?.kinds;
  if (kinds === undefined || !kinds.every((k) => k === 'read' || k === 'tcl' || k === 'session')) return false;
  const risks = r.config.what?.risks;
  return risks === undefined || risks.every((x) => INFORMATIONAL_RISKS.has(x as RiskFlag));
}

/** A message with no statements (empty query) is decided as what the analysis says it is. */
function emptyFacts(a: Analysis): StatementFacts {
  if (a.kind === 'read' && a.risks.length === 0) return EMPTY_STATEMENT;
  return { kind: a.kind, tag: 'EMPTY', reads: a.reads, writes: a.writes, functions: a.functions, risks: a.risks };
}

function combine(per: readonly Decision[]): Decision {
  if (per.length === 1) return per[0]!;
  for (const d of per) if (d.action === 'deny') return d;
  for (const d of per) if (d.action === 'review') return d;
  const allows = per as readonly AllowDecision[];
  const names = [...new Set(allows.map((d) => d.rule))];
  let maxRows: number | undefined;
  let timeoutMs: number | undefined;
  const mask = new Set<string>();
  for (const d of allows) {
    if (d.maxRows !== undefined) maxRows = maxRows === undefined ? d.maxRows : Math.min(maxRows, d.maxRows);
    if (d.timeoutMs !== undefined) timeoutMs = timeoutMs === undefined ? d.timeoutMs : Math.min(timeoutMs, d.timeoutMs);
    for (const m of d.mask ?? []) mask.add(m);
  }
  return {
    action: 'allow',
    rule: names.join('+'),
    ...(maxRows !== undefined ? { maxRows } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(mask.size > 0 ? { mask: [...mask] } : {}),
  };
}

/**
 * audit-only runs everything the analyzer understood and records what read-write-with-review
 * (after the user's rules) would have done. Unknown statements are still denied: "could not
 * analyze" is not something a dry run can vouch for.
 */
function auditOnly(d: Decision, statements: readonly StatementFacts[]): Decision {
  if (d.action === 'allow') return d;
  if (d.action === 'deny' && d.code === 'ERR_ANALYSIS_FAILED') return d;
  if (statements.some((s) => s.kind === 'unknown')) return d;
  return { action: 'allow', rule: AUDIT_RULE, wouldHave: { action: d.action, rule: d.rule, reason: d.reason } };
}

function describe(s: StatementFacts): string {
  const parts = [`${s.tag} (${s.kind})`];
  const risks = s.risks.filter((r) => r !== 'multi-statement');
  if (risks.length > 0) parts.push(`flagged ${risks.join(', ')}`);
  const tables = [...new Set([...s.writes, ...s.reads])];
  if (tables.length > 0) parts.push(`on ${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}`);
  return parts.join(' ');
}

function denyByRule(r: CompiledRule, s: StatementFacts): DenyDecision {
  const why = r.reason ?? `this ${describe(s)} is not allowed`;
  return { action: 'deny', rule: r.name, code: 'ERR_POLICY_DENIED', reason: `denied by rule "${r.name}": ${why}` };
}

function reviewByRule(r: CompiledRule, s: StatementFacts): ReviewDecision {
  const why = r.reason ?? `${describe(s)} needs a person's approval`;
  return { action: 'review', rule: r.name, reason: `held by rule "${r.name}": ${why}`, ...(r.review !== undefined ? { review: r.review } : {}) };
}

function defaultDeny(s: StatementFacts, input: DecisionInput): DenyDecision {
  if (s.kind === 'unknown') {
    return {
      action: 'deny',
      rule: 'default',
      code: 'ERR_ANALYSIS_FAILED',
      reason: `the statement could not be analyzed (${s.error ?? 'not recognized'}); statements the gateway cannot analyze are refused — send plain SQL, one statement the parser understands`,
    };
  }
  return {
    action: 'deny',
    rule: 'default',
    code: 'ERR_POLICY_DENIED',
    reason: `no policy rule allows this ${describe(s)} for ${input.principal.subject} on connection "${input.connection}"; rephrase it as a plain read, or ask an administrator to add a rule (try \`portcullis policy explain\`)`,
  };
}
