import { z } from 'zod';
import { secretField } from '../config/secret-field.js';
import { BUILTIN_DETECTORS } from './detectors/registry.js';

/**
 * `masking:` — what is sensitive (column rules, tags, content detectors) and how each
 * principal sees it (strategies, profiles). See docs/masking.md.
 */

export const STRATEGIES = ['redact', 'partial', 'hash', 'null', 'fake', 'clear'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

const keep = z.number().int().min(0).max(64);

/** How a value is shown: the strategy and its parameters. */
const strategySpec = {
  strategy: z.enum(STRATEGIES).optional(),
  keep_last: keep.optional().describe('partial: characters to keep at the end'),
  keep_first: keep.optional().describe('partial: characters to keep at the start'),
  replacement: z.string().max(64).optional().describe('redact: the text shown instead of the value; "****" by default'),
};

const groupOverride = z.object(strategySpec).strict();

const lineageUnknown = z.enum(['mask', 'allow']);

const columnRuleSchema = z
  .object({
    match: z
      .string()
      .min(1)
      .describe('"schema.table.column" glob (`*` any run, `?` one character), or "tag:NAME"'),
    ...strategySpec,
    groups: z.record(z.string().min(1), groupOverride).optional().describe('per-group presentation; first group listed that the principal has wins'),
    lineage_unknown: lineageUnknown.optional().describe('overrides masking.lineage_unknown for columns of tables this rule covers'),
  })
  .strict();

const builtinName = z.enum(BUILTIN_DETECTORS);

const builtinDetectorSchema = z
  .object({
    name: builtinName,
    ...strategySpec,
    min_length: z.number().int().min(8).max(512).optional().describe('api_token: shortest unprefixed token considered'),
    min_entropy: z.number().min(1).max(8).optional().describe('api_token: bits per character a token must reach'),
  })
  .strict();

const customDetectorSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'detector names are lower-case letters, digits and _'),
    pattern: z.string().min(1).describe('JavaScript regular expression; a group named `value` narrows what is replaced'),
    flags: z.string().regex(/^[imsuv]*$/, 'flags may be i, m, s, u, v').optional(),
    ...strategySpec,
  })
  .strict()
  .superRefine((d, ctx) => {
    if ((BUILTIN_DETECTORS as readonly string[]).includes(d.name)) ctx.addIssue({ code: 'custom', message: `"${d.name}" is a built-in detector; give the custom detector another name` });
    try {
      new RegExp(d.pattern, d.flags ?? '');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `pattern does not compile: ${(e as Error).message}` });
    }
  });

const detectorEntry = z.union([builtinName, builtinDetectorSchema, customDetectorSchema]);

const profileSchema = z
  .object({
    default_strategy: z.enum(STRATEGIES).optional().describe('replaces the strategy of every column rule for sessions under this profile'),
    keep_last: keep.optional(),
    keep_first: keep.optional(),
    columns: z.array(columnRuleSchema).optional().describe('overrides for this profile; may also mark more columns sensitive'),
    detectors: z.record(z.string().min(1), z.boolean()).optional().describe('turn detectors on or off for this profile'),
    lineage_unknown: lineageUnknown.optional(),
  })
  .strict();

export const maskingSchema = z
  .object({
    enabled: z.boolean().default(true),
    hash_key: secretField().optional().describe('HMAC-SHA256 key for `hash` and `fake`; required when either is used'),
    default_strategy: z.enum(STRATEGIES).default('redact').describe('for column rules without a strategy and for columns masked because lineage is unknown'),
    lineage_unknown: lineageUnknown.default('mask'),
    binary: z
      .object({
        non_text: z.enum(['null', 'zero']).default('null').describe('masked binary values of types other than text, varchar, bpchar, name, json, jsonb'),
      })
      .strict()
      .default({ non_text: 'null' }),
    tags: z.record(z.string().min(1), z.array(z.string().min(1))).default({}).describe('tag name → "schema.table.column" globs'),
    detectors: z.array(detectorEntry).default([]),
    columns: z.array(columnRuleSchema).default([]),
    profiles: z.record(z.string().min(1), profileSchema).default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    const detectorNames = new Set<string>();
    for (const d of m.detectors) {
      const name = typeof d === 'string' ? d : d.name;
      if (detectorNames.has(name)) ctx.addIssue({ code: 'custom', path: ['detectors'], message: `detector "${name}" is listed twice` });
      detectorNames.add(name);
    }
    const usesKey: string[] = [];
    const note = (where: string, s: { strategy?: string | undefined } | undefined) => {
      if (s?.strategy === 'hash' || s?.strategy === 'fake') usesKey.push(where);
    };
    const checkRules = (rules: readonly z.infer<typeof columnRuleSchema>[], where: string) => {
      rules.forEach((r, i) => {
        note(`${where}[${i}]`, r);
        for (const [g, o] of Object.entries(r.groups ?? {})) note(`${where}[${i}].groups.${g}`, o);
        if (r.match.startsWith('tag:') && m.tags[r.match.slice(4)] === undefined) {
          ctx.addIssue({ code: 'custom', path: [...where.split('.'), i, 'match'], message: `tag "${r.match.slice(4)}" is not defined under masking.tags` });
        } else if (!r.match.startsWith('tag:') && r.match.split('.').length !== 3) {
          ctx.addIssue({ code: 'custom', path: [...where.split('.'), i, 'match'], message: 'match is "schema.table.column" (globs allowed) or "tag:NAME"' });
        }
      });
    };
    checkRules(m.columns, 'columns');
    note('default_strategy', { strategy: m.default_strategy });
    m.detectors.forEach((d, i) => typeof d !== 'string' && note(`detectors[${i}]`, d));
    for (const [name, p] of Object.entries(m.profiles)) {
      note(`profiles.${name}.default_strategy`, { strategy: p.default_strategy });
      checkRules(p.columns ?? [], `profiles.${name}.columns`);
      for (const d of Object.keys(p.detectors ?? {})) {
        if (!(BUILTIN_DETECTORS as readonly string[]).includes(d) && !detectorNames.has(d)) {
          ctx.addIssue({ code: 'custom', path: ['profiles', name, 'detectors', d], message: `unknown detector "${d}"` });
        }
      }
    }
    if (usesKey.length > 0 && m.hash_key === undefined) {
      ctx.addIssue({ code: 'custom', path: ['hash_key'], message: `hash_key is required: ${usesKey[0]} uses hash or fake, whose tokens are keyed` });
    }
  });

export type MaskingConfig = z.infer<typeof maskingSchema>;
export type ColumnRuleConfig = z.infer<typeof columnRuleSchema>;
export type ProfileConfig = z.infer<typeof profileSchema>;
