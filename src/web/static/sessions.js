import { call } from './api.js';
import { errorBox, h, table, when } from './dom.js';

/** Searchable list of recorded sessions; the filters live in the URL's query for sharing. */
export async function render(main) {
  const field = (id, label, attrs = {}) => [h('label', { for: id }, label), h('input', { id, name: id, ...attrs })];
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter sessions' },
    h('div', {}, field('user', 'User (subject)', { placeholder: 'e.g. key:agent' })),
    h('div', {}, field('connection', 'Connection')),
    h('div', {}, field('since', 'From', { type: 'datetime-local' })),
    h('div', {}, field('until', 'To', { type: 'datetime-local' })),
    h('div', {}, h('label', { for: 'decision' }, 'Had a statement'),
      h('select', { id: 'decision', name: 'decision' }, h('option', { value: '' }, 'any decision'), h('option', { value: 'allow' }, 'allowed'), h('option', { value: 'deny' }, 'denied'), h('option', { value: 'review' }, 'held for review'))),
    h('div', { class: 'check' }, h('input', { id: 'refused', name: 'refused', type: 'checkbox' }), h('label', { for: 'refused' }, 'Only sessions with refusals')),
    h('div', {}, h('button', { type: 'submit' }, 'Search')));
  const results = h('div', { id: 'session-results' });
  main.append(h('h1', {}, 'Sessions'), form, results);

  let cursor = null;
  const params = () => {
    const q = new URLSearchParams();
    for (const k of ['user', 'connection', 'decision']) if (form[k].value) q.set(k, form[k].value);
    for (const k of ['since', 'until']) if (form[k].value) q.set(k, new Date(form[k].value).toISOString());
    if (form.refused.checked) q.set('refused', '1');
    return q;
  };
  const load = async (more) => {
    const q = params();
    if (more && cursor) q.set('cursor', cursor);
    try {
      const page = await call(`sessions?${q}`);
      cursor = page.next_cursor;
      const t = table(`${page.sessions.length} session${page.sessions.length === 1 ? '' : 's'}${more ? ' more' : ''}`, ['Started', 'User', 'Connection', 'Client', 'Statements', 'Refused', 'Ended'], page.sessions.map((s) => [
        h('a', { href: `#/sessions/${s.id}` }, when(s.startedAt)),
        `${s.subject}${s.groups.length ? ` [${s.groups.join(', ')}]` : ''}`,
        s.connection,
        `${s.frontend} ${s.address}${s.applicationName ? ` (${s.applicationName})` : ''}`,
        String(s.statements),
        s.refused ? h('span', { class: 'risk' }, String(s.refused)) : '0',
        s.endedAt ? `${when(s.endedAt)} (${s.endReason})` : h('span', { class: 'badge allow' }, 'open'),
      ]), { empty: 'No sessions match.' });
      if (!more) results.replaceChildren();
      results.append(t);
      results.querySelector('.more')?.remove();
      if (cursor) results.append(h('button', { type: 'button', class: 'more quiet', onclick: () => load(true) }, 'Older sessions'));
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    cursor = null;
    void load(false);
  });
  await load(false);
}
