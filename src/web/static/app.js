import { call, whoAmI } from './api.js';
import { errorBox, h } from './dom.js';
import * as approvals from './approvals.js';
import * as sessions from './sessions.js';
import * as session from './session.js';
import * as policy from './policy.js';
import * as connections from './connections.js';

// Hash routes keep the app one page with working back/forward and bookmarkable sessions.
const ROUTES = [
  [/^#\/approvals$/, approvals, 'approvals'],
  [/^#\/sessions$/, sessions, 'sessions'],
  [/^#\/sessions\/([A-Za-z0-9-]+)$/, session, 'sessions'],
  [/^#\/policy$/, policy, 'policy'],
  [/^#\/connections$/, connections, 'connections'],
];

let cleanup = () => {};

async function show() {
  const main = document.getElementById('main');
  cleanup();
  cleanup = () => {};
  const hash = location.hash || '#/approvals';
  const found = ROUTES.map(([re, view, section]) => [hash.match(re), view, section]).find(([m]) => m);
  main.replaceChildren();
  if (!found) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/approvals' }, 'Back to approvals')));
    return;
  }
  const [m, view, section] = found;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    cleanup = (await view.render(main, m.slice(1))) ?? (() => {});
  } catch (e) {
    main.append(errorBox(e));
  }
  main.focus({ preventScroll: true });
}

async function start() {
  const me = await whoAmI();
  document.getElementById('who').textContent = `${me.subject} · ${me.roles.join(', ')}`;
  document.getElementById('sign-out').addEventListener('click', async () => {
    await call('sign-out', { method: 'POST' });
    location.assign('/console/sign-in');
  });
  // Sections a role cannot use are hidden; the server refuses them regardless.
  const auditor = me.roles.includes('auditor') || me.roles.includes('admin');
  for (const s of ['sessions', 'connections']) if (!auditor) document.querySelector(`nav a[data-section="${s}"]`).hidden = true;
  if (!location.hash) location.replace(auditor && !me.roles.includes('reviewer') ? '#/sessions' : '#/approvals');
  addEventListener('hashchange', show);
  await show();
}

start().catch((e) => document.getElementById('main').append(errorBox(e)));
