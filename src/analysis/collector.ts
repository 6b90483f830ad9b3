import { worstKind, type RiskFlag, type StatementFacts, type StatementKind } from './facts.js';

/** What SQL-level PREPARE/EXECUTE/DEALLOCATE do to a session's prepared names, in order. */
export type SessionOp =
  | { readonly op: 'prepare'; readonly index: number; readonly name: string; readonly facts: StatementFacts }
  | { readonly op: 'execute'; readonly index: number; readonly name: string; readonly explainAnalyze: boolean }
  | { readonly op: 'deallocate'; readonly index: number; readonly name: string | null };

/** Mutable facts gathered while walking one top-level statement (and what it nests). */
export class FactCollector {
  kind: StatementKind = 'read';
  readonly reads = new Set<string>();
  readonly writes = new Set<string>();
  readonly functions = new Set<string>();
  readonly risks = new Set<RiskFlag>();
  /** Set when a literal's value could change the facts; such statements are exact-text cached. */
  literalSensitive = false;
  error: string | undefined;

  constructor(
    readonly index: number,
    /** Shared with child collectors so an EXECUTE nested under EXPLAIN still reaches the session. */
    readonly ops: SessionOp[] = [],
  ) {}

  /** A collector for a part whose facts are adjusted before they are folded in (EXPLAIN, PREPARE). */
  child(): FactCollector {
    return new FactCollector(this.index, this.ops);
  }

  escalate(kind: StatementKind): void {
    this.kind = worstKind(this.kind, kind);
  }

  fail(reason: string): void {
    this.kind = 'unknown';
    this.literalSensitive = true;
    if (this.error === undefined) this.error = reason;
  }

  absorb(other: FactCollector): void {
    this.escalate(other.kind);
    for (const r of other.reads) this.reads.add(r);
    for (const w of other.writes) this.writes.add(w);
    for (const fn of other.functions) this.functions.add(fn);
    for (const r of other.risks) this.risks.add(r);
    if (other.literalSensitive) this.literalSensitive = true;
    if (other.error !== undefined && this.error === undefined) this.error = other.error;
  }

  facts(tag: string): StatementFacts {
    const f: StatementFacts = {
      kind: this.kind,
      tag,
      reads: [...this.reads],
      writes: [...this.writes],
      functions: [...this.functions],
      risks: [...this.risks],
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
    return f;
  }
}
