import { loadModule } from 'libpg-query';
import type { AnalysisSession, AnalyzeStage } from '../pipeline/stages.js';
import { aggregate, mergeFacts } from './aggregate.js';
import { analyzeText, unknownFacts, type AnalyzedText } from './analyze-text.js';
import type { Analysis, StatementFacts } from './facts.js';
import { literalKey } from './literal-key.js';
import { LruCache } from './lru-cache.js';

export interface AnalyzerOptions {
  /** Distinct statement texts remembered (default 10 000). */
  readonly exactCacheSize?: number;
  /** Distinct literal-normalized shapes remembered (default 10 000). */
  readonly normalizedCacheSize?: number;
  /** Longer texts are analyzed every time rather than pinned in memory (default 16 KiB). */
  readonly maxCachedLength?: number;
}

/** Names SQL-level PREPARE and protocol-level Parse share; see PostgreSQL's prepared statements. */
export interface PreparedStatementSession extends AnalysisSession {
  /**
   * Registers a protocol-level named statement (extended-query Parse), so a later SQL
   * `EXECUTE name` gets its facts: both kinds of prepared statement live in one namespace.
   */
  remember(name: string, analysis: Analysis): void;
  /** Forgets one name (Close) or, with null, all of them (DISCARD ALL, DEALLOCATE ALL). */
  forget(name: string | null): void;
}

export interface AnalyzerStats {
  readonly exactHits: number;
  readonly normalizedHits: number;
  readonly misses: number;
}

export interface Analyzer extends AnalyzeStage {
  openSession(): PreparedStatementSession;
  /** Analysis with no session state: an EXECUTE of any name is `unknown`. */
  analyze(sql: string): Analysis;
  stats(): AnalyzerStats;
}

/** Past this many names a session stops remembering; EXECUTE of a forgotten name is denied. */
const MAX_PREPARED_PER_SESSION = 10_000;

/**
 * The analyze stage: libpg-query's parser plus a two-level cache.
 *
 * 1. Exact text → analysis (a repeated statement is one Map lookup).
 * 2. Literal-normalized text → analysis, only for statements the walker marked as not
 *    literal-sensitive (plain SELECT/INSERT/UPDATE/DELETE/MERGE calling no flagged function),
 *    so `… WHERE aid = 12345` and `… WHERE aid = 678` share one entry and `SET role = 'x'`,
 *    `DO '…'` or `set_config('role', …)` never do.
 *
 * @example
 *   const analyzer = await createAnalyzer();
 *   const session = analyzer.openSession();
 *   session.analyze('PREPARE p AS DELETE FROM t');
 *   session.analyze('EXECUTE p').kind; // 'write'
 */
export async function createAnalyzer(options: AnalyzerOptions = {}): Promise<Analyzer> {
  await loadModule();
  const exact = new LruCache<AnalyzedText>(options.exactCacheSize ?? 10_000);
  const normalized = new LruCache<AnalyzedText>(options.normalizedCacheSize ?? 10_000);
  const maxLength = options.maxCachedLength ?? 16_384;
  let exactHits = 0;
  let normalizedHits = 0;
  let misses = 0;

  const lookup = (sql: string): AnalyzedText => {
    const hit = exact.get(sql);
    if (hit !== undefined) {
      exactHits++;
      return hit;
    }
    if (sql.length > maxLength) {
      misses++;
      return analyzeText(sql);
    }
    const key = literalKey(sql);
    if (key !== undefined) {
      const shaped = normalized.get(key);
      if (shaped !== undefined) {
        normalizedHits++;
        return shaped;
      }
    }
    misses++;
    const result = analyzeText(sql);
    exact.set(sql, result);
    if (key !== undefined && !result.literalSensitive && result.ops === undefined) normalized.set(key, result);
    return result;
  };

  return {
    openSession: () => new Session(lookup),
    analyze: (sql) => new Session(lookup).analyze(sql),
    stats: () => ({ exactHits, normalizedHits, misses }),
  };
}

class Session implements PreparedStatementSession {
  readonly #lookup: (sql: string) => AnalyzedText;
  readonly #prepared = new Map<string, StatementFacts>();

  constructor(lookup: (sql: string) => AnalyzedText) {
    this.#lookup = lookup;
  }

  analyze(sql: string): Analysis {
    const r = this.#lookup(sql);
    return r.ops === undefined ? r.analysis : this.#apply(r);
  }

  remember(name: string, analysis: Analysis): void {
    let facts: StatementFacts | undefined;
    for (const s of analysis.statements) facts = facts === undefined ? s : mergeFacts(facts, s);
    this.#prepare(name, facts ?? unknownFacts('an empty statement was prepared', false));
  }

  forget(name: string | null): void {
    if (name === null) this.#prepared.clear();
    else this.#prepared.delete(name);
  }

  /**
   * Replays PREPARE/EXECUTE/DEALLOCATE in statement order. A PREPARE over a name that already
   * exists keeps the union of both: PostgreSQL rejects the second PREPARE, so what runs under
   * that name may still be the first one.
   */
  #apply(r: AnalyzedText): Analysis {
    const statements = [...r.analysis.statements];
    for (const op of r.ops ?? []) {
      if (op.op === 'prepare') this.#prepare(op.name, op.facts);
      else if (op.op === 'deallocate') this.forget(op.name);
      else {
        const current = statements[op.index]!;
        const target = this.#prepared.get(op.name);
        if (target === undefined) {
          statements[op.index] = mergeFacts(current, unknownFacts(`EXECUTE ${op.name}: no statement of that name was prepared in this session`, false));
        } else {
          const extra = op.explainAnalyze && target.kind !== 'read' ? (['explain-analyze-write'] as const) : [];
          statements[op.index] = mergeFacts(current, target, ['prepared-execute', ...extra]);
        }
      }
    }
    return aggregate(statements);
  }

  #prepare(name: string, facts: StatementFacts): void {
    const existing = this.#prepared.get(name);
    if (existing === undefined && this.#prepared.size >= MAX_PREPARED_PER_SESSION) return;
    this.#prepared.set(name, existing === undefined ? facts : mergeFacts(existing, facts));
  }
}
