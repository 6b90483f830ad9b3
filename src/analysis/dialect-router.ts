import type { SqlDialect } from '../connectors/connector.js';
import type { AnalysisSession, AnalyzeStage } from '../pipeline/stages.js';

/**
 * The analyze stage for a gateway whose connections speak different SQL dialects: each
 * session gets the analyzer of its connection's dialect. A connection whose dialect has no
 * analyzer here cannot be analyzed, so it is refused rather than read with the wrong grammar.
 */
export function routeByDialect(analyzers: Partial<Record<SqlDialect, AnalyzeStage>> & { postgres: AnalyzeStage }, dialectOf: (connection: string) => SqlDialect | undefined): AnalyzeStage {
  return {
    openSession(connection?: string): AnalysisSession {
      const dialect = connection === undefined ? 'postgres' : (dialectOf(connection) ?? 'postgres');
      const a = analyzers[dialect];
      if (a === undefined) throw new Error(`no analyzer for the ${dialect} dialect`);
      return a.openSession(connection);
    },
  };
}
