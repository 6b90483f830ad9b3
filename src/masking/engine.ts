import type { ErrorFields } from '../codecs/pgwire/error-fields.js';
import type { MaskingConfig } from './schema.js';
import type { Detector } from './detectors/detector.js';
import { BUILTIN_DETECTORS, builtinDetector, type BuiltinDetectorName } from './detectors/registry.js';
import { customRegexDetector } from './detectors/custom-regex.js';
import { DEFAULT_API_TOKEN_OPTIONS } from './detectors/api-token.js';
import { compileProfile, compileRuleSet, resolveColumn, specOf, unknownProfile, type CompiledProfile, type RuleSet } from './rules.js';
import { StrategyApplier, type MaskSpec } from './strategy.js';
import { TextScanner } from './text-scanner.js';
import { buildPlan, type MaskPlan, type PlanInput } from './plan.js';
import { maskErrorFields, type ErrorMaskContext } from './error-message.js';
import type { StatementLineage } from './lineage.js';

/**
 * The one masking engine every frontend shares: built once from `masking:` config, it plans
 * each result (`planMasking`), masks free text (`maskText`) and error texts
 * (`maskErrorMessage`).
 *
 * @example
 *   const engine = createMaskingEngine(config.masking);
 *   const plan = engine.planMasking({ columns, lineage, profiles: decision.mask, groups: principal.groups });
 *   // plan === null: relay rows untouched; else plan.maskDataRow(buf, start, end) per DataRow
 */
export interface MaskingEngine {
  /** False when masking is off or not configured: every method is then a no-op. */
  readonly enabled: boolean;
  planMasking(input: PlanInput): MaskPlan | null;
  /** Masks a free-text value: with `spec`, the whole value by that strategy; without, detector hits. */
  maskText(value: string, spec?: MaskSpec): string | null;
  /** Masks values PostgreSQL put into an ErrorResponse/NoticeResponse; null when unchanged. */
  maskErrorMessage(fields: ErrorFields, ctx?: ErrorMaskContext): ErrorFields | null;
  /** The context `maskErrorMessage` needs for a statement, from its lineage and the decision. */
  errorContext(input: { lineage?: StatementLineage | undefined; profiles?: readonly string[] | undefined; groups?: readonly string[] | undefined }): ErrorMaskContext;
}

interface DetectorEntry {
  detector: Detector;
  spec: MaskSpec;
  enabled: boolean;
}

export function createMaskingEngine(config: MaskingConfig | undefined): MaskingEngine {
  if (config === undefined || !config.enabled) return DISABLED;
  const apply = new StrategyApplier(config.hash_key?.reveal());
  const rules = compileRuleSet(config);
  const profiles = new Map<string, CompiledProfile>(Object.entries(config.profiles).map(([n, p]) => [n, compileProfile(n, p, config.tags)]));
  const nonText = config.binary.non_text;

  const entries = new Map<string, DetectorEntry>();
  for (const d of config.detectors) {
    if (typeof d === 'string') entries.set(d, { detector: builtinDetector(d), spec: rules.defaultSpec, enabled: true });
    else if ('pattern' in d) entries.set(d.name, { detector: customRegexDetector(d.name, d.pattern, d.flags), spec: specOf(d) ?? rules.defaultSpec, enabled: true });
    else {
      const opts = { minLength: d.min_length ?? DEFAULT_API_TOKEN_OPTIONS.minLength, minEntropy: d.min_entropy ?? DEFAULT_API_TOKEN_OPTIONS.minEntropy };
      entries.set(d.name, { detector: builtinDetector(d.name, opts), spec: specOf(d) ?? rules.defaultSpec, enabled: true });
    }
  }
  // A profile may switch on a built-in the global list leaves out.
  for (const name of BUILTIN_DETECTORS) if (!entries.has(name)) entries.set(name, { detector: builtinDetector(name), spec: rules.defaultSpec, enabled: false });
  // Detector hits are substrings: `null` there means "the whole value becomes NULL", `clear` is never useful.
  const specs = new Map<string, MaskSpec>([...entries].map(([n, e]) => [n, e.spec.strategy === 'clear' ? { strategy: 'redact' } : e.spec]));

  const scanners = new Map<string, TextScanner>();
  const scannerFor = (active: readonly CompiledProfile[]): TextScanner => {
    const key = active.map((p) => p.name).join('\0');
    let s = scanners.get(key);
    if (s === undefined) {
      const on: Detector[] = [];
      for (const [name, e] of entries) {
        // Across profiles a detector is on if any of them turns it on (the stricter reading).
        const toggles = active.map((p) => p.detectors.get(name)).filter((t) => t !== undefined);
        const enabled = toggles.length > 0 ? toggles.includes(true) : e.enabled;
        if (enabled) on.push(e.detector);
      }
      s = new TextScanner(on, specs, apply);
      scanners.set(key, s);
    }
    return s;
  };
  const activeProfiles = (names: readonly string[] | undefined): CompiledProfile[] => (names ?? []).map((n) => profiles.get(n) ?? unknownProfile(n));
  const globalScanner = scannerFor([]);
  // Error texts are few and short, and a value quoted into one has no column to be masked by:
  // every built-in detector runs over them whatever the configured list says.
  const errorScanner = new TextScanner([...entries.values()].map((e) => e.detector), specs, apply);

  return {
    enabled: true,
    planMasking(input) {
      const active = activeProfiles(input.profiles);
      return buildPlan({ rules, masker: { apply, scanner: scannerFor(active), nonText } }, active, input);
    },
    maskText(value, spec) {
      if (spec !== undefined) return apply.apply(spec, value);
      const r = globalScanner.scan(value);
      return r === undefined ? value : r;
    },
    maskErrorMessage(fields, ctx) {
      return maskErrorFields(fields, errorScanner, ctx);
    },
    errorContext({ lineage, profiles: names, groups }) {
      const active = activeProfiles(names);
      const g = groups ?? [];
      return {
        // Unknown lineage (a DO block, a user function, a statement we cannot read) may have read
        // anything: its errors and notices are treated like those of a statement that read masked columns.
        sensitive: lineage !== undefined && (touches(rules, active, lineage.relations) || touches(rules, active, unknownOf(lineage))),
        columnMasked: (column) => {
          const r = resolveColumn(rules, active, g, { sources: [column], unknown: [], tags: [] });
          return r !== undefined && r !== 'clear';
        },
        relationMasked: (relation) => touches(rules, active, [relation]),
      };
    },
  };
}

function unknownOf(lineage: StatementLineage): string[] {
  const out: string[] = [];
  for (const c of lineage.columns) for (const u of c.unknown ?? []) out.push(u);
  return out;
}

function touches(rules: RuleSet, active: readonly CompiledProfile[], relations: readonly string[]): boolean {
  return relations.some((rel) => rules.rules.some((r) => r.coversRelation(rel)) || active.some((p) => p.rules.some((r) => r.coversRelation(rel))));
}

const DISABLED: MaskingEngine = {
  enabled: false,
  planMasking: () => null,
  maskText: (v) => v,
  maskErrorMessage: () => null,
  errorContext: () => ({}),
};

export type { BuiltinDetectorName };
