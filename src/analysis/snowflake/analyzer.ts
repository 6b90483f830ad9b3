import type { Analyzer, AnalyzerStats, PreparedStatementSession } from '../analyzer.js';
import { aggregate } from '../aggregate.js';
import type { Analysis, StatementFacts } from '../facts.js';
import { LruCache } from '../lru-cache.js';
import { analyzeSnowflakeText, type SnowflakeAnalyzedText } from './analyze-text.js';
import { loadSnowflakeParser } from './parser.js';

export interface SnowflakeAnalyzerOptions {
  /** Distinct statement texts remembered (default 10 000). */
  readonly exactCacheSize?: number;
  /** Longer texts are analyzed every time rather than pinned in memory (default 16 KiB). */
  readonly maxCachedLength?: number;
  /** Longer texts are not analyzed at all: they are `unknown` (default 1 MiB). */
  readonly maxLength?: number;
}

/** A session past this many distinct USE schemas makes statements with unqualified names `unknown`. */
const MAX_SESSION_SCHEMAS = 64;

/**
 * The analyze stage for Snowflake: the same contract and facts as the PostgreSQL analyzer
 * (`createAnalyzer`), from sqlparser-rs's Snowflake dialect plus our own tokenizer for the
 * commands that parser does not know (PUT, GET, CREATE … INTEGRATION, Snowflake Scripting
 * blocks …). One cache level, exact text: Snowflake literals (`IDENTIFIER('t')`, `$$…$$`
 * bodies, session parameters) change facts too often for a literal-normalized key to pay.
 * Never throws; whatever it cannot analyze is kind `unknown`.
 *
 * @example
 *   const analyzer = await createSnowflakeAnalyzer();
 *   analyzer.analyze('SELECT * FROM db.public.customers').reads; // ['public.customers']
 *   analyzer.analyze("COPY INTO @out FROM customers").risks;     // ['export']
 */
export async function createSnowflakeAnalyzer(options: SnowflakeAnalyzerOptions = {}): Promise<Analyzer> {
  await loadSnowflakeParser();
  const exact = new LruCache<SnowflakeAnalyzedText>(options.exactCacheSize ?? 10_000);
  const maxCached = options.maxCachedLength ?? 16_384;
  const maxLength = options.maxLength ?? 1_048_576;
  let exactHits = 0;
  let misses = 0;

  const lookup = (sql: string): SnowflakeAnalyzedText => {
    const hit = exact.get(sql);
    if (hit !== undefined) {
      exactHits++;
      return hit;
    }
    misses++;
    const result = analyzeSnowflakeText(sql, maxLength);
    if (sql.length <= maxCached) exact.set(sql, result);
    return result;
  };

  return {
    openSession: () => new SnowflakeSession(lookup),
    analyze: (sql) => new SnowflakeSession(lookup).analyze(sql),
    stats: (): AnalyzerStats => ({ exactHits, normalizedHits: 0, misses }),
  };
}

/**
 * Per-session state: the schemas USE DATABASE / USE SCHEMA may have switched to. Whether a USE
 * took effect is not known here (its message may have been refused, or it may have failed), so
 * from then on an unqualified name is reported as itself (the connection's default schema) and
 * qualified with every schema the session named: deny rules see each object it may mean, allow
 * rules must cover them all. Snowflake has no SQL-level PREPARE, so `remember`/`forget` have
 * nothing to keep.
 */
class SnowflakeSession implements PreparedStatementSession {
  readonly #lookup: (sql: string) => SnowflakeAnalyzedText;
  readonly #schemas = new Set<string>();
  #overflowed = false;

  constructor(lookup: (sql: string) => SnowflakeAnalyzedText) {
    this.#lookup = lookup;
  }

  analyze(sql: string): Analysis {
    const r = this.#lookup(sql);
    if (this.#schemas.size === 0 && r.schemas === undefined) return r.analysis;
    const statements = r.analysis.statements.map((s, i) => {
      const q = this.#qualify(s);
      const next = r.schemas?.[i];
      if (next !== undefined && this.#schemas.size < MAX_SESSION_SCHEMAS) this.#schemas.add(next);
      else if (next !== undefined && !this.#schemas.has(next)) this.#overflowed = true;
      return q;
    });
    return aggregate(statements);
  }

  remember(): void {}

  forget(): void {}

  #qualify(s: StatementFacts): StatementFacts {
    const bare = (n: string) => !n.includes('.') && !n.startsWith('@');
    if (this.#schemas.size === 0 || (!s.reads.some(bare) && !s.writes.some(bare))) return s;
    if (this.#overflowed) {
      return { ...s, kind: 'unknown', error: `this session switched to more than ${MAX_SESSION_SCHEMAS} schemas; qualify table names` };
    }
    const widen = (names: readonly string[]) => [...new Set(names.flatMap((n) => (bare(n) ? [n, ...[...this.#schemas].map((sch) => `${sch}.${n}`)] : [n])))];
    return { ...s, reads: widen(s.reads), writes: widen(s.writes) };
  }
}
