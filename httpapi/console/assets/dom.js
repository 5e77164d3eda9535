// DOM helpers of the console: a tiny element builder, formatting in the
// browser's locale and time zone, a confirmation dialog, and the small
// widgets the pages share (error and loading boxes, the secret box, the
// user picker).

// el builds an element: attrs may hold class, text, on ({event: fn}) and
// any other attribute (set with setAttribute; false, null and undefined
// are left out, true sets it empty). Children are nodes, strings,
// numbers, or arrays of them; null, undefined and false are skipped.
export function el(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const node = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') node.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
    else if (k === 'value' && 'value' in node && !svg) node.value = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : String(c));
  }
}

// clear empties a node and fills it with the children given.
export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const nf = new Intl.NumberFormat();

// fmtNum formats a number with grouping and at most digits decimals; a
// missing value is an en dash.
export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (digits === 0) return nf.format(Math.round(n));
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(n);
}

// fmtBytes formats a size in binary units: 1.5 GiB.
export function fmtBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = Number(n);
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fmtNum(v, i === 0 ? 0 : v < 10 ? 2 : 1)} ${units[i]}`;
}

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dtfSec = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// fmtTime formats an instant (ISO string, Date or milliseconds) in the
// browser's local time zone.
export function fmtTime(t, seconds = false) {
  if (t === null || t === undefined || t === '') return '–';
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return (seconds ? dtfSec : dtf).format(d);
}

// fmtDuration formats seconds as "1 h 5 min", "42 s".
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

// fmtRelative says how far an instant is from now: "in 7 days", "3 minutes ago".
export function fmtRelative(t) {
  const d = t instanceof Date ? t : new Date(t);
  const diff = (d.getTime() - Date.now()) / 1000;
  const a = Math.abs(diff);
  if (a < 60) return rtf.format(Math.round(diff), 'second');
  if (a < 3600) return rtf.format(Math.round(diff / 60), 'minute');
  if (a < 86400) return rtf.format(Math.round(diff / 3600), 'hour');
  return rtf.format(Math.round(diff / 86400), 'day');
}

// localDate is a Date's local calendar date as YYYY-MM-DD.
export function localDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// errorText is what to show of a failed request.
export function errorText(err) {
  if (!err) return 'Something went wrong.';
  if (err.status === 403) return `Not allowed: ${err.detail || 'your account may not do this.'}`;
  if (err.status === 0) return 'The server could not be reached. Check your connection and try again.';
  return err.detail || err.message || String(err);
}

// errorBox is an alert with the error's text.
export function errorBox(err, testid) {
  return el('div', { class: 'alert alert-error', role: 'alert', 'data-testid': testid }, errorText(err));
}

// notice is a calm informative box.
export function notice(text, cls = 'alert-info') {
  return el('div', { class: `alert ${cls}`, role: 'status' }, text);
}

export function loading(text = 'Loading…') {
  return el('div', { class: 'loading', role: 'status', 'aria-live': 'polite' }, el('span', { class: 'spinner' }), text);
}

// copyText puts text on the clipboard; false when the browser refused.
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = el('textarea', { class: 'offscreen', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
    return ok;
  }
}

// copyButton copies text when clicked and says so for a moment.
export function copyButton(getText, label = 'Copy', testid) {
  const b = el('button', { type: 'button', class: 'btn btn-small', 'data-testid': testid }, label);
  b.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    b.textContent = ok ? 'Copied' : 'Select and copy';
    setTimeout(() => {
      b.textContent = label;
    }, 1500);
  });
  return b;
}

// secretBox shows a new secret once: the rows are [label, value, isSecret].
// The values live only in this box's DOM; dismissing it removes them.
export function secretBox(title, rows) {
  const box = el('section', { class: 'secret-box', 'data-testid': 'secret-once', role: 'alert' });
  const dismiss = el('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'secret-dismiss' }, 'I have saved it');
  dismiss.addEventListener('click', () => box.remove());
  clear(
    box,
    el('h3', {}, title),
    el('p', { class: 'secret-warning' }, 'Copy it now: it will not be shown again.'),
    rows.map(([label, value, secret]) =>
      el(
        'div',
        { class: 'secret-row' },
        el('span', { class: 'secret-label' }, label),
        el('code', { class: secret ? 'secret-value' : 'secret-id', 'data-testid': secret ? 'secret-value' : null }, value),
        copyButton(value, 'Copy', secret ? 'secret-copy' : null),
      ),
    ),
    el('div', { class: 'secret-actions' }, dismiss),
  );
  return box;
}

// confirmDialog asks before something that cannot be undone. With
// requireText set, the button is enabled only once that text is typed.
// Resolves true when confirmed.
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false, requireText = null }) {
  return new Promise((resolve) => {
    const input = requireText
      ? el('input', { type: 'text', class: 'input', 'data-testid': 'confirm-input', autocomplete: 'off', spellcheck: 'false',
        'aria-label': `Type ${requireText} to confirm` })
      : null;
    const ok = el('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', 'data-testid': 'confirm-ok' }, confirmLabel);
    const cancel = el('button', { type: 'button', class: 'btn', 'data-testid': 'confirm-cancel' }, 'Cancel');
    const form = el(
      'form',
      { method: 'dialog', class: 'dialog-body' },
      el('h2', {}, title),
      message ? el('p', {}, message) : null,
      requireText
        ? el('label', { class: 'field' }, el('span', {}, 'Type ', el('code', {}, requireText), ' to confirm'), input)
        : null,
      el('div', { class: 'dialog-actions' }, cancel, ok),
    );
    const dlg = el('dialog', { class: 'dialog', 'data-testid': 'confirm-dialog' }, form);
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    if (input) {
      ok.disabled = true;
      input.addEventListener('input', () => {
        ok.disabled = input.value.trim() !== requireText;
      });
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!ok.disabled) finish(true);
    });
    cancel.addEventListener('click', () => finish(false));
    dlg.addEventListener('cancel', () => finish(false));
    dlg.addEventListener('close', () => finish(false));
    document.body.append(dlg);
    dlg.showModal();
    (input || cancel).focus();
  });
}

// field is a labelled form control.
export function field(label, control, hint) {
  return el('label', { class: 'field' }, el('span', { class: 'field-label' }, label), control, hint ? el('span', { class: 'hint' }, hint) : null);
}

// userLabel names a user: the names, else the email, else the external id, else the id.
export function userLabel(u) {
  const name = [u.first_name, u.last_name].filter(Boolean).join(' ');
  return name || u.email || u.external_user_id || u.id;
}

// userPicker is a search box with a list of matching users. onPick(user)
// is called with the chosen one (also for a user typed by id). The
// returned element has .setUser(user) to preselect.
export function userPicker(api, onPick, { testid = 'user-pick', signal, allowId = true } = {}) {
  const input = el('input', { type: 'search', class: 'input', placeholder: 'Search by name or e-mail', 'data-testid': `${testid}-search`,
    autocomplete: 'off', 'aria-label': 'Search users' });
  const list = el('ul', { class: 'pick-list', 'data-testid': `${testid}-list` });
  const chosen = el('div', { class: 'pick-chosen', 'data-testid': testid, hidden: true });
  const status = el('div', { class: 'pick-status' });
  const wrap = el('div', { class: 'picker' }, input, status, list, chosen);
  let timer = 0;
  let seq = 0;

  const choose = (u) => {
    clear(
      chosen,
      el('span', { class: 'pick-name' }, userLabel(u)),
      el('span', { class: 'muted mono' }, [u.external_user_id, u.id].filter((x, i, a) => x && x !== userLabel(u) && a.indexOf(x) === i).join(' · ')),
      el('button', { type: 'button', class: 'btn btn-small', on: { click: reset } }, 'Change'),
    );
    chosen.dataset.userId = u.id;
    chosen.hidden = false;
    input.hidden = true;
    list.hidden = true;
    status.hidden = true;
    onPick(u);
  };
  function reset() {
    chosen.hidden = true;
    delete chosen.dataset.userId;
    input.hidden = false;
    list.hidden = false;
    status.hidden = false;
    input.focus();
    onPick(null);
  }
  const search = async () => {
    const mine = ++seq;
    const q = input.value.trim();
    clear(status, loading('Searching…'));
    try {
      const params = { limit: 8, sort_by: 'last_synced_at', sort_order: 'desc' };
      if (q) params.search = q;
      const page = await api.get('/api/v1/users', params);
      if (mine !== seq || signal?.aborted) return;
      clear(status);
      clear(
        list,
        page.items.map((u) =>
          el(
            'li',
            {},
            el(
              'button',
              { type: 'button', class: 'pick-item', 'data-testid': `${testid}-item`, 'data-user-id': u.id, on: { click: () => choose(u) } },
              el('span', { class: 'pick-name' }, userLabel(u)),
              el('span', { class: 'muted mono' }, u.external_user_id || u.id),
            ),
          ),
        ),
      );
      if (!page.items.length) {
        clear(status, el('span', { class: 'muted' }, q ? 'No user matches.' : 'No users yet.'));
      }
      if (allowId && q && /^[A-Za-z0-9._:@-]{1,128}$/.test(q) && !page.items.some((u) => u.id === q)) {
        list.append(
          el(
            'li',
            {},
            el('button', { type: 'button', class: 'pick-item pick-raw', 'data-testid': `${testid}-raw`, on: { click: () => choose({ id: q }) } },
              el('span', {}, 'Use the user id '), el('code', {}, q)),
          ),
        );
      }
    } catch (err) {
      if (mine !== seq || err.status === 401) return;
      clear(status, errorBox(err));
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  signal?.addEventListener('abort', () => clearTimeout(timer));
  wrap.setUser = choose;
  search();
  return wrap;
}

// parseRetryAfter reads a Retry-After value as seconds.
export function parseRetryAfter(v) {
  if (!v) return 0;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
  const d = Date.parse(v);
  return Number.isNaN(d) ? 0 : Math.max(0, Math.ceil((d - Date.now()) / 1000));
}
