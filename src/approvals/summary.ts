import type { Analysis } from '../analysis/facts.js';
import type { ReviewInput } from '../pipeline/stages.js';
import type { ReviewSummary } from './request.js';

/** The reviewer's view of a held statement, without the estimate (that comes later, upstream). */
export function reviewSummary(input: ReviewInput): ReviewSummary {
  const s = input.session;
  const a: Analysis = input.analysis;
  return {
    who: { subject: s.principal.subject, groups: s.principal.groups, client: s.client.address, frontend: s.client.frontend, applicationName: s.client.applicationName ?? null },
    connection: s.connection,
    session: s.id,
    sql: input.sql,
    params: input.params ? [...input.params] : null,
    facts: { kind: a.kind, tags: a.statements.map((x) => x.tag), tables: [...new Set([...a.writes, ...a.reads])], risks: a.risks },
    rule: input.decision.rule,
    reason: input.decision.reason,
    estimatedRows: null,
  };
}

/** One paragraph for a chat message or a terminal. */
export function summaryText(id: string, s: ReviewSummary, link: string): string {
  const est = s.estimatedRows === null ? '' : `, about ${s.estimatedRows} row(s) affected`;
  const risks = s.facts.risks.length > 0 ? `, flagged ${s.facts.risks.join(', ')}` : '';
  return `Approval requested (${id}) by ${s.who.subject} [${s.who.groups.join(', ')}] on "${s.connection}" under rule "${s.rule}": ${s.facts.kind} ${s.facts.tags.join('; ')} on ${s.facts.tables.join(', ') || '(no tables)'}${risks}${est}.\n${s.sql}\n${link}`;
}
