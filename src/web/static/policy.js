import { call, whoAmI } from './api.js';
import { badge, errorBox, h, table } from './dom.js';

/** The active policy (read-only) and a playground that explains a decision without running anything. */
export async function render(main) {
  const [{ policy, connections }, me] = await Promise.all([call('policy'), whoAmI()]);
  const rules = policy?.rules ?? [];
  const out = h('div', { id: 'explain-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'explain stack', 'aria-labelledby': 'explain-title' },
    h('label', { for: 'explain-sql' }, 'SQL'),
    h('textarea', { id: 'explain-sql', rows: 4, required: true, spellcheck: 'false' }, 'SELECT * FROM accounts LIMIT 10'),
    h('div', { class: 'row' },
      h('div', {}, h('label', { for: 'explain-subject' }, 'As subject'), h('input', { id: 'explain-subject', required: true, value: me.subject })),
      h('div', {}, h('label', { for: 'explain-groups' }, 'Groups (comma-separated)'), h('input', { id: 'explain-groups', value: me.groups.join(', ') })),
      h('div', {}, h('label', { for: 'explain-connection' }, 'Connection'), h('select', { id: 'explain-connection' }, connections.map((c) => h('option', { value: c }, c)))),
      h('div', {}, h('label', { for: 'explain-frontend' }, 'Arriving via'), h('select', { id: 'explain-frontend' }, ['pgwire', 'http', 'mcp'].map((f) => h('option', { value: f }, f))))),
    h('button', { type: 'submit' }, 'Explain'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await call('explain', {
        method: 'POST',
        body: {
          sql: form.querySelector('#explain-sql').value,
          subject: form.querySelector('#explain-subject').value.trim(),
          groups: form.querySelector('#explain-groups').value.split(',').map((g) => g.trim()).filter(Boolean),
          connection: form.querySelector('#explain-connection').value,
          frontend: form.querySelector('#explain-frontend').value,
        },
      });
      out.replaceChildren(explanation(r));
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  main.append(
    h('h1', {}, 'Policy'),
    h('section', { 'aria-labelledby': 'explain-title' }, h('h2', { id: 'explain-title' }, 'Explain a statement'), h('p', { class: 'muted' }, 'Shows how the gateway would decide; nothing is executed, held or recorded.'), form, out),
    h('section', { 'aria-labelledby': 'rules-title' },
      h('h2', { id: 'rules-title' }, 'Active rules'),
      h('p', {}, 'Preset: ', h('code', {}, policy?.preset ?? 'none'), '. Rules are tried in order; the first that matches decides, then the preset, then deny.'),
      table(null, ['#', 'Name', 'Who', 'What', 'Action', 'Limits'], rules.map((r, i) => [
        String(i + 1),
        r.name,
        r.who ? h('code', {}, JSON.stringify(r.who)) : 'anyone',
        r.what ? h('code', {}, JSON.stringify(r.what)) : 'anything',
        badge(r.action),
        [r.max_rows !== undefined ? `max_rows ${r.max_rows}` : '', r.timeout !== undefined ? ` timeout ${r.timeout}` : '', r.review ? ` review ${JSON.stringify(r.review)}` : ''].join('').trim() || '—',
      ]), { empty: 'No rules of its own: the preset decides.' }),
      h('details', {}, h('summary', {}, 'Policy as configured (JSON)'), h('pre', { class: 'json' }, JSON.stringify(policy, null, 2)))),
  );
}

function explanation(r) {
  const a = r.analysis;
  return h('div', { class: 'card' },
    h('p', { class: 'decision' }, 'Decision: ', badge(r.decision.action), ' by rule ', h('code', {}, r.decision.rule)),
    r.decision.reason ? h('p', {}, r.decision.reason) : null,
    table('Per statement', ['Statement', 'Kind', 'Reads', 'Writes', 'Functions', 'Risks', 'Rule', 'Action'], a.statements.map((s, i) => [
      s.tag, s.kind, s.reads.join(', ') || '—', s.writes.join(', ') || '—', s.functions.join(', ') || '—', s.risks.join(', ') || '—', r.per_statement[i]?.rule ?? '', badge(r.per_statement[i]?.action ?? ''),
    ])));
}
