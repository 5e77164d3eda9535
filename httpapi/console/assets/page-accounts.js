// Accounts: the console's people. Admins list, create and delete
// accounts; everyone changes their own password (then logs in again).

import { el, clear, fmtTime, errorBox, loading, field, confirmDialog } from './dom.js';

export async function render(root, ctx) {
  const me = ctx.session;
  const isAdmin = me.role === 'admin';
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Accounts')));

  root.append(
    el('section', { class: 'card', 'data-testid': 'account-me' }, el('h2', {}, 'Your account'),
      el('dl', { class: 'kv' }, el('dt', {}, 'E-mail'), el('dd', {}, me.email), el('dt', {}, 'Role'),
        el('dd', {}, el('span', { class: `role role-${me.role}` }, me.role), ' ', el('span', { class: 'muted small' },
          me.role === 'admin' ? 'may change everything, as an admin API key.' : 'may read everything and change nothing, as a read API key.')))),
  );

  if (isAdmin) root.append(accountsSection(ctx));
  root.append(passwordSection(ctx));
  if (isAdmin) await root.querySelector('[data-testid=accounts-section]').load();
}

function accountsSection(ctx) {
  const me = ctx.session;
  const list = el('div', {}, loading());
  const flash = el('div', {});
  const formBox = el('div', {});
  const open = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'account-create-open' }, 'New account');
  const node = el('section', { class: 'section', 'data-testid': 'accounts-section' },
    el('div', { class: 'page-head' }, el('h2', {}, 'All accounts'), open), formBox, flash, list);

  const load = async () => {
    let data;
    try {
      data = await ctx.api.get('/api/v1/console/accounts');
    } catch (err) {
      if (err.name !== 'AbortError' && err.status !== 401) clear(list, errorBox(err));
      return;
    }
    const items = data.items || [];
    clear(
      list,
      el('div', { class: 'table-wrap' }, el('table', { class: 'stackable', 'data-testid': 'accounts-table' },
        el('thead', {}, el('tr', {}, el('th', {}, 'E-mail'), el('th', {}, 'Role'), el('th', {}, 'Created'), el('th', {}, el('span', { class: 'offscreen' }, 'Actions')))),
        el('tbody', {}, items.map((a) => {
          const self = a.email.toLowerCase() === me.email.toLowerCase();
          let del = null;
          if (!self) {
            del = el('button', { type: 'button', class: 'btn btn-small btn-danger-outline', 'data-testid': 'account-delete', 'data-email': a.email }, 'Delete');
            del.addEventListener('click', () => remove(a));
          }
          return el('tr', { 'data-testid': 'account-row', 'data-email': a.email },
            el('td', { 'data-label': 'E-mail' }, el('span', {}, a.email, self ? el('span', { class: 'muted' }, ' (you)') : null)),
            el('td', { 'data-label': 'Role' }, el('span', { class: `role role-${a.role}` }, a.role)),
            el('td', { 'data-label': 'Created' }, fmtTime(a.created_at)),
            el('td', { class: 'actions-cell' }, del));
        })))),
    );
  };

  const remove = async (a) => {
    const ok = await confirmDialog({ title: `Delete ${a.email}?`, message: 'The account and its sessions end at once.', confirmLabel: 'Delete account', danger: true });
    if (!ok) return;
    clear(flash);
    try {
      await ctx.api.send('DELETE', `/api/v1/console/accounts/${encodeURIComponent(a.email)}`);
      clear(flash, el('div', { class: 'alert alert-ok', role: 'status' }, `Deleted ${a.email}.`));
      load();
    } catch (err) {
      if (err.status === 401) return;
      clear(flash, errorBox(err.status === 409 ? { detail: err.detail || 'This is the last admin account: make another admin first.' } : err, 'account-delete-error'));
    }
  };

  open.addEventListener('click', () => {
    if (formBox.firstChild) return clear(formBox);
    const email = el('input', { type: 'email', class: 'input', 'data-testid': 'account-create-email', autocomplete: 'off', required: true });
    const pw = el('input', { type: 'password', class: 'input', 'data-testid': 'account-create-password', autocomplete: 'new-password', minlength: 12, required: true });
    const role = el('select', { class: 'input', 'data-testid': 'account-create-role' },
      el('option', { value: 'viewer' }, 'viewer: reads, changes nothing'), el('option', { value: 'admin' }, 'admin: may change everything'));
    const error = el('div', {});
    const submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'account-create-submit' }, 'Create account');
    const form = el('form', { class: 'card form', novalidate: true, 'data-testid': 'account-create-form' }, el('h3', {}, 'New account'),
      el('div', { class: 'form-row' }, field('E-mail', email), field('Password', pw, 'At least 12 characters. Tell it to the person safely.'), field('Role', role)),
      error, el('div', { class: 'actions' }, el('button', { type: 'button', class: 'btn', on: { click: () => clear(formBox) } }, 'Cancel'), submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(error);
      if (!email.value.trim()) return clear(error, errorBox({ detail: 'Enter an e-mail address.' }, 'account-create-error'));
      if (pw.value.length < 12) return clear(error, errorBox({ detail: 'The password needs at least 12 characters.' }, 'account-create-error'));
      submit.disabled = true;
      try {
        const a = await ctx.api.send('POST', '/api/v1/console/accounts', { email: email.value.trim(), password: pw.value, role: role.value });
        pw.value = '';
        clear(formBox);
        clear(flash, el('div', { class: 'alert alert-ok', role: 'status', 'data-testid': 'account-create-done' }, `Created ${a ? a.email : email.value.trim()}.`));
        load();
      } catch (err) {
        submit.disabled = false;
        if (err.status !== 401) clear(error, errorBox(err, 'account-create-error'));
      }
    });
    clear(formBox, form);
    email.focus();
  });
  node.load = load;
  return node;
}

function passwordSection(ctx) {
  const cur = el('input', { type: 'password', class: 'input', 'data-testid': 'password-current', autocomplete: 'current-password' });
  const pw = el('input', { type: 'password', class: 'input', 'data-testid': 'password-new', autocomplete: 'new-password', minlength: 12 });
  const pw2 = el('input', { type: 'password', class: 'input', 'data-testid': 'password-new2', autocomplete: 'new-password', minlength: 12 });
  const error = el('div', {});
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'password-submit' }, 'Change password');
  const form = el('form', { class: 'card form', novalidate: true, 'data-testid': 'password-form' },
    el('h2', {}, 'Change your password'),
    el('input', { type: 'text', autocomplete: 'username', value: ctx.session.email, readonly: true, hidden: true, tabindex: '-1', 'aria-hidden': 'true' }),
    el('p', { class: 'muted' }, 'Every session of your account ends, this one too: you log in again with the new password.'),
    el('div', { class: 'form-row' }, field('Current password', cur), field('New password', pw, 'At least 12 characters.'), field('New password again', pw2)),
    error, el('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(error);
    const fail = (t) => clear(error, errorBox({ detail: t }, 'password-error'));
    if (!cur.value) return fail('Enter your current password.');
    if (pw.value.length < 12) return fail('The new password needs at least 12 characters.');
    if (pw.value !== pw2.value) return fail('The two new passwords differ.');
    submit.disabled = true;
    try {
      await ctx.api.send('POST', '/api/v1/console/password', { current_password: cur.value, new_password: pw.value }, { auth: false });
      cur.value = pw.value = pw2.value = '';
      // The server ended the sessions: the next request answers 401 and
      // the shell shows the login view.
      window.dispatchEvent(new CustomEvent('wh:session-ended', { detail: 'Your password is changed. Log in with the new one.' }));
    } catch (err) {
      submit.disabled = false;
      if (err.status === 401) {
        // A wrong current password may answer 401 too: only a session
        // that is gone sends the user to the login view.
        const alive = await ctx.api.get('/api/v1/console/session', null, { auth: false }).then(() => true, () => false);
        if (!alive) {
          window.dispatchEvent(new CustomEvent('wh:session-ended', { detail: 'Your session ended. Log in again to continue.' }));
          return;
        }
        clear(error, errorBox({ detail: 'The current password is wrong.' }, 'password-error'));
        return;
      }
      clear(error, errorBox(err.status === 400 || err.status === 403 ? { detail: err.detail || 'The current password is wrong.' } : err, 'password-error'));
    }
  });
  return el('section', { class: 'section' }, form);
}
