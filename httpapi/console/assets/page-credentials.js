// Credentials: API keys and applications. A new key or secret is shown
// once, in a box with a Copy button; it is kept nowhere else.

import { el, clear, fmtTime, errorBox, loading, field, confirmDialog, secretBox, notice } from './dom.js';

const SCOPES = [
  ['read', 'read: read data'],
  ['write', 'write: send and import data, pair phones'],
  ['admin', 'admin: everything, keys included'],
];

export async function render(root, ctx) {
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Credentials')));
  if (ctx.session.role !== 'admin') {
    root.append(notice('API keys and applications are managed by admins.'));
    return;
  }
  const keys = section(ctx, {
    title: 'API keys',
    intro: 'Keys for your back end and scripts, sent in the X-Open-Wearables-API-Key header. Only a hash is stored: a key is shown once, when it is made.',
    newLabel: 'New API key',
    prefix: 'key',
    list: () => ctx.api.get('/api/v1/developer/api-keys'),
    columns: ['Name', 'Id', 'Scope', 'Created'],
    row: (k) => [
      k.name || el('span', { class: 'muted' }, 'unnamed'),
      el('code', {}, k.id),
      el('span', { class: `badge ${k.scope === 'admin' ? 'badge-info' : ''}` }, k.scope),
      [fmtTime(k.created_at), k.created_by ? el('div', { class: 'muted small' }, `by ${k.created_by}`) : null],
    ],
    form: (done) => {
      const name = el('input', { type: 'text', class: 'input', 'data-testid': 'key-create-name', maxlength: 100, autocomplete: 'off' });
      const scope = el('select', { class: 'input', 'data-testid': 'key-create-scope' }, SCOPES.map(([v, t]) => el('option', { value: v }, t)));
      return {
        fields: el('div', { class: 'form-row' }, field('Name', name, 'What uses it: "dashboard", "nightly export".'), field('Scope', scope)),
        submit: async () => {
          const k = await ctx.api.send('POST', '/api/v1/developer/api-keys', { name: name.value.trim(), scope: scope.value });
          done(secretBox(`API key "${k.name || k.id}" (${k.scope})`, [['Key id', k.id, false], ['Key', k.key, true]]));
        },
      };
    },
    actions: (k, reload, show) => [
      action('Rotate', 'key-rotate', k.id, async () => {
        const ok = await confirmDialog({ title: `Rotate "${k.name || k.id}"?`, message: 'A new key is made under the same id. The old key stops at once, with the SDK tokens it minted.', confirmLabel: 'Rotate key', danger: true });
        if (!ok) return;
        const r = await ctx.api.send('POST', `/api/v1/developer/api-keys/${encodeURIComponent(k.id)}/rotate`);
        show(secretBox(`New key for "${r.name || r.id}"`, [['Key id', r.id, false], ['Key', r.key, true]]));
        reload();
      }),
      action('Delete', 'key-delete', k.id, async () => {
        const ok = await confirmDialog({ title: `Delete "${k.name || k.id}"?`, message: 'The key stops at once, with every SDK token it minted.', confirmLabel: 'Delete key', danger: true });
        if (!ok) return;
        await ctx.api.send('DELETE', `/api/v1/developer/api-keys/${encodeURIComponent(k.id)}`);
        reload();
      }, true),
    ],
  });

  const apps = section(ctx, {
    title: 'Applications',
    intro: 'An application\u2019s id and secret let your back end mint SDK tokens for its users (POST /api/v1/users/{id}/token). The secret is shown once.',
    newLabel: 'New application',
    prefix: 'app',
    list: () => ctx.api.get('/api/v1/applications'),
    columns: ['Name', 'App id', 'Created'],
    row: (a) => [a.name, el('code', {}, a.app_id), fmtTime(a.created_at)],
    form: (done) => {
      const name = el('input', { type: 'text', class: 'input', 'data-testid': 'app-create-name', maxlength: 100, required: true, autocomplete: 'off' });
      return {
        fields: el('div', { class: 'form-row' }, field('Name', name, '1 to 100 characters.')),
        submit: async () => {
          if (!name.value.trim()) throw Object.assign(new Error('Enter a name.'), { detail: 'Enter a name.' });
          const a = await ctx.api.send('POST', '/api/v1/applications', { name: name.value.trim() });
          done(secretBox(`Application "${a.name}"`, [['App id', a.app_id, false], ['App secret', a.app_secret, true]]));
        },
      };
    },
    actions: (a, reload, show) => [
      action('Rotate secret', 'app-rotate', a.id, async () => {
        const ok = await confirmDialog({ title: `Rotate the secret of "${a.name}"?`, message: 'The old secret stops, and so does every SDK and refresh token minted with this application.', confirmLabel: 'Rotate secret', danger: true });
        if (!ok) return;
        const r = await ctx.api.send('POST', `/api/v1/applications/${encodeURIComponent(a.id)}/rotate-secret`);
        show(secretBox(`New secret for "${r.name}"`, [['App id', r.app_id, false], ['App secret', r.app_secret, true]]));
        reload();
      }),
      action('Delete', 'app-delete', a.id, async () => {
        const ok = await confirmDialog({ title: `Delete "${a.name}"?`, message: 'Every SDK and refresh token minted with it stops at once.', confirmLabel: 'Delete application', danger: true });
        if (!ok) return;
        await ctx.api.send('DELETE', `/api/v1/applications/${encodeURIComponent(a.id)}`);
        reload();
      }, true),
    ],
  });
  root.append(keys.node, apps.node);
  await Promise.all([keys.load(), apps.load()]);
}

// action is a row's button; run's errors are shown by the section.
function action(label, testid, id, run, danger = false) {
  return { label, testid, id, run, danger };
}

// section is a list with a create form, a place for a secret shown once,
// and row actions.
function section(ctx, spec) {
  const secret = el('div', {});
  const flash = el('div', {});
  const formBox = el('div', {});
  const list = el('div', {}, loading());
  const open = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': `${spec.prefix}-create-open` }, spec.newLabel);
  const node = el(
    'section',
    { class: 'section', 'data-testid': `${spec.prefix}-section` },
    el('div', { class: 'page-head' }, el('h2', {}, spec.title), open),
    el('p', { class: 'muted' }, spec.intro),
    secret,
    formBox,
    flash,
    list,
  );
  const show = (box) => clear(secret, box);

  const load = async () => {
    let items;
    try {
      items = await spec.list();
    } catch (err) {
      if (err.name !== 'AbortError' && err.status !== 401) clear(list, errorBox(err));
      return;
    }
    if (ctx.signal.aborted) return;
    if (!items.length) {
      clear(list, el('div', { class: 'card empty' }, 'None yet.'));
      return;
    }
    clear(
      list,
      el('div', { class: 'table-wrap' }, el('table', { class: 'stackable', 'data-testid': `${spec.prefix}-table` },
        el('thead', {}, el('tr', {}, spec.columns.map((c) => el('th', {}, c)), el('th', {}, el('span', { class: 'offscreen' }, 'Actions')))),
        el('tbody', {}, items.map((it) => el('tr', { 'data-testid': `${spec.prefix}-row`, 'data-id': it.id },
          spec.row(it).map((c, i) => el('td', { 'data-label': spec.columns[i] }, el('span', {}, c))),
          el('td', { class: 'actions-cell' }, el('div', { class: 'actions' }, spec.actions(it, load, show).map((a) => {
            const b = el('button', { type: 'button', class: `btn btn-small ${a.danger ? 'btn-danger-outline' : ''}`, 'data-testid': a.testid, 'data-id': a.id }, a.label);
            b.addEventListener('click', async () => {
              clear(flash);
              b.disabled = true;
              try {
                await a.run();
              } catch (err) {
                if (err.status !== 401 && err.name !== 'AbortError') clear(flash, errorBox(err, `${spec.prefix}-error`));
              } finally {
                b.disabled = false;
              }
            });
            return b;
          })))))))),
    );
  };

  open.addEventListener('click', () => {
    if (formBox.firstChild) {
      clear(formBox);
      return;
    }
    const error = el('div', {});
    const f = spec.form((box) => {
      clear(formBox);
      show(box);
      load();
    });
    const submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': `${spec.prefix}-create-submit` }, 'Create');
    const form = el('form', { class: 'card form', novalidate: true, 'data-testid': `${spec.prefix}-create-form` }, el('h3', {}, spec.newLabel), f.fields, error,
      el('div', { class: 'actions' }, el('button', { type: 'button', class: 'btn', on: { click: () => clear(formBox) } }, 'Cancel'), submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(error);
      submit.disabled = true;
      try {
        await f.submit();
      } catch (err) {
        if (err.status !== 401 && err.name !== 'AbortError') clear(error, errorBox(err, `${spec.prefix}-create-error`));
      } finally {
        submit.disabled = false;
      }
    });
    clear(formBox, form);
    form.querySelector('input, select').focus();
  });
  return { node, load };
}
