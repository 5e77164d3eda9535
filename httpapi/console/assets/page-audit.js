// The audit trail: who read or changed what, on whose data, and how it
// went, newest first, filtered by user, actor and action, a page at a
// time; and the trail's exports (JSON lines, FHIR AuditEvent).

import { el, clear, fmtTime, errorBox, loading, field } from './dom.js';
import { query } from './api.js';

const ACTIONS = ['', 'read', 'export', 'backup', 'sync', 'import', 'write', 'delete', 'erase', 'credential', 'session', 'audit'];
const OUTCOME_CLASS = { success: 'badge-ok', denied: 'badge-warn', failed: 'badge-err' };

function actorText(a) {
  if (!a || a.kind === 'none') return 'no credential';
  return a.user ? `${a.kind}:${a.id} (user ${a.user})` : `${a.kind}:${a.id}`;
}

function targetText(t) {
  return t ? Object.entries(t).map(([k, v]) => `${k}=${v}`).join(' ') : '';
}

export async function render(root, ctx) {
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Audit trail')),
    el('p', { class: 'muted' }, 'Every access to health data, every credential, account and session change, and every refused request. ',
      'No health value and no secret is ever recorded. ', el('code', {}, 'wearhouse audit verify'), ' checks the chain of records.'));
  const user = el('input', { type: 'search', class: 'input', 'data-testid': 'audit-user', placeholder: 'user id', autocomplete: 'off' });
  const actor = el('input', { type: 'search', class: 'input', 'data-testid': 'audit-actor', placeholder: 'key:key_…, account:…', autocomplete: 'off' });
  const action = el('select', { class: 'input', 'data-testid': 'audit-action' }, ACTIONS.map((a) => el('option', { value: a }, a || 'any')));
  const apply = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'audit-apply' }, 'Show');
  const exports = el('div', { class: 'form-row section-gap' });
  const out = el('div', { class: 'section-gap' });
  const more = el('button', { type: 'button', class: 'btn', 'data-testid': 'audit-more', hidden: true }, 'Older records');
  const form = el('form', { class: 'card form', 'data-testid': 'audit-filters' },
    el('div', { class: 'form-row' }, field('User', user), field('Actor', actor), field('Action', action), apply), exports);
  root.append(form, out, more);

  let cursor = null;
  let body = null;
  const params = () => ({ user_id: user.value.trim(), actor: actor.value.trim(), action: action.value });

  function drawExports() {
    const q = query(params());
    clear(exports,
      el('a', { class: 'btn btn-small', href: `/api/v1/audit.jsonl${q}`, download: 'audit.jsonl', 'data-testid': 'audit-export-jsonl' }, 'Download as JSON lines'),
      el('a', { class: 'btn btn-small', href: `/api/v1/audit/fhir${q}`, download: 'audit-fhir.ndjson', 'data-testid': 'audit-export-fhir' }, 'Download as FHIR AuditEvent'));
  }

  async function load(reset) {
    if (reset) {
      cursor = null;
      body = el('tbody', {});
      clear(out, loading());
    }
    try {
      const page = await ctx.api.get('/api/v1/audit', { ...params(), limit: 100, cursor }, { signal: ctx.signal });
      for (const e of page.items) {
        body.append(el('tr', { 'data-testid': 'audit-row', 'data-seq': String(e.seq) },
          el('td', { 'data-label': 'Time' }, fmtTime(e.time, true)),
          el('td', { 'data-label': 'Action' }, e.action),
          el('td', { 'data-label': 'Outcome' }, el('span', { class: `badge ${OUTCOME_CLASS[e.outcome] || ''}` }, `${e.outcome} ${e.status}`)),
          el('td', { 'data-label': 'Who' }, actorText(e.actor)),
          el('td', { 'data-label': 'Whose data', class: 'mono' }, e.user_id || ''),
          el('td', { 'data-label': 'Route', class: 'mono' }, `${e.method || ''} ${e.route || ''}`),
          el('td', { 'data-label': 'Details', class: 'mono' }, targetText(e.target)),
          el('td', { 'data-label': 'Client' }, e.client || '')));
      }
      if (reset) {
        clear(out, page.items.length === 0 ? el('p', { class: 'muted', 'data-testid': 'audit-empty' }, 'No records match.') :
          el('div', { class: 'table-wrap' }, el('table', { class: 'stackable audit-table', 'data-testid': 'audit-table' },
            el('thead', {}, el('tr', {}, ['Time', 'Action', 'Outcome', 'Who', 'Whose data', 'Route', 'Details', 'Client'].map((h) => el('th', {}, h)))),
            body)));
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      if (err.name !== 'AbortError') clear(out, errorBox(err));
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    drawExports();
    load(true);
  });
  more.addEventListener('click', () => load(false));
  drawExports();
  await load(true);
}
