import type { StatementLineage } from './lineage.js';
import type { CompiledProfile, RuleSet } from './rules.js';
import { resolveColumn } from './rules.js';
import { ANYWHERE } from './lineage-scope.js';
import type { MaskSpec } from './strategy.js';
import { DataRowMasker } from './data-row.js';
import { maskCopyBinary, maskCopyLines, type CopyFormat } from './copy-data.js';
import { detectBytesMasker, detectStringMasker, ruleBytesMasker, ruleStringMasker, type BytesMasker, type MaskerContext, type StringMasker } from './value-masker.js';

/** One column of a result as the frontend describes it. */
export interface ResultColumn {
  readonly name: string;
  /** PostgreSQL type OID; 0 or absent when unknown (COPY, other frontends). */
  readonly typeOid?: number | undefined;
  /** 0 text, 1 binary. */
  readonly format?: number | undefined;
  /** `schema.table.column` resolved from RowDescription's table OID and attribute number. */
  readonly source?: string | undefined;
  /**
   * True when `source` is a column of a table (not a view): PostgreSQL reports an OID only for
   * a plain column reference, so the value is that column's, exactly.
   */
  readonly sourceIsTable?: boolean | undefined;
  /** Tags the catalog attaches to the source column, matched by `tag:` rules. */
  readonly tags?: readonly string[] | undefined;
}

export interface PlanInput {
  readonly columns: readonly ResultColumn[];
  /**
   * The statement's lineage (`sqlLineage`/`statementLineage`). Without it, a column with no
   * table source has unknown lineage.
   */
  readonly lineage?: StatementLineage | undefined;
  /** Masking profiles the policy decision named (`mask: [agents]`). */
  readonly profiles?: readonly string[] | undefined;
  /** The principal's groups, for per-group rule overrides. */
  readonly groups?: readonly string[] | undefined;
}

export interface PlannedColumn {
  readonly name: string;
  /** Set when a rule (or unknown lineage) masks the whole column. */
  readonly masked?: { readonly strategy: MaskSpec['strategy']; readonly because: readonly string[] } | undefined;
  /** Whether content detectors scan this column's values. */
  readonly detect: boolean;
}

/**
 * How one result is masked: built once per RowDescription (or CopyOutResponse, or JSON
 * result), then applied to every row. Not safe to share between connections that mask rows
 * concurrently (it reuses scratch space); build one per result.
 */
export class MaskPlan {
  readonly columns: readonly PlannedColumn[];
  /** True when the statement read a relation with masked columns: error texts get the stricter treatment. */
  readonly touchesSensitive: boolean;
  readonly #bytes: readonly (BytesMasker | undefined)[];
  readonly #strings: readonly (StringMasker | undefined)[];
  readonly #row: DataRowMasker;

  constructor(columns: PlannedColumn[], bytes: (BytesMasker | undefined)[], strings: (StringMasker | undefined)[], touchesSensitive: boolean) {
    this.columns = columns;
    this.#bytes = bytes;
    this.#strings = strings;
    this.#row = new DataRowMasker(bytes);
    this.touchesSensitive = touchesSensitive;
  }

  /**
   * Masks one DataRow frame `buf[start, end)` (type byte included). Returns null when no value
   * changed — relay the original bytes — else the masked frame: a view of `buf` rewritten in
   * place when every replacement kept its length (`isInPlace` tells), otherwise a new Buffer.
   *
   * @example
   *   const out = plan.maskDataRow(chunk, start, end);
   *   if (out === null || isInPlace(out, chunk, start)) return KEEP;
   *   scanner.flushRun(); client.write(out); return TAKEN;
   */
  maskDataRow(buf: Buffer, start: number, end: number): Buffer | null {
    return this.#row.mask(buf, start, end);
  }

  /** Masks one value given as text (MCP/HTTP JSON results, Snowflake rows). */
  maskValue(index: number, value: string | null): string | null {
    if (value === null) return null;
    const m = this.#strings[index];
    if (m === undefined) return value;
    const r = m(value);
    return r === undefined ? value : r;
  }

  /** Masks one CopyData frame of COPY … TO STDOUT; null when unchanged. */
  maskCopyData(buf: Buffer, start: number, end: number, format: CopyFormat): Buffer | null {
    if (format.format === 'binary') return maskCopyBinary(buf, start, end, this.#bytes);
    return maskCopyLines(buf, start, end, format, this.#strings);
  }
}

export interface PlanContext {
  readonly rules: RuleSet;
  readonly masker: MaskerContext;
}

/**
 * Decides, per result column, whether a rule masks it (by its table source and its lineage) or
 * detectors scan it. Returns null when nothing in the result needs masking and no detector is
 * on, so the relay can stay zero-copy.
 */
export function buildPlan(ctx: PlanContext, profiles: readonly CompiledProfile[], input: PlanInput): MaskPlan | null {
  const groups = input.groups ?? [];
  const lin = input.lineage;
  const aligned = lin !== undefined && lin.exact && lin.columns.length === input.columns.length;
  // Columns we cannot line up with the lineage each get the union of all of it.
  let all: { sources: string[]; unknown: string[] } | undefined;
  if (lin !== undefined && !aligned) {
    const s = new Set<string>();
    const u = new Set<string>(lin.exact ? [] : [ANYWHERE]);
    for (const c of lin.columns) {
      for (const x of c.sources) s.add(x);
      for (const x of c.unknown ?? []) u.add(x);
    }
    all = { sources: [...s], unknown: [...u] };
  }
  const planned: PlannedColumn[] = [];
  const bytes: (BytesMasker | undefined)[] = [];
  const strings: (StringMasker | undefined)[] = [];
  let any = false;
  input.columns.forEach((col, i) => {
    const sources = new Set<string>();
    let unknown: string[];
    if (aligned) {
      const c = lin.columns[i]!;
      for (const x of c.sources) sources.add(x);
      unknown = [...(c.unknown ?? [])];
    } else if (all !== undefined) {
      for (const x of all.sources) sources.add(x);
      unknown = all.unknown;
    } else unknown = col.source !== undefined ? [] : [ANYWHERE];
    if (col.source !== undefined) sources.add(col.source);
    if (col.sourceIsTable === true && col.source !== undefined) unknown = [];
    const r = resolveColumn(ctx.rules, profiles, groups, { sources: [...sources], unknown, tags: col.tags ?? [] });
    const type = { typeOid: col.typeOid ?? 0, format: col.format ?? 0 };
    if (r === 'clear') {
      planned.push({ name: col.name, detect: false });
      bytes.push(undefined);
      strings.push(undefined);
      return;
    }
    if (r !== undefined) {
      any = true;
      planned.push({ name: col.name, masked: { strategy: r.spec.strategy, because: r.because }, detect: false });
      bytes.push(ruleBytesMasker(ctx.masker, type, r.spec));
      strings.push(ruleStringMasker(ctx.masker, { typeOid: type.typeOid, format: 0 }, r.spec));
      return;
    }
    const b = detectBytesMasker(ctx.masker, type);
    const s = detectStringMasker(ctx.masker, { typeOid: type.typeOid, format: 0 });
    if (b !== undefined || s !== undefined) any = true;
    planned.push({ name: col.name, detect: b !== undefined });
    bytes.push(b);
    strings.push(s);
  });
  if (!any) return null;
  const touches = lin !== undefined && lin.relations.some((rel) => ctx.rules.rules.some((rule) => rule.coversRelation(rel)) || profiles.some((p) => p.rules.some((rule) => rule.coversRelation(rel))));
  return new MaskPlan(planned, bytes, strings, touches || planned.some((p) => p.masked !== undefined));
}
