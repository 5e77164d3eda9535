// Connect a phone: a pairing (invitation) code for a user, shown large and
// as a QR code, with the steps for the Open Wearables app and the SDKs.

import { el, clear, fmtTime, fmtRelative, errorBox, loading, field, userPicker, userLabel, copyButton, notice } from './dom.js';
import qrcode from './qrcode.js';

// qrSvg draws text as a QR code in an SVG element (no markup strings).
export function qrSvg(text, label) {
  const qr = qrcode(0, 'M');
  qr.addData(text, 'Byte');
  qr.make();
  const n = qr.getModuleCount();
  const m = 4;
  const size = n + 2 * m;
  let d = '';
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) d += `M${c + m} ${r + m}h1v1h-1z`;
    }
  }
  return el(
    'svg:svg',
    { viewBox: `0 0 ${size} ${size}`, 'shape-rendering': 'crispEdges', role: 'img', 'aria-label': label },
    el('svg:rect', { width: size, height: size, fill: '#ffffff' }),
    el('svg:path', { d, fill: '#000000' }),
  );
}

// pairingPayload is what the QR code holds. Nothing prescribes a format
// for the Open Wearables apps, so it is a small JSON object with the
// server's address and the code.
function pairingPayload(server, code) {
  return JSON.stringify({ server, code });
}

const LOCAL = /^(localhost|127\.|\[::1\]|0\.0\.0\.0)/;

export async function render(root, ctx) {
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Connect a phone')));
  const canWrite = ctx.session.role === 'admin';
  if (!canWrite) {
    root.append(notice('Pairing a phone creates a code that writes data for a user: it needs an admin account. Ask an admin of this server.'));
    return;
  }
  let user = null;
  const result = el('div', { class: 'stack' });
  const create = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'connect-create', disabled: true }, 'Create a pairing code');
  const picker = userPicker(ctx.api, (u) => {
    user = u;
    create.disabled = !u;
    clear(result);
  }, { testid: 'connect-user', signal: ctx.signal });

  root.append(
    el('p', { class: 'muted' }, 'A pairing code lets a phone sync as one user, with no other credential. It works once, for 7 days; a new code for the same user replaces the previous one.'),
    el('section', { class: 'card' }, el('h2', {}, '1. Choose the user'), el('p', { class: 'muted small' }, 'Search for the person, or type a user id: a user that does not exist yet is created.'), picker,
      el('div', { class: 'actions', 'data-align': 'start' }, create)),
    result,
  );

  create.addEventListener('click', async () => {
    if (!user) return;
    create.disabled = true;
    clear(result, loading('Creating the code…'));
    try {
      const inv = await ctx.api.send('POST', `/api/v1/users/${encodeURIComponent(user.id)}/invitation-code`);
      if (ctx.signal.aborted) return;
      showCode(inv, user);
    } catch (err) {
      if (err.status !== 401) clear(result, errorBox(err, 'connect-error'));
    } finally {
      create.disabled = !user;
    }
  });

  const showCode = (inv, u) => {
    const server = el('input', { type: 'url', class: 'input mono', 'data-testid': 'connect-server', value: location.origin, spellcheck: 'false',
      'aria-label': 'Server address' });
    const qrBox = el('div', { class: 'qr', 'data-testid': 'connect-qr' });
    const warn = el('div', {});
    const drawQr = () => {
      const s = server.value.trim().replace(/\/+$/, '');
      clear(qrBox, qrSvg(pairingPayload(s, inv.code), `QR code with the server address and the pairing code ${inv.code}`));
      qrBox.dataset.payload = 'server+code';
      const host = (() => {
        try {
          return new URL(s).host;
        } catch {
          return '';
        }
      })();
      clear(warn, LOCAL.test(host)
        ? el('div', { class: 'alert alert-warn' }, `${host} is this computer: a phone cannot reach it there. Enter the address the phone reaches the server at (its address on your network, or its HTTPS name).`)
        : null);
    };
    server.addEventListener('input', drawQr);
    drawQr();
    const codeText = inv.code;
    clear(
      result,
      el(
        'section',
        { class: 'card', 'data-testid': 'connect-result' },
        el('h2', {}, `2. Pair the phone of ${userLabel(u)}`),
        el(
          'div',
          { class: 'pairing' },
          el(
            'div',
            {},
            field('Server address', server, 'As the phone reaches it.'),
            warn,
            el('div', { class: 'field-label' }, 'Pairing code'),
            el('div', { class: 'pair-code', 'data-testid': 'connect-code', 'aria-live': 'polite' }, codeText),
            el('div', { class: 'actions', 'data-align': 'start' }, copyButton(codeText, 'Copy code', 'connect-copy-code'), copyButton(() => server.value.trim(), 'Copy address')),
            el('p', { class: 'muted', 'data-testid': 'connect-expiry' }, `Expires ${fmtTime(inv.expires_at)} (${fmtRelative(inv.expires_at)}). It works once.`),
          ),
          el('div', {}, qrBox, el('p', { class: 'muted small qr-caption' }, 'The QR code holds {"server": address, "code": code}.')),
        ),
      ),
      el(
        'div',
        { class: 'cols section' },
        el(
          'section',
          { class: 'card' },
          el('h3', {}, 'Open Wearables app'),
          el(
            'ol',
            { class: 'steps' },
            el('li', {}, 'Open the app and choose to connect with an invitation code.'),
            el('li', {}, 'Enter the server address and the code above (or scan the QR code where the app offers it).'),
            el('li', {}, 'Allow access to the health data the app asks for.'),
            el('li', {}, 'The app syncs from now on; the user\u2019s page shows each sync as it arrives.'),
          ),
        ),
        el(
          'section',
          { class: 'card' },
          el('h3', {}, 'iOS, Android or Flutter SDK in your app'),
          el(
            'ol',
            { class: 'steps' },
            el('li', {}, 'Redeem the code: ', el('code', {}, 'POST /api/v1/invitation-code/redeem'), ' with the body ', el('code', {}, '{"code": "…"}'), '. No other credential is needed.'),
            el('li', {}, 'The answer holds ', el('code', {}, 'access_token'), ', ', el('code', {}, 'refresh_token'), ' and ', el('code', {}, 'user_id'), '. Keep them in the phone\u2019s keychain or keystore.'),
            el('li', {}, 'Configure the SDK with the server address and the tokens, then start syncing: it sends batches to ', el('code', {}, '/api/v1/sdk/users/{user_id}/sync'), '.'),
          ),
        ),
      ),
    );
  };
}
