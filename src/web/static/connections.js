import { call, can } from './api.js';
import { errorBox, h, table, when } from './dom.js';

/** Upstream health and who is connected now; admins can end a session (two clicks, no dialog). */
export async function render(main) {
  const body = h('div');
  const refresh = h('button', { type: 'button', class: 'quiet', onclick: () => load() }, 'Refresh');
  main.append(h('h1', {}, 'Connections'), h('div', { class: 'toolbar' }, refresh), body);
  const load = async () => {
    try {
      const d = await call('connections');
      body.replaceChildren(
        table('Upstreams', ['Connection', 'Type', 'Health', 'Round trip'], d.connections.map((c) => [
          c.name, c.type, c.healthy ? h('span', { class: 'badge allow' }, 'healthy') : h('span', { class: 'badge deny', title: c.error }, `down: ${c.error}`), c.round_trip_ms === null ? '—' : `${c.round_trip_ms.toFixed(1)} ms`,
        ])),
        d.live === null ? h('p', { class: 'muted' }, 'Live sessions are not tracked on this gateway.') :
        table('Connected now', ['User', 'Connection', 'Client', 'Since', 'Statements', 'Last statement', ''], d.live.map((s) => [
          `${s.subject} [${s.groups.join(', ')}]`, s.connection, `${s.frontend} ${s.address}${s.applicationName ? ` (${s.applicationName})` : ''}`, when(s.startedAt), String(s.statements), when(s.lastStatementAt) || '—',
          can('admin') && s.endable ? endButton(s, load) : '',
        ]), { empty: 'Nobody is connected.' }),
      );
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  };
  await load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}

function endButton(s, reload) {
  const b = h('button', { type: 'button', class: 'deny', 'aria-label': `End the session of ${s.subject}` }, 'End session');
  b.addEventListener('click', async () => {
    if (b.dataset.armed !== '1') {
      b.dataset.armed = '1';
      b.textContent = 'Confirm: end it';
      return;
    }
    b.disabled = true;
    try {
      await call(`live/${s.id}/end`, { method: 'POST', body: {} });
      await reload();
    } catch (e) {
      b.replaceWith(errorBox(e));
    }
  });
  return b;
}
