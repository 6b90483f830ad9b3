import { INFORMATIONAL_RISKS, type RiskFlag } from '../analysis/facts.js';
import { formatIssues } from '../config/load.js';
import { policySchema, type PolicyConfig, type RuleConfig } from './schema.js';

export interface PolicyFinding {
  readonly rule: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
}

export interface PolicyReport {
  readonly ok: boolean;
  /** Validation problems, one line each (`rules.2.action: …`). */
  readonly errors: readonly string[];
  readonly findings: readonly PolicyFinding[];
  readonly policy?: PolicyConfig | undefined;
}

/**
 * Validates a `policy:` section and reports rules that can never decide anything: a rule is
 * shadowed when an earlier rule matches at least everything it matches (every action is
 * terminal, so the later rule is unreachable). The coverage test is conservative — when in
 * doubt a rule is reported reachable — so every finding is real.
 */
export function checkPolicy(raw: unknown): PolicyReport {
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues).split('\n'), findings: [] };
  const policy = parsed.data;
  const findings: PolicyFinding[] = [];
  const rules = policy.rules;
  rules.forEach((b, j) => {
    for (let i = 0; i < j; i++) {
      const a = rules[i]!;
      if (covers(a, b)) {
        findings.push({ rule: b.name, severity: 'error', message: `unreachable: rule "${a.name}" (#${i + 1}) already matches everything "${b.name}" (#${j + 1}) matches` });
        break;
      }
    }
    if (b.action === 'allow' && b.what?.kinds?.includes('unknown')) {
      findings.push({ rule: b.name, severity: 'warning', message: 'allows kind unknown: statements the analyzer could not understand will run unchecked' });
    }
    if (b.action === 'allow' && b.what?.risks?.includes('*')) {
      findings.push({ rule: b.name, severity: 'warning', message: 'risks: ["*"] tolerates every risk flag, including file access and privilege changes' });
    }
    if (b.action === 'allow' && b.what?.kinds === undefined && b.what?.tags === undefined) {
      findings.push({ rule: b.name, severity: 'warning', message: 'allows every statement kind (writes and DDL too); add what.kinds or what.tags' });
    }
  });
  if (policy.preset === undefined && !rules.some((r) => r.action === 'allow')) {
    findings.push({ rule: '(policy)', severity: 'warning', message: 'no preset and no allow rule: every statement will be denied' });
  }
  return { ok: !findings.some((f) => f.severity === 'error'), errors: [], findings, policy };
}

function covers(a: RuleConfig, b: RuleConfig): boolean {
  return coversWho(a, b) && coversWhat(a, b);
}

/** Every name `b` accepts is accepted by `a` (literal names only; a glob in b needs `*` in a). */
function coversNames(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return b.every((name) => a.includes('*') || a.includes(name) || (!/[*?]/.test(name) && a.some((p) => globToRegExp(p).test(name))));
}

function globToRegExp(p: string): RegExp {
  return new RegExp(`^${p.replace(/[\\^$.|+()[\]{}]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

function coversWho(a: RuleConfig, b: RuleConfig): boolean {
  return (
    coversNames(a.who?.groups, b.who?.groups) &&
    coversNames(a.who?.subjects, b.who?.subjects) &&
    coversNames(a.who?.connections, b.who?.connections) &&
    coversNames(a.who?.frontends, b.who?.frontends)
  );
}

function subset(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined) return true;
  if (b === undefined) return false;
  return b.every((x) => a.includes(x));
}

function coversWhat(a: RuleConfig, b: RuleConfig): boolean {
  const aw = a.what ?? {};
  const bw = b.what ?? {};
  // kinds: absent means "any kind but unknown".
  if (aw.kinds === undefined) {
    if (bw.kinds?.includes('unknown')) return false;
  } else if (bw.kinds === undefined || !bw.kinds.every((k) => aw.kinds!.includes(k))) return false;
  if (!subset(aw.tags?.map((t) => t.toUpperCase()), bw.tags?.map((t) => t.toUpperCase()))) return false;

  const aAllow = a.action === 'allow';
  const bAllow = b.action === 'allow';
  // risks: allow tolerates the listed flags (none when absent); deny/review needs one present.
  if (aAllow) {
    if (!aw.risks?.includes('*')) {
      if (!bAllow) return false;
      if (bw.risks?.includes('*')) return false;
      if (!subset(aw.risks ?? [], bw.risks ?? [])) return false;
    }
  } else if (aw.risks !== undefined) {
    const br = bw.risks;
    if (bAllow || br === undefined) return false;
    if (aw.risks.includes('*')) {
      if (!br.every((r) => r === '*' || !INFORMATIONAL_RISKS.has(r as RiskFlag))) return false;
    } else if (br.includes('*') || !subset(aw.risks, br)) return false;
  }
  // tables/functions: allow needs all covered, deny/review any; only same-shape pairs compare.
  for (const field of ['tables', 'functions'] as const) {
    const ap = aw[field];
    const bp = bw[field];
    if (ap === undefined) continue;
    if (bp === undefined || aAllow !== bAllow) return false;
    if (!bp.every((p) => ap.includes(p) || ap.includes('*'))) return false;
  }
  return true;
}
