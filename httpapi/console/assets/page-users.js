// Users: the list of GET /api/v1/users with search, sorting and paging;
// admins create and erase users.

import { el, clear, fmtTime, errorBox, loading, field, confirmDialog, notice, userLabel } from './dom.js';

const LIMIT = 20;

const COLUMNS = [
  { label: 'User', sort: 'first_name' },
  { label: 'External id' },
  { label: 'E-mail', sort: 'email', cls: 'hide-sm' },
  { label: 'Created', sort: 'created_at', cls: 'hide-sm' },
  { label: 'Last synced', sort: 'last_synced_at' },
];

export async function render(root, ctx) {
  const isAdmin = ctx.session.role === 'admin';
  const state = { page: 1, search: '', sort_by: 'created_at', sort_order: 'desc' };
  const flash = el('div', {});
  const tableBox = el('div', {}, loading());
  const pager = el('div', { class: 'pager' });
  const search = el('input', { type: 'search', class: 'input', placeholder: 'Search name or e-mail', 'data-testid': 'users-search',
    'aria-label': 'Search users', autocomplete: 'off' });
  const total = el('span', { class: 'muted', 'data-testid': 'users-total' });
  const createBtn = isAdmin ? el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'users-create-open' }, 'New user') : null;
  const createBox = el('div', {});

  root.append(
    el('div', { class: 'page-head' }, el('h1', {}, 'Users'), createBtn),
    createBox,
    flash,
    el('div', { class: 'toolbar' }, search, total),
    tableBox,
    pager,
  );

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    tableBox.setAttribute('aria-busy', 'true');
    if (!tableBox.querySelector('table')) clear(tableBox, loading());
    const params = { page: state.page, limit: LIMIT, sort_by: state.sort_by, sort_order: state.sort_order };
    if (state.search) params.search = state.search;
    let data;
    try {
      data = await ctx.api.get('/api/v1/users', params);
    } catch (err) {
      if (mine !== seq || err.name === 'AbortError' || err.status === 401) return;
      clear(tableBox, errorBox(err));
      clear(pager);
      return;
    } finally {
      if (mine === seq) tableBox.removeAttribute('aria-busy');
    }
    if (mine !== seq) return;
    if (data.items.length === 0 && state.page > 1 && data.total > 0) {
      state.page = Math.max(1, data.pages);
      return load();
    }
    total.textContent = `${data.total} ${data.total === 1 ? 'user' : 'users'}${state.search ? ' match' : ''}`;
    drawTable(data);
    drawPager(data);
  };

  const sortHeader = (c) => {
    if (!c.sort) return el('th', { class: c.cls }, c.label);
    const active = state.sort_by === c.sort;
    const arrow = active ? (state.sort_order === 'asc' ? '▲' : '▼') : '';
    const b = el('button', { type: 'button', class: 'sort-btn', 'data-testid': `users-sort-${c.sort}`, 'aria-sort-active': active ? 'true' : null },
      c.label, el('span', { 'aria-hidden': 'true' }, arrow));
    b.addEventListener('click', () => {
      if (state.sort_by === c.sort) state.sort_order = state.sort_order === 'asc' ? 'desc' : 'asc';
      else {
        state.sort_by = c.sort;
        state.sort_order = c.sort === 'created_at' || c.sort === 'last_synced_at' ? 'desc' : 'asc';
      }
      state.page = 1;
      load();
    });
    return el('th', { class: c.cls, 'aria-sort': active ? (state.sort_order === 'asc' ? 'ascending' : 'descending') : 'none' }, b);
  };

  const drawTable = (data) => {
    if (!data.items.length) {
      clear(tableBox, el('div', { class: 'card empty', 'data-testid': 'users-empty' },
        state.search ? 'No user matches this search.' : isAdmin ? 'No users yet. Create one, or pair a phone: its first sync creates its user.' : 'No users yet.'));
      return;
    }
    const rows = data.items.map((u) => {
      const href = `/console/users/${encodeURIComponent(u.id)}`;
      const name = [u.first_name, u.last_name].filter(Boolean).join(' ');
      const del = isAdmin
        ? el('button', { type: 'button', class: 'btn btn-small btn-danger-outline', 'data-testid': 'users-delete-button', 'data-user-id': u.id,
          'aria-label': `Delete ${userLabel(u)}` }, 'Delete')
        : null;
      if (del) del.addEventListener('click', () => remove(u));
      return el(
        'tr',
        { 'data-testid': 'user-row', 'data-user-id': u.id },
        el('td', {}, el('a', { href, class: 'row-link' }, name || u.email || u.external_user_id || u.id),
          name || u.email || u.external_user_id === u.id || !u.external_user_id ? null : el('div', { class: 'muted small mono' }, u.id)),
        el('td', { class: 'mono' }, u.external_user_id || el('span', { class: 'muted' }, '–')),
        el('td', { class: 'hide-sm' }, u.email || el('span', { class: 'muted' }, '–')),
        el('td', { class: 'hide-sm nowrap' }, fmtTime(u.created_at)),
        el('td', {}, u.last_synced_at ? [fmtTime(u.last_synced_at), u.last_synced_provider ? el('div', { class: 'muted small' }, u.last_synced_provider) : null]
          : el('span', { class: 'muted' }, 'never')),
        isAdmin ? el('td', { class: 'actions-cell' }, del) : null,
      );
    });
    clear(
      tableBox,
      el('div', { class: 'table-wrap' }, el('table', { 'data-testid': 'users-table' },
        el('thead', {}, el('tr', {}, COLUMNS.map(sortHeader), isAdmin ? el('th', {}, el('span', { class: 'offscreen' }, 'Actions')) : null)),
        el('tbody', {}, rows))),
    );
  };

  const drawPager = (data) => {
    const prev = el('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'users-prev', disabled: !data.has_prev }, '← Previous');
    const next = el('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'users-next', disabled: !data.has_next }, 'Next →');
    prev.addEventListener('click', () => {
      state.page = Math.max(1, state.page - 1);
      load();
    });
    next.addEventListener('click', () => {
      state.page += 1;
      load();
    });
    clear(pager, data.pages > 1 ? [el('span', { class: 'muted', 'data-testid': 'users-page' }, `Page ${data.page} of ${data.pages}`), el('div', { class: 'actions' }, prev, next)] : null);
  };

  const remove = async (u) => {
    const typed = u.external_user_id || u.id;
    const ok = await confirmDialog({
      title: `Delete ${userLabel(u)}?`,
      message: 'This erases the user and all of their data: samples, workouts, sleep, syncs still queued. Their phones stop syncing. It cannot be undone.',
      confirmLabel: 'Delete user and data',
      danger: true,
      requireText: typed,
    });
    if (!ok || ctx.signal.aborted) return;
    clear(flash);
    try {
      await ctx.api.send('DELETE', `/api/v1/users/${encodeURIComponent(u.id)}`);
      clear(flash, el('div', { class: 'alert alert-ok', role: 'status', 'data-testid': 'users-delete-done' }, `Deleted ${userLabel(u)} and all of their data.`));
      load();
    } catch (err) {
      if (err.status !== 401) clear(flash, errorBox(err, 'users-delete-error'));
    }
  };

  if (createBtn) {
    createBtn.addEventListener('click', () => {
      if (createBox.firstChild) {
        clear(createBox);
        return;
      }
      createBox.append(createForm());
      createBox.querySelector('input').focus();
    });
  }

  const createForm = () => {
    const ext = el('input', { type: 'text', class: 'input', 'data-testid': 'users-create-external-id', autocomplete: 'off', maxlength: 255 });
    const email = el('input', { type: 'email', class: 'input', 'data-testid': 'users-create-email', autocomplete: 'off' });
    const first = el('input', { type: 'text', class: 'input', 'data-testid': 'users-create-first-name', autocomplete: 'off', maxlength: 100 });
    const last = el('input', { type: 'text', class: 'input', 'data-testid': 'users-create-last-name', autocomplete: 'off', maxlength: 100 });
    const error = el('div', {});
    const submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'users-create-submit' }, 'Create user');
    const cancel = el('button', { type: 'button', class: 'btn', on: { click: () => clear(createBox) } }, 'Cancel');
    const form = el(
      'form',
      { class: 'card form', 'data-testid': 'users-create-form', novalidate: true },
      el('h2', {}, 'New user'),
      el('div', { class: 'form-row' }, field('External id', ext, 'Your own id for this person (optional, recommended).'), field('E-mail (optional)', email)),
      el('div', { class: 'form-row' }, field('First name (optional)', first), field('Last name (optional)', last)),
      error,
      el('div', { class: 'actions' }, cancel, submit),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(error);
      const body = {};
      for (const [k, input] of [['external_user_id', ext], ['email', email], ['first_name', first], ['last_name', last]]) {
        const v = input.value.trim();
        if (v) body[k] = v;
      }
      submit.disabled = true;
      try {
        const u = await ctx.api.send('POST', '/api/v1/users', body);
        clear(createBox);
        clear(flash, el('div', { class: 'alert alert-ok', role: 'status', 'data-testid': 'users-create-done' }, 'Created ',
          el('a', { href: `/console/users/${encodeURIComponent(u.id)}` }, userLabel(u)), ` (id ${u.id}).`));
        state.page = 1;
        state.sort_by = 'created_at';
        state.sort_order = 'desc';
        load();
      } catch (err) {
        submit.disabled = false;
        if (err.status === 401) return;
        clear(error, errorBox(err.status === 409 ? { detail: err.detail || 'Another user has this e-mail.' } : err, 'users-create-error'));
      }
    });
    return form;
  };

  let timer = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.search = search.value.trim();
      state.page = 1;
      load();
    }, 250);
  });
  ctx.signal.addEventListener('abort', () => clearTimeout(timer));
  if (!isAdmin) flash.append(notice('You are signed in as a viewer: you can read users and their data, not change them.'));
  await load();
}
