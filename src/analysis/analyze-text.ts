import { parseSync } from 'libpg-query';
import { aggregate } from './aggregate.js';
import { FactCollector, type SessionOp } from './collector.js';
import type { Analysis, StatementFacts } from './facts.js';
import { isObj, type Obj } from './node.js';
import { STATEMENT_NODES, nodeTag } from './statement-table.js';
import { SourceText, TreeWalker, errorMessage } from './walk.js';

/** One analyzed message as the cache stores it. */
export interface AnalyzedText {
  readonly analysis: Analysis;
  /** PREPARE/EXECUTE/DEALLOCATE effects a session must apply; absent when there are none. */
  readonly ops: readonly SessionOp[] | undefined;
  /** False only when no literal's value can change the facts (so a literal-normalized key is safe). */
  readonly literalSensitive: boolean;
}

const EMPTY: AnalyzedText = { analysis: aggregate([]), ops: undefined, literalSensitive: false };

export function unknownFacts(error: string, unparseable: boolean): StatementFacts {
  return { kind: 'unknown', tag: 'UNKNOWN', reads: [], writes: [], functions: [], risks: unparseable ? ['unparseable'] : [], error };
}

/** Parses and walks `sql` with no cache and no session. Never throws. */
export function analyzeText(sql: string): AnalyzedText {
  if (sql.length === 0) return EMPTY;
  let parsed: { stmts?: unknown[] };
  try {
    parsed = parseSync(sql) as { stmts?: unknown[] };
  } catch (e) {
    return unknownText(`the statement could not be parsed: ${errorMessage(e)}`, true);
  }
  try {
    const src = new SourceText(sql);
    const stmts = parsed.stmts ?? [];
    const facts: StatementFacts[] = [];
    const ops: SessionOp[] = [];
    let literalSensitive = false;
    for (let i = 0; i < stmts.length; i++) {
      const raw = stmts[i];
      const node = isObj(raw) ? raw['stmt'] : undefined;
      const type = isObj(node) ? (Object.keys(node)[0] ?? '') : '';
      const body = isObj(node) ? node[type] : undefined;
      const info = STATEMENT_NODES[type];
      if (!isObj(raw) || info === undefined || !isObj(body)) {
        facts.push(unknownFacts(`${type || 'this'} is not a statement the analyzer recognizes`, false));
        literalSensitive = true;
        continue;
      }
      const loc = typeof raw['stmt_location'] === 'number' ? raw['stmt_location'] : 0;
      const len = typeof raw['stmt_len'] === 'number' ? raw['stmt_len'] : 0;
      const c = new FactCollector(i, ops);
      new TreeWalker(c, () => src.slice(loc, len), 0).statement(type, body);
      facts.push(c.facts(tagFor(type, body)));
      if (c.literalSensitive) literalSensitive = true;
    }
    return { analysis: aggregate(facts), ops: ops.length > 0 ? ops : undefined, literalSensitive };
  } catch (e) {
    return unknownText(`the analyzer failed on this statement: ${errorMessage(e)}`, false);
  }
}

function tagFor(type: string, body: Obj): string {
  return nodeTag(STATEMENT_NODES[type]!, body);
}

function unknownText(error: string, unparseable: boolean): AnalyzedText {
  return { analysis: aggregate([unknownFacts(error, unparseable)]), ops: undefined, literalSensitive: true };
}
