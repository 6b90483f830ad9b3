// Elements are built with text nodes only, never innerHTML: every value shown here came from
// a database client, an identity provider or a policy file, and none of it is markup.

/** h('button', { class: 'x', onclick: f }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function announce(text) {
  const a = document.getElementById('announce');
  a.textContent = '';
  // A fresh text node is what screen readers notice.
  setTimeout(() => (a.textContent = text), 30);
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function badge(action) {
  return h('span', { class: `badge ${action}` }, action);
}

export function table(caption, head, rows, opts = {}) {
  return h('table', { class: opts.class ?? 'grid' },
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c === null ? h('span', { class: 'null' }, 'NULL') : c)))) : h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, opts.empty ?? 'Nothing here.'))));
}

export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, e instanceof Error ? e.message : String(e));
}
