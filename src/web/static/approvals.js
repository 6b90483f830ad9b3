import { call, can } from './api.js';
import { announce, badge, errorBox, h, table, when } from './dom.js';
import { formatSql } from './sql-format.js';

/** The live queue: pending requests as cards, everything else as history. */
export function render(main) {
  const status = h('p', { class: 'muted', id: 'feed-status' }, 'Connecting…');
  const queue = h('section', { 'aria-labelledby': 'queue-title' }, h('h2', { id: 'queue-title' }, 'Waiting for a decision'));
  const list = h('div', { class: 'cards', id: 'queue' });
  const history = h('section', { 'aria-labelledby': 'history-title' }, h('h2', { id: 'history-title' }, 'History'));
  const historyBody = h('div');
  queue.append(list);
  history.append(historyBody);
  main.append(h('h1', {}, 'Approvals'), status, queue, history);

  let known = null;
  const source = new EventSource('/console/api/approvals/stream');
  source.addEventListener('open', () => (status.textContent = 'Live: new requests appear here without reloading.'));
  source.addEventListener('error', () => (status.textContent = 'Connection lost; reconnecting…'));
  source.addEventListener('approvals', (ev) => {
    const items = JSON.parse(ev.data);
    const pending = items.filter((r) => r.status === 'pending');
    if (known) {
      const fresh = pending.filter((r) => !known.has(r.id));
      if (fresh.length) announce(`${fresh.length} new approval request${fresh.length > 1 ? 's' : ''} from ${fresh.map((r) => r.requester.subject).join(', ')}`);
    }
    known = new Set(pending.map((r) => r.id));
    renderQueue(list, pending);
    historyBody.replaceChildren(historyTable(items.filter((r) => r.status !== 'pending')));
  });
  return () => source.close();
}

/** Cards are rebuilt on each change; a comment being typed and the focus survive it. */
function renderQueue(list, pending) {
  const drafts = new Map([...list.querySelectorAll('textarea')].map((t) => [t.id, t.value]));
  const focused = document.activeElement?.id;
  list.replaceChildren(...(pending.length ? pending.map(card) : [h('p', { class: 'empty' }, 'No requests are waiting.')]));
  for (const [id, v] of drafts) {
    const t = document.getElementById(id);
    if (t) t.value = v;
  }
  if (focused) document.getElementById(focused)?.focus();
}

function card(r) {
  const commentId = `comment-${r.id}`;
  const result = h('div', { class: 'vote-result', 'aria-live': 'polite' });
  const yes = r.votes.filter((v) => v.vote === 'approve').length;
  const vote = async (how, btn) => {
    btn.disabled = true;
    result.replaceChildren();
    try {
      const done = await call(`approvals/${r.id}/${how}`, { method: 'POST', body: { comment: document.getElementById(commentId).value } });
      result.append(h('p', { class: 'ok' }, `${how === 'approve' ? 'Approved' : 'Denied'}: the request is now ${done.status}.`));
    } catch (e) {
      result.append(errorBox(e));
      btn.disabled = false;
    }
  };
  const f = r.facts;
  return h('article', { class: 'card request', 'aria-labelledby': `title-${r.id}`, 'data-request': r.id },
    h('h3', { id: `title-${r.id}` }, `${r.requester.subject} on ${r.connection}`, ' ', badge(f.kind)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Requester'), h('dd', {}, `${r.requester.subject} [${r.requester.groups.join(', ')}] via ${r.requester.frontend} from ${r.requester.client}${r.requester.application_name ? ` (${r.requester.application_name})` : ''}`),
      h('dt', {}, 'Rule'), h('dd', {}, r.rule, h('br'), h('span', { class: 'muted' }, r.reason)),
      h('dt', {}, 'Statement'), h('dd', {}, f.tags.join('; '), ' on ', f.tables.join(', ') || 'no tables'),
      f.risks.length ? [h('dt', {}, 'Risks'), h('dd', { class: 'risk' }, f.risks.join(', '))] : null,
      h('dt', {}, 'Estimate'), h('dd', {}, r.estimated_rows === null ? 'not available' : `about ${r.estimated_rows} row${r.estimated_rows === 1 ? '' : 's'}`),
      h('dt', {}, 'Votes'), h('dd', {}, `${yes} of ${r.approvals_needed} approval${r.approvals_needed === 1 ? '' : 's'}`, r.votes.length ? ` — ${r.votes.map((v) => `${v.voter}: ${v.vote}`).join(', ')}` : ''),
      h('dt', {}, 'Waiting'), h('dd', {}, `since ${when(r.created_at)}, expires ${when(r.expires_at)} (${r.mode} mode)`),
    ),
    h('pre', { class: 'sql', 'aria-label': 'SQL' }, formatSql(r.sql)),
    r.params ? h('p', {}, 'Parameters: ', h('code', {}, r.params.map((p) => (p === null ? 'NULL' : JSON.stringify(p))).join(', '))) : null,
    can('reviewer')
      ? h('div', { class: 'vote' },
          h('label', { for: commentId }, 'Comment (shown to the requester)'),
          h('textarea', { id: commentId, rows: 2, maxlength: 2000 }),
          h('div', { class: 'buttons' },
            h('button', { type: 'button', class: 'approve', onclick: (e) => vote('approve', e.currentTarget) }, 'Approve'),
            h('button', { type: 'button', class: 'deny', onclick: (e) => vote('deny', e.currentTarget) }, 'Deny')),
          result)
      : h('p', { class: 'muted' }, 'Read-only: your role cannot decide requests.'),
  );
}

function historyTable(items) {
  return table(null, ['Requested', 'Requester', 'Connection', 'SQL', 'Status', 'Decided by'], items.map((r) => [
    when(r.created_at),
    r.requester.subject,
    r.connection,
    h('code', { class: 'clip', title: r.sql }, r.sql),
    h('span', { class: `status ${r.status}` }, r.status),
    r.votes.map((v) => `${v.voter} (${v.vote}${v.comment ? `: ${v.comment}` : ''})`).join('; ') || '—',
  ]), { empty: 'No decided requests yet.' });
}
