// The console's shell: the session, the router on location.pathname, the
// navigation bar, the login and setup views. Pages are modules loaded on
// demand; each exports render(root, ctx) and may return a cleanup.

import { createApi } from './api.js';
import { el, clear, errorBox, loading, field, parseRetryAfter } from './dom.js';

const app = document.getElementById('app');

let session = null; // {email, role, csrf_token, idle_timeout_seconds, expires_at}
let returnTo = null; // where the user was going when asked to log in
let page = null; // {controller, cleanup}
let lastActivity = Date.now();

const api = createApi({
  getSession: () => session,
  onUnauthorized: () => sessionEnded('Your session ended. Log in again to continue.'),
});

// Requests of this tab count as activity for the idle check below.
const rawRequest = api.request;
api.request = (...args) => {
  lastActivity = Date.now();
  return rawRequest(...args);
};
for (const m of ['get', 'send']) {
  const f = api[m];
  api[m] = (...args) => {
    lastActivity = Date.now();
    return f(...args);
  };
}

const NAV = [
  { href: '/console/', label: 'Overview', key: 'overview' },
  { href: '/console/users', label: 'Users', key: 'users' },
  { href: '/console/connect', label: 'Connect', key: 'connect', write: true },
  { href: '/console/credentials', label: 'Credentials', key: 'credentials', admin: true },
  { href: '/console/accounts', label: 'Accounts', key: 'accounts' },
  { href: '/console/import', label: 'Import', key: 'import', write: true },
  { href: '/console/exports', label: 'Exports', key: 'exports' },
  { href: '/console/audit', label: 'Audit', key: 'audit', admin: true },
];

const ROUTES = [
  { re: /^\/console\/?$/, mod: 'page-overview.js', key: 'overview', title: 'Overview' },
  { re: /^\/console\/users\/?$/, mod: 'page-users.js', key: 'users', title: 'Users' },
  { re: /^\/console\/users\/([^/]+)\/?$/, mod: 'page-user.js', key: 'users', title: 'User' },
  { re: /^\/console\/connect\/?$/, mod: 'page-connect.js', key: 'connect', title: 'Connect a phone' },
  { re: /^\/console\/credentials\/?$/, mod: 'page-credentials.js', key: 'credentials', title: 'Credentials' },
  { re: /^\/console\/accounts\/?$/, mod: 'page-accounts.js', key: 'accounts', title: 'Accounts' },
  { re: /^\/console\/import\/?$/, mod: 'page-import.js', key: 'import', title: 'Import' },
  { re: /^\/console\/exports\/?$/, mod: 'page-exports.js', key: 'exports', title: 'Exports' },
  { re: /^\/console\/audit\/?$/, mod: 'page-audit.js', key: 'audit', title: 'Audit trail' },
];

const LOGIN = '/console/login';

function setTitle(t) {
  document.title = t ? `${t} · wearhouse` : 'wearhouse console';
}

// leavePage stops the current page: its requests, timers and streams.
function leavePage() {
  if (!page) return;
  const p = page;
  page = null;
  p.controller.abort();
  try {
    if (typeof p.cleanup === 'function') p.cleanup();
  } catch (err) {
    /* a page's cleanup failing must not block the next page */
  }
}

// removeOverlays closes dialogs a page left open (a confirmation).
function removeOverlays() {
  for (const d of document.querySelectorAll('body > dialog')) {
    d.close();
    d.remove();
  }
}

// navigate goes to a console URL without reloading.
export function navigate(url, { replace = false } = {}) {
  const u = new URL(url, location.origin);
  if (u.origin !== location.origin) {
    location.assign(u.href);
    return;
  }
  if (replace) history.replaceState(null, '', u.pathname + u.search + u.hash);
  else if (u.pathname + u.search + u.hash !== location.pathname + location.search + location.hash) {
    history.pushState(null, '', u.pathname + u.search + u.hash);
  }
  route();
}

// sessionEnded drops everything the page showed and asks to log in.
function sessionEnded(message) {
  const wasIn = session !== null;
  // A late 401 of a request sent before must not wipe a login form
  // the user is typing into.
  if (!wasIn && app.querySelector('[data-testid=login-email]')) return;
  session = null;
  leavePage();
  removeOverlays();
  if (location.pathname !== LOGIN && location.pathname !== '/setup') returnTo = location.pathname + location.search;
  if (location.pathname !== LOGIN) history.replaceState(null, '', LOGIN);
  showLogin(wasIn || message ? message : '');
}

function navBar(active) {
  const isAdmin = session.role === 'admin';
  const links = NAV.filter((n) => (!n.admin && !n.write) || isAdmin).map((n) =>
    el('a', { href: n.href, class: 'nav-link', 'data-testid': `nav-${n.key}`, 'aria-current': n.key === active ? 'page' : null }, n.label),
  );
  const logout = el('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'nav-logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      await api.send('POST', '/api/v1/console/logout', null);
    } catch {
      /* the session is dropped here whatever the server answered */
    }
    session = null;
    leavePage();
    removeOverlays();
    returnTo = null;
    history.replaceState(null, '', LOGIN);
    showLogin('You are logged out.');
  });
  return el(
    'header',
    { class: 'topbar' },
    el(
      'div',
      { class: 'topbar-inner' },
      el('a', { href: '/console/', class: 'brand' }, el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'wearhouse'),
      el('nav', { class: 'nav', 'aria-label': 'Console' }, links),
      el(
        'div',
        { class: 'whoami' },
        el(
          'a',
          { href: '/console/accounts', class: 'account', 'data-testid': 'nav-account', title: 'Your account' },
          el('span', { class: 'account-email' }, session.email),
          el('span', { class: `role role-${session.role}` }, session.role),
        ),
        logout,
      ),
    ),
  );
}

// route renders the page of location.pathname.
async function route() {
  const path = location.pathname;
  removeOverlays();
  if (path === '/setup' || path === '/setup/') return showSetup();
  if (!session) {
    if (path !== LOGIN) returnTo = path + location.search;
    clear(app, el('div', { class: 'boot' }, loading('Loading the console…')));
    try {
      session = await api.request('GET', '/api/v1/console/session', null, { auth: false });
    } catch (err) {
      if (err.status === 401) {
        if (path !== LOGIN) history.replaceState(null, '', LOGIN);
        return showLogin('');
      }
      return clear(app, el('main', { class: 'center-page' }, el('div', { class: 'card narrow' }, el('h1', {}, 'wearhouse'), errorBox(err),
        el('button', { class: 'btn', type: 'button', on: { click: () => route() } }, 'Try again'))));
    }
  }
  if (path === LOGIN) {
    const to = returnTo || '/console/';
    returnTo = null;
    return navigate(to, { replace: true });
  }
  let m = null;
  let r = null;
  for (const x of ROUTES) {
    m = path.match(x.re);
    if (m) {
      r = x;
      break;
    }
  }
  leavePage();
  const root = el('main', { class: 'page', id: 'main' });
  clear(app, navBar(r ? r.key : ''), root);
  if (!r) {
    setTitle('Not found');
    clear(root, el('h1', {}, 'Page not found'), el('p', {}, 'There is no console page at this address. ', el('a', { href: '/console/' }, 'Go to the overview')));
    return;
  }
  setTitle(r.title);
  const controller = new AbortController();
  const current = { controller, cleanup: null };
  page = current;
  const signal = controller.signal;
  const ctx = {
    userId: m[1] ? decodeURIComponent(m[1]) : undefined,
    session: { ...session },
    api: pageApi(signal),
    navigate: (url) => navigate(url),
    el,
    signal,
    setTitle,
  };
  clear(root, loading());
  let mod;
  try {
    mod = await import(`/console/assets/${r.mod}`);
  } catch (err) {
    if (page !== current) return;
    clear(root, el('h1', {}, r.title), errorBox({ detail: `This page could not be loaded (${r.mod}). Reload to try again.` }));
    return;
  }
  if (page !== current) return;
  clear(root);
  try {
    const cleanup = await mod.render(root, ctx);
    if (page === current) current.cleanup = cleanup;
    else if (typeof cleanup === 'function') cleanup();
  } catch (err) {
    if (page !== current || err.name === 'AbortError' || err.status === 401) return;
    root.append(errorBox(err));
  }
}

// pageApi is ctx.api for one page: its requests and streams end with it.
function pageApi(signal) {
  return {
    get: (path, params, opts) => api.get(path, params, { signal, ...opts }),
    send: (method, path, body, opts) => api.send(method, path, body, { signal, ...opts }),
    stream: (path, onEvent) => {
      const close = api.stream(path, onEvent);
      signal.addEventListener('abort', close, { once: true });
      return close;
    },
    upload: (path, file, opts) => api.upload(path, file, { signal, ...opts }),
  };
}

function centerCard(...children) {
  return el('main', { class: 'center-page' }, el('div', { class: 'card narrow' }, el('div', { class: 'brand brand-large' },
    el('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'wearhouse'), children));
}

function showLogin(message) {
  leavePage();
  setTitle('Log in');
  const email = el('input', { type: 'email', class: 'input', name: 'email', autocomplete: 'username', required: true, 'data-testid': 'login-email' });
  const password = el('input', { type: 'password', class: 'input', name: 'password', autocomplete: 'current-password', required: true,
    'data-testid': 'login-password' });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-submit' }, 'Log in');
  const error = el('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
  const form = el(
    'form',
    { class: 'form', novalidate: true },
    el('h1', {}, 'Log in'),
    message ? el('div', { class: 'alert alert-info', role: 'status', 'data-testid': 'login-message' }, message) : null,
    field('E-mail', email),
    field('Password', password),
    error,
    submit,
  );
  let timer = 0;
  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };
  const throttled = (secs) => {
    clearInterval(timer);
    submit.disabled = true;
    let left = secs;
    const tick = () => {
      if (left <= 0) {
        clearInterval(timer);
        submit.disabled = false;
        showError('You may try again now.');
        return;
      }
      showError(`Too many attempts. Try again in ${left} s.`);
      left--;
    };
    tick();
    timer = setInterval(tick, 1000);
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!email.value.trim() || !password.value) {
      showError('Enter your e-mail and password.');
      return;
    }
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const s = await api.request('POST', '/api/v1/console/login', { email: email.value.trim(), password: password.value }, { auth: false });
      password.value = '';
      session = s;
      lastActivity = Date.now();
      const to = returnTo && returnTo !== LOGIN ? returnTo : '/console/';
      returnTo = null;
      navigate(to, { replace: true });
      return;
    } catch (err) {
      submit.textContent = 'Log in';
      submit.disabled = false;
      if (err.status === 401) {
        showError('Wrong e-mail or password.');
        password.value = '';
        password.focus();
      } else if (err.status === 429) {
        throttled(parseRetryAfter(err.headers && err.headers.get('Retry-After')) || 60);
      } else {
        showError(err.detail || 'The login failed.');
      }
    }
  });
  clear(app, centerCard(form));
  email.focus();
}

async function showSetup() {
  leavePage();
  setTitle('Set up');
  const token = new URLSearchParams(location.search).get('token') || '';
  clear(app, centerCard(loading()));
  let needed;
  try {
    needed = (await api.request('GET', '/api/v1/console/setup', null, { auth: false })).needed;
  } catch (err) {
    clear(app, centerCard(el('h1', {}, 'Set up'), errorBox(err, 'setup-error')));
    return;
  }
  if (!needed) {
    clear(app, centerCard(el('h1', {}, 'Already set up'), el('p', { 'data-testid': 'setup-done' }, 'This server has its first admin account. Log in with it; more accounts are added under Accounts.'),
      el('a', { href: LOGIN, class: 'btn btn-primary btn-block', 'data-testid': 'setup-login' }, 'Go to log in')));
    return;
  }
  if (!token) {
    clear(app, centerCard(el('h1', {}, 'Set up'), el('div', { class: 'alert alert-error', 'data-testid': 'setup-error' },
      'This address has no setup token. Open the setup link that the server printed when it started (it ends in ?token=…).')));
    return;
  }
  const email = el('input', { type: 'email', class: 'input', autocomplete: 'username', required: true, 'data-testid': 'setup-email' });
  const pw = el('input', { type: 'password', class: 'input', autocomplete: 'new-password', required: true, minlength: 12, 'data-testid': 'setup-password' });
  const pw2 = el('input', { type: 'password', class: 'input', autocomplete: 'new-password', required: true, minlength: 12, 'data-testid': 'setup-password2' });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'setup-submit' }, 'Create the admin account');
  const error = el('div', { class: 'alert alert-error', role: 'alert', 'data-testid': 'setup-error', hidden: true });
  const form = el(
    'form',
    { class: 'form', novalidate: true },
    el('h1', {}, 'Set up wearhouse'),
    el('p', { class: 'muted' }, 'Create the first admin account of this console.'),
    field('E-mail', email),
    field('Password', pw, 'At least 12 characters.'),
    field('Password again', pw2),
    error,
    submit,
  );
  const showError = (t) => {
    error.textContent = t;
    error.hidden = false;
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    if (!email.value.trim()) return showError('Enter an e-mail address.');
    if (pw.value.length < 12) return showError('The password needs at least 12 characters.');
    if (pw.value !== pw2.value) return showError('The two passwords differ.');
    submit.disabled = true;
    try {
      const s = await api.request('POST', '/api/v1/console/setup', { token, email: email.value.trim(), password: pw.value }, { auth: false });
      pw.value = '';
      pw2.value = '';
      session = s;
      lastActivity = Date.now();
      history.replaceState(null, '', '/console/');
      route();
    } catch (err) {
      submit.disabled = false;
      if (err.status === 403) showError('The setup token is wrong or has expired. Use the setup link the server printed.');
      else if (err.status === 409) showError('This server is already set up: log in instead.');
      else showError(err.detail || 'The setup failed.');
    }
  });
  clear(app, centerCard(form));
  email.focus();
}

// Links inside the console move without a reload.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const u = new URL(a.href, location.href);
  if (u.origin !== location.origin || !(u.pathname.startsWith('/console/') || u.pathname === '/console')) return;
  e.preventDefault();
  navigate(u.pathname + u.search + u.hash);
});

window.addEventListener('popstate', () => route());

// A page that knows the session ended (a password change) says so.
window.addEventListener('wh:session-ended', (e) => {
  returnTo = null;
  sessionEnded(e.detail || 'Your session ended. Log in again to continue.');
  returnTo = null;
});

// Idle check: a tab left alone past the session's idle time asks the
// server once; a session that ended there answers 401 and the page goes.
setInterval(() => {
  if (!session || document.hidden) return;
  const idle = (session.idle_timeout_seconds || 900) * 1000;
  if (Date.now() - lastActivity > idle + 5000) {
    lastActivity = Date.now();
    api.request('GET', '/api/v1/console/session', null, { background: true }).then((s) => {
      if (s && session) session = { ...session, ...s };
    }).catch(() => {});
  }
}, 15000);

route();
