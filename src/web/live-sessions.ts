import type { DecisionListener, PipelineSession } from '../pipeline/pipeline.js';
import type { Verdict } from '../pipeline/decision.js';

export interface LiveSession {
  readonly id: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly connection: string;
  readonly frontend: string;
  readonly address: string;
  readonly applicationName: string | null;
  readonly startedAt: string;
  readonly statements: number;
  readonly lastStatementAt: string | null;
  /** Whether the frontend can end this session on request. */
  readonly endable: boolean;
}

interface Entry {
  readonly session: PipelineSession;
  statements: number;
  last: number | null;
}

/**
 * Who is connected now: a pipeline listener that keeps the open sessions. The pipeline calls
 * it synchronously on every decision, so it only counts.
 */
export class LiveSessions implements DecisionListener {
  readonly #open = new Map<string, Entry>();

  onSessionStart(session: PipelineSession): void {
    this.#open.set(session.id, { session, statements: 0, last: null });
  }

  onDecision(session: PipelineSession, _sql: string, _verdict: Verdict): void {
    const e = this.#open.get(session.id);
    if (!e) return;
    e.statements++;
    e.last = Date.now();
  }

  onSessionEnd(session: PipelineSession): void {
    this.#open.delete(session.id);
  }

  list(): LiveSession[] {
    return [...this.#open.values()].map(({ session: s, statements, last }) => ({
      id: s.id,
      subject: s.principal.subject,
      groups: s.principal.groups,
      connection: s.connection,
      frontend: s.client.frontend,
      address: s.client.address,
      applicationName: s.client.applicationName ?? null,
      startedAt: new Date(s.startedAt).toISOString(),
      statements,
      lastStatementAt: last === null ? null : new Date(last).toISOString(),
      endable: s.terminate !== undefined,
    }));
  }

  /** Ends a session through its frontend; false when it is gone or its frontend cannot. */
  end(id: string, reason: string): boolean {
    const e = this.#open.get(id);
    if (!e?.session.terminate) return false;
    e.session.terminate(reason);
    return true;
  }
}
