import { call } from './api.js';
import { badge, h, table, when } from './dom.js';
import { formatSql } from './sql-format.js';

const MAX_GAP_MS = 5000;

/** One recorded session: its timeline, a replay in (scaled) recorded time, and export. */
export async function render(main, [id]) {
  const d = await call(`sessions/${id}`);
  const s = d.summary;
  const timeline = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Statements' });
  const speed = h('select', { id: 'speed' }, [1, 4, 16].map((x) => h('option', { value: x, selected: x === 4 }, `${x}× speed`)));
  const replayBtn = h('button', { type: 'button', id: 'replay' }, 'Replay');
  const stopBtn = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Stop');
  const clock = h('span', { class: 'clock', 'aria-live': 'off' });
  main.append(
    h('p', {}, h('a', { href: '#/sessions' }, '← All sessions')),
    h('h1', {}, `Session of ${s.subject}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Identity'), h('dd', {}, `${s.subject} [${s.groups.join(', ')}] from ${s.issuer}`),
      h('dt', {}, 'Client'), h('dd', {}, `${s.frontend} ${s.address}${s.applicationName ? ` (${s.applicationName})` : ''}`),
      h('dt', {}, 'Connection'), h('dd', {}, s.connection),
      h('dt', {}, 'Time'), h('dd', {}, `${when(s.startedAt)} → ${s.endedAt ? `${when(s.endedAt)} (${s.endReason})` : 'still open'}`),
      h('dt', {}, 'Statements'), h('dd', {}, `${s.statements}, ${s.refused} refused`)),
    h('div', { class: 'toolbar' },
      h('label', { for: 'speed' }, 'Replay'), speed, replayBtn, stopBtn, clock,
      h('a', { class: 'button quiet', href: `/console/api/sessions/${id}/export`, download: `session-${id}.json` }, 'Export JSON')),
    timeline,
  );
  const start = Date.parse(d.start.time);
  const showAll = () => timeline.replaceChildren(...d.statements.map((r) => entry(r, start)), ...(d.end ? [endEntry(d.end, start)] : []));
  showAll();

  let stopped = true;
  const stop = () => {
    stopped = true;
    stopBtn.hidden = true;
    replayBtn.disabled = false;
    clock.textContent = '';
  };
  stopBtn.addEventListener('click', () => {
    stop();
    showAll();
  });
  replayBtn.addEventListener('click', async () => {
    // Refetched so the replay itself is logged on the server as a replay.
    const r = await call(`sessions/${id}?replay=1`);
    stopped = false;
    replayBtn.disabled = true;
    stopBtn.hidden = false;
    timeline.replaceChildren();
    const x = Number(speed.value);
    let prev = start;
    for (const st of r.statements) {
      const at = Date.parse(st.statement.time);
      await sleep(Math.min(Math.max(0, at - prev), MAX_GAP_MS) / x);
      if (stopped) return;
      prev = at;
      clock.textContent = `+${secs(at - start)}`;
      const li = entry(st, start);
      li.classList.add('fresh');
      timeline.append(li);
      li.scrollIntoView({ block: 'nearest' });
    }
    if (r.end) timeline.append(endEntry(r.end, start));
    timeline.append(h('li', { class: 'done', id: 'replay-done' }, 'Replay finished.'));
    stop();
  });
  return () => (stopped = true);
}

function entry(r, start) {
  const st = r.statement;
  const dec = st.decision;
  const res = r.result;
  return h('li', { class: 'statement' },
    h('div', { class: 'when' }, `#${st.statement} · +${secs(Date.parse(st.time) - start)}`),
    h('pre', { class: 'sql' }, formatSql(st.sql)),
    st.params?.length ? h('p', {}, 'Parameters: ', h('code', {}, st.params.map((p) => (p === null ? 'NULL' : JSON.stringify(p))).join(', '))) : null,
    h('p', {}, badge(dec.action), ' rule ', h('code', {}, dec.rule), dec.reason ? ` — ${dec.reason}` : ''),
    dec.wouldHave ? h('p', { class: 'muted' }, `audit-only: would have been ${dec.wouldHave.action} by ${dec.wouldHave.rule}`) : null,
    st.approval ? h('p', {}, `Approval: ${st.approval.decision} by ${st.approval.approver}${st.approval.comment ? ` — ${st.approval.comment}` : ''}`) : null,
    res ? result(res) : h('p', { class: 'muted' }, 'No result recorded.'),
  );
}

function result(res) {
  const parts = [];
  if (res.columns.length) parts.push(table(null, res.columns.map((c) => c.name), res.rows, { class: 'grid rows', empty: 'No rows.' }));
  if (res.truncated) parts.push(h('p', { class: 'muted' }, `Recording kept the first ${res.rows.length} rows.`));
  if (res.error) parts.push(h('p', { class: 'error' }, `error ${res.error.sqlstate}: ${res.error.message}`));
  const t = res.timings;
  parts.push(h('p', { class: 'muted' }, `${res.tag ?? ''}${res.rowCount !== null ? ` · ${res.rowCount} row${res.rowCount === 1 ? '' : 's'}` : ''} · ${res.bytes} bytes · ${t.executionMs} ms${t.approvalWaitMs ? ` · waited ${(t.approvalWaitMs / 1000).toFixed(1)} s for approval` : ''}`));
  return parts;
}

function endEntry(end, start) {
  return h('li', { class: 'end' }, `Session ended at +${secs(Date.parse(end.time) - start)} (${end.reason}).`);
}

function secs(ms) {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
