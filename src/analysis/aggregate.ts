import { worstKind, type Analysis, type RiskFlag, type StatementFacts, type StatementKind } from './facts.js';

/** The message-level view policy sees: the worst kind, and the union of everything else. */
export function aggregate(statements: readonly StatementFacts[]): Analysis {
  if (statements.length === 1) {
    const s = statements[0]!;
    return freeze({ statements, kind: s.kind, risks: s.risks, reads: s.reads, writes: s.writes, functions: s.functions });
  }
  let kind: StatementKind = 'read';
  const risks = new Set<RiskFlag>();
  const reads = new Set<string>();
  const writes = new Set<string>();
  const functions = new Set<string>();
  for (const s of statements) {
    kind = worstKind(kind, s.kind);
    for (const r of s.risks) risks.add(r);
    for (const r of s.reads) reads.add(r);
    for (const w of s.writes) writes.add(w);
    for (const f of s.functions) functions.add(f);
  }
  if (statements.length > 1) risks.add('multi-statement');
  return freeze({ statements, kind, risks: [...risks], reads: [...reads], writes: [...writes], functions: [...functions] });
}

/** Analyses are shared through the cache; freezing makes an accidental mutation loud. */
function freeze(a: Analysis): Analysis {
  for (const s of a.statements) {
    Object.freeze(s.reads);
    Object.freeze(s.writes);
    Object.freeze(s.functions);
    Object.freeze(s.risks);
    Object.freeze(s);
  }
  Object.freeze(a.statements);
  Object.freeze(a.risks);
  Object.freeze(a.reads);
  Object.freeze(a.writes);
  Object.freeze(a.functions);
  return Object.freeze(a);
}

/** Facts of a statement that runs another (EXECUTE of a prepared name): the union of both. */
export function mergeFacts(outer: StatementFacts, inner: StatementFacts, extra: readonly RiskFlag[] = []): StatementFacts {
  const union = <T>(a: readonly T[], b: readonly T[]): T[] => [...new Set([...a, ...b])];
  const error = outer.error ?? inner.error;
  return {
    kind: worstKind(outer.kind, inner.kind),
    tag: outer.tag,
    reads: union(outer.reads, inner.reads),
    writes: union(outer.writes, inner.writes),
    functions: union(outer.functions, inner.functions),
    risks: union(union(outer.risks, inner.risks), extra),
    ...(error !== undefined ? { error } : {}),
  };
}
