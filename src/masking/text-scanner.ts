import type { Detector } from './detectors/detector.js';
import { findAll } from './detectors/registry.js';
import type { StrategyApplier, MaskSpec } from './strategy.js';

/**
 * Detectors over one string, with each hit replaced by its detector's presentation. Cheap
 * when nothing can match: a value with no digit, `@`, `:` or letter-digit mix is skipped by
 * the detectors' own first checks, and an unchanged value allocates nothing.
 */
export class TextScanner {
  readonly detectors: readonly Detector[];
  readonly #specs: ReadonlyMap<string, MaskSpec>;
  readonly #apply: StrategyApplier;

  constructor(detectors: readonly Detector[], specs: ReadonlyMap<string, MaskSpec>, apply: StrategyApplier) {
    this.detectors = detectors;
    this.#specs = specs;
    this.#apply = apply;
  }

  get active(): boolean {
    return this.detectors.length > 0;
  }

  /** The text with every hit masked; undefined when nothing matched; null when a hit's strategy is `null`. */
  scan(text: string): string | null | undefined {
    if (this.detectors.length === 0 || text.length < 6) return undefined;
    const hits = findAll(text, this.detectors);
    if (hits.length === 0) return undefined;
    let out = '';
    let at = 0;
    for (const h of hits) {
      const spec = this.#specs.get(h.detector) ?? DEFAULT;
      const masked = this.#apply.apply(spec, text.slice(h.start, h.end), h.detector);
      if (masked === null) return null;
      out += text.slice(at, h.start) + masked;
      at = h.end;
    }
    return out + text.slice(at);
  }

  /** Whether anything in `text` would be masked (for tests and explain). */
  hits(text: string): boolean {
    return findAll(text, this.detectors).length > 0;
  }
}

const DEFAULT: MaskSpec = { strategy: 'redact' };
