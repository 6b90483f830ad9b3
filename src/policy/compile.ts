import { INFORMATIONAL_RISKS, type RiskFlag, type StatementFacts, type StatementKind } from '../analysis/facts.js';
import type { AllowDecision } from '../pipeline/decision.js';
import type { ClientInfo, FrontendName, Principal } from '../pipeline/principal.js';
import { FUNCTION_SCHEMAS, anyMatches, compileGlob, nameMatches, relationSchemas } from './glob.js';
import type { RuleConfig } from './schema.js';

export type Action = 'allow' | 'deny' | 'review';

/**
 * A rule with its globs turned into RegExps once, at load. Matching semantics differ by action
 * on purpose — allow is narrow, deny and review are broad:
 * - allow matches only when the rule covers the whole statement: its kind is listed, every
 *   risk flag it carries is listed in `risks` (none tolerated when absent), every table and
 *   function it touches matches a pattern;
 * - deny/review match when any part is caught: any listed risk present, any table or
 *   function matching.
 * No rule matches kind `unknown` unless its `kinds` lists it.
 */
export interface CompiledRule {
  readonly name: string;
  readonly action: Action;
  readonly reason: string | undefined;
  readonly review: Readonly<Record<string, unknown>> | undefined;
  /** The allow decision, built once: the hot path hands it out without allocating. */
  readonly allowDecision: AllowDecision | undefined;
  readonly fromPreset: boolean;
  readonly config: RuleConfig;
  who(principal: Principal, client: ClientInfo, connection: string): boolean;
  what(s: StatementFacts, multiStatement: boolean): boolean;
}

export function compileRule(rule: RuleConfig, fromPreset = false): CompiledRule {
  const broad = rule.action !== 'allow';
  const globs = (list: readonly string[] | undefined): RegExp[] | undefined => list?.map((p) => compileGlob(p, broad));
  const groups = globs(rule.who?.groups);
  const subjects = globs(rule.who?.subjects);
  const connections = globs(rule.who?.connections);
  const frontends = rule.who?.frontends ? new Set<FrontendName>(rule.who.frontends) : undefined;
  const kinds = rule.what?.kinds ? new Set(rule.what.kinds as StatementKind[]) : undefined;
  const anyRisk = rule.what?.risks?.includes('*') === true;
  const risks = rule.what?.risks ? new Set(rule.what.risks.filter((r) => r !== '*') as RiskFlag[]) : undefined;
  const tables = globs(rule.what?.tables);
  const functions = globs(rule.what?.functions);
  const tags = rule.what?.tags ? new Set(rule.what.tags.map((t) => t.toUpperCase())) : undefined;

  const who = (principal: Principal, client: ClientInfo, connection: string): boolean => {
    if (frontends && !frontends.has(client.frontend)) return false;
    if (connections && !anyMatches(connections, connection)) return false;
    if (subjects && !anyMatches(subjects, principal.subject)) return false;
    if (groups) {
      let hit = false;
      for (const g of principal.groups) if (anyMatches(groups, g)) hit = true;
      if (!hit) return false;
    }
    return true;
  };

  const allowWhat = (s: StatementFacts): boolean => {
    if (kinds ? !kinds.has(s.kind) : s.kind === 'unknown') return false;
    if (tags && !tags.has(s.tag)) return false;
    if (!anyRisk) for (const r of s.risks) if (!INFORMATIONAL_RISKS.has(r) && !risks?.has(r)) return false;
    if (tables) {
      for (const t of s.reads) if (!nameMatches(tables, t, relationSchemas(t))) return false;
      for (const t of s.writes) if (!nameMatches(tables, t, relationSchemas(t))) return false;
    }
    if (functions) for (const f of s.functions) if (!nameMatches(functions, f, FUNCTION_SCHEMAS)) return false;
    return true;
  };

  const broadWhat = (s: StatementFacts, multiStatement: boolean): boolean => {
    if (kinds ? !kinds.has(s.kind) : s.kind === 'unknown') return false;
    if (tags && !tags.has(s.tag)) return false;
    if (risks || anyRisk) {
      let hit = false;
      for (const r of s.risks) if (anyRisk ? !INFORMATIONAL_RISKS.has(r) : risks!.has(r)) hit = true;
      if (!hit && multiStatement && risks?.has('multi-statement')) hit = true;
      if (!hit) return false;
    }
    if (tables) {
      let hit = false;
      for (const t of s.reads) if (nameMatches(tables, t, relationSchemas(t))) hit = true;
      for (const t of s.writes) if (nameMatches(tables, t, relationSchemas(t))) hit = true;
      if (!hit) return false;
    }
    if (functions) {
      let hit = false;
      for (const f of s.functions) if (nameMatches(functions, f, FUNCTION_SCHEMAS)) hit = true;
      if (!hit) return false;
    }
    return true;
  };

  const allowDecision: AllowDecision | undefined =
    rule.action === 'allow'
      ? Object.freeze({
          action: 'allow' as const,
          rule: rule.name,
          ...(rule.max_rows !== undefined ? { maxRows: rule.max_rows } : {}),
          ...(rule.timeout !== undefined ? { timeoutMs: rule.timeout } : {}),
          ...(rule.mask !== undefined ? { mask: Object.freeze([...rule.mask]) } : {}),
        })
      : undefined;

  return {
    name: rule.name,
    action: rule.action,
    reason: rule.reason,
    review: rule.review,
    allowDecision,
    fromPreset,
    config: rule,
    who,
    what: broad ? broadWhat : (s) => allowWhat(s),
  };
}
