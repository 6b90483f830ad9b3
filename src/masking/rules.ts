import { compileGlob } from '../policy/glob.js';
import type { ColumnRuleConfig, MaskingConfig, ProfileConfig, StrategyName } from './schema.js';
import { ANYWHERE } from './lineage-scope.js';
import { REDACT, stricter, type MaskSpec } from './strategy.js';

/**
 * Column rules and profiles compiled once at start, and the one function that decides how a
 * column is shown to a principal: `resolveColumn`.
 */

interface SpecFields {
  strategy?: StrategyName | undefined;
  keep_last?: number | undefined;
  keep_first?: number | undefined;
  replacement?: string | undefined;
}

export function specOf(f: SpecFields, fallback?: StrategyName): MaskSpec | undefined {
  const strategy = f.strategy ?? fallback;
  if (strategy === undefined) return undefined;
  return Object.freeze({ strategy, keepLast: f.keep_last, keepFirst: f.keep_first, replacement: f.replacement });
}

export interface CompiledRule {
  readonly match: string;
  /** Whether the rule covers `schema.table.column`, given the column's tags. */
  covers(column: string, tags: readonly string[]): boolean;
  /** Whether the rule may cover some column of relation `schema.table`. */
  coversRelation(relation: string): boolean;
  readonly spec: MaskSpec | undefined;
  readonly groups: ReadonlyArray<readonly [string, MaskSpec]>;
  readonly lineageUnknown: 'mask' | 'allow' | undefined;
}

export interface CompiledProfile {
  readonly name: string;
  readonly defaultSpec: MaskSpec | undefined;
  readonly rules: readonly CompiledRule[];
  readonly detectors: ReadonlyMap<string, boolean>;
  readonly lineageUnknown: 'mask' | 'allow' | undefined;
}

export function compileRule(r: ColumnRuleConfig, tags: Readonly<Record<string, readonly string[]>>): CompiledRule {
  const tag = r.match.startsWith('tag:') ? r.match.slice(4) : undefined;
  const globs = tag !== undefined ? (tags[tag] ?? []) : [r.match];
  const cols = globs.map((g) => compileGlob(g, true));
  const rels = globs.map((g) => {
    const parts = g.split('.');
    return compileGlob(parts.length >= 3 ? parts.slice(0, -1).join('.') : '*', true);
  });
  return {
    match: r.match,
    covers: (column, colTags) => (tag !== undefined && colTags.includes(tag)) || cols.some((re) => re.test(column)),
    coversRelation: (rel) => rel === ANYWHERE || rels.some((re) => re.test(rel)) || (tag !== undefined && globs.length === 0),
    spec: specOf(r),
    groups: Object.entries(r.groups ?? {}).map(([g, o]) => [g, specOf(o, 'redact')!] as const),
    lineageUnknown: r.lineage_unknown,
  };
}

export function compileProfile(name: string, p: ProfileConfig, tags: Readonly<Record<string, readonly string[]>>): CompiledProfile {
  return {
    name,
    defaultSpec: p.default_strategy !== undefined ? specOf({ strategy: p.default_strategy, keep_last: p.keep_last, keep_first: p.keep_first }) : undefined,
    rules: (p.columns ?? []).map((r) => compileRule(r, tags)),
    detectors: new Map(Object.entries(p.detectors ?? {})),
    lineageUnknown: p.lineage_unknown,
  };
}

/** A profile named by policy but missing from config: fail closed, show nothing sensitive. */
export function unknownProfile(name: string): CompiledProfile {
  return { name, defaultSpec: REDACT, rules: [], detectors: new Map(), lineageUnknown: 'mask' };
}

export const BASELINE: CompiledProfile = { name: '', defaultSpec: undefined, rules: [], detectors: new Map(), lineageUnknown: undefined };

export interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly defaultSpec: MaskSpec;
  readonly lineageUnknown: 'mask' | 'allow';
}

export function compileRuleSet(m: MaskingConfig): RuleSet {
  return {
    rules: m.columns.map((r) => compileRule(r, m.tags)),
    defaultSpec: specOf({ strategy: m.default_strategy })!,
    lineageUnknown: m.lineage_unknown,
  };
}

export interface ColumnQuery {
  readonly sources: readonly string[];
  /** Relations (or `*`) where lineage is unknown. */
  readonly unknown: readonly string[];
  readonly tags: readonly string[];
}

export interface Resolution {
  readonly spec: MaskSpec;
  /** Why: the rule matches, or `lineage-unknown`. For audit records and `policy explain`. */
  readonly because: readonly string[];
}

function groupSpec(rule: CompiledRule, groups: readonly string[]): MaskSpec | undefined {
  for (const [g, s] of rule.groups) if (groups.includes(g)) return s;
  return undefined;
}

/**
 * How one column is shown under the given profiles (none named: the baseline rules). Per
 * profile, a rule in the profile's own `columns` wins, then the rule's group override for one of
 * the principal's groups, then the profile's `default_strategy`, then the rule's own strategy,
 * then `masking.default_strategy`. Across several profiles, and across several source columns,
 * the most restrictive result wins. Undefined means no rule covers the column (detectors still
 * scan it); `'clear'` means a rule explicitly shows it in the clear to this principal, so
 * detectors leave it alone too (a DBA granted `clear` sees the real value).
 */
export function resolveColumn(set: RuleSet, profiles: readonly CompiledProfile[], groups: readonly string[], q: ColumnQuery): Resolution | 'clear' | undefined {
  let out: MaskSpec | undefined;
  const because = new Set<string>();
  for (const p of profiles.length > 0 ? profiles : [BASELINE]) {
    let spec: MaskSpec | undefined;
    const pick = (rule: CompiledRule, own: boolean): MaskSpec =>
      own ? (groupSpec(rule, groups) ?? rule.spec ?? p.defaultSpec ?? set.defaultSpec) : (groupSpec(rule, groups) ?? p.defaultSpec ?? rule.spec ?? set.defaultSpec);
    for (const src of q.sources) {
      const own = p.rules.find((r) => r.covers(src, q.tags));
      const rule = own ?? set.rules.find((r) => r.covers(src, q.tags));
      if (rule === undefined) continue;
      spec = stricter(spec, pick(rule, own !== undefined));
      because.add(rule.match);
    }
    if (q.unknown.length > 0) {
      for (const [rule, own] of [...p.rules.map((r) => [r, true] as const), ...set.rules.map((r) => [r, false] as const)]) {
        if (!q.unknown.some((rel) => rule.coversRelation(rel))) continue;
        if ((rule.lineageUnknown ?? p.lineageUnknown ?? set.lineageUnknown) !== 'mask') continue;
        let s = pick(rule, own);
        // Keeping "the last 4" of a value whose shape we do not know may keep anything.
        if (s.strategy === 'partial') s = REDACT;
        spec = stricter(spec, s);
        because.add('lineage-unknown');
      }
    }
    if (spec !== undefined) out = stricter(out, spec);
    else if (out !== undefined) out = stricter(out, { strategy: 'clear' });
  }
  if (out === undefined) return undefined;
  if (out.strategy === 'clear') return 'clear';
  return { spec: out, because: [...because] };
}
