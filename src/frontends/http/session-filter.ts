import type { SessionFilter } from '../../audit/query.js';
import { PortcullisError } from '../../errors/portcullis-error.js';

const DECISIONS = ['allow', 'deny', 'review'] as const;

/**
 * `?user=&connection=&since=&until=&decision=` as a session filter, for the recordings API and
 * the console's session search. Values are trimmed and cut at 500 characters; an unknown
 * decision is refused. `since`/`until` are checked by the query itself (it throws TypeError).
 */
export function sessionFilterFrom(q: URLSearchParams): SessionFilter {
  const decision = queryText(q, 'decision');
  if (decision !== undefined && !(DECISIONS as readonly string[]).includes(decision)) {
    throw new PortcullisError('ERR_PROTOCOL_VIOLATION', `decision must be one of ${DECISIONS.join(', ')}`);
  }
  return { user: queryText(q, 'user'), connection: queryText(q, 'connection'), since: queryText(q, 'since'), until: queryText(q, 'until'), decision: decision as SessionFilter['decision'] };
}

/** A query parameter, trimmed and bounded; undefined when absent or blank. */
export function queryText(q: URLSearchParams, k: string): string | undefined {
  const v = q.get(k)?.trim();
  return v ? v.slice(0, 500) : undefined;
}
