// Overview: the server's figures, refreshed every 2 s while the page is open.

import { el, clear, fmtNum, fmtBytes, fmtTime, fmtDuration, errorBox, loading } from './dom.js';

const EVERY = 2000;

export async function render(root, ctx) {
  const live = el('span', { class: 'live', 'data-testid': 'overview-live' }, el('span', { class: 'live-dot' }), 'Live');
  const body = el('div', {}, loading());
  const err = el('div', {});
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Overview'), live), err, body);

  const stat = (testid, label) => {
    const value = el('div', { class: 'stat-value', 'data-testid': testid }, '–');
    const sub = el('div', { class: 'stat-sub' });
    const box = el('div', { class: 'stat' }, el('div', { class: 'stat-label' }, label), value, sub);
    return { box, value, sub };
  };
  const users = stat('overview-users', 'Users');
  const phones = stat('overview-phones', 'Phones synced (24 h)');
  const rps = stat('overview-rps', 'Records per second');
  const ips = stat('overview-ips', 'Indexed per second');
  const lag = stat('overview-lag', 'Compactor lag');
  const aside = stat('overview-set-aside', 'Batches set aside');

  const diskValue = el('div', { class: 'stat-value' }, '–');
  const diskSub = el('div', { class: 'stat-sub' });
  const used = el('div', { class: 'bar-used' });
  const reserve = el('div', { class: 'bar-reserve' });
  const bar = el('div', { class: 'bar', role: 'img' }, used, reserve);
  const disk = el(
    'div',
    { class: 'stat stat-wide', 'data-testid': 'overview-disk' },
    el('div', { class: 'stat-label' }, 'Disk free'),
    diskValue,
    bar,
    el('div', { class: 'legend' }, el('span', {}, el('span', { class: 'swatch swatch-used' }), 'used'),
      el('span', {}, el('span', { class: 'swatch swatch-free' }), 'free'),
      el('span', {}, el('span', { class: 'swatch swatch-reserve' }), 'reserve (refused below)')),
    diskSub,
  );
  const errorsBody = el('tbody', {});
  const errorsBox = el('div', { 'data-testid': 'overview-errors' });
  const grid = el('div', { class: 'stats' }, users.box, phones.box, rps.box, ips.box, lag.box, aside.box, disk);
  let first = true;
  let failures = 0;

  const update = (o) => {
    users.value.textContent = fmtNum(o.users);
    phones.value.textContent = fmtNum(o.phones_24h);
    rps.value.textContent = fmtNum(o.records_per_second);
    ips.value.textContent = fmtNum(o.indexed_per_second);
    const c = o.compactor || {};
    lag.value.textContent = `${fmtNum(c.lag_batches)} ${c.lag_batches === 1 ? 'batch' : 'batches'}`;
    lag.sub.textContent = `${fmtDuration(c.lag_seconds)} behind`;
    aside.value.textContent = fmtNum(c.set_aside_batches);
    aside.sub.textContent = c.set_aside_batches ? 'Could not be indexed; kept for inspection.' : 'None.';
    aside.value.classList.toggle('text-danger', !!c.set_aside_batches);
    const d = o.disk || {};
    const total = d.total_bytes || 0;
    const free = d.free_bytes || 0;
    const res = d.reserve_bytes || 0;
    diskValue.textContent = fmtBytes(free);
    diskSub.textContent = `of ${fmtBytes(total)} · reserve ${fmtBytes(res)}${free <= res ? ' · below the reserve: syncs are refused' : ''}`;
    if (total > 0) {
      used.style.width = `${Math.min(100, Math.max(0, ((total - free) / total) * 100)).toFixed(2)}%`;
      reserve.style.width = `${Math.min(100, (res / total) * 100).toFixed(2)}%`;
    }
    used.classList.toggle('low', free <= res * 1.5);
    bar.setAttribute('aria-label', `${fmtBytes(free)} free of ${fmtBytes(total)}, reserve ${fmtBytes(res)}`);
    const errs = o.recent_errors || [];
    if (!errs.length) {
      clear(errorsBox, el('div', { class: 'card empty' }, 'No sync errors lately.'));
    } else {
      clear(
        errorsBody,
        errs.map((e) =>
          el(
            'tr',
            {},
            el('td', {}, fmtTime(e.time, true)),
            el('td', { class: 'nowrap' }, e.user_id ? el('a', { href: `/console/users/${encodeURIComponent(e.user_id)}`, class: 'mono' }, e.user_id) : '–'),
            el('td', {}, el('span', { class: `badge ${e.status >= 500 ? 'badge-err' : 'badge-warn'}` }, String(e.status ?? '–'))),
            el('td', {}, e.detail || ''),
          ),
        ),
      );
      if (!errorsBody.isConnected) {
        clear(errorsBox, el('div', { class: 'table-wrap' }, el('table', {},
          el('thead', {}, el('tr', {}, el('th', {}, 'Time'), el('th', {}, 'User'), el('th', {}, 'Status'), el('th', {}, 'Detail'))), errorsBody)));
      }
    }
  };

  let timer = 0;
  const tick = async () => {
    try {
      const o = await ctx.api.get('/api/v1/console/overview', null, { background: true });
      if (ctx.signal.aborted) return;
      failures = 0;
      clear(err);
      live.lastChild.textContent = 'Live';
      live.firstChild.classList.remove('stale');
      if (first) {
        first = false;
        clear(body, grid, el('section', { class: 'section' }, el('h2', {}, 'Last sync errors'), errorsBox));
      }
      update(o);
    } catch (e) {
      if (ctx.signal.aborted || e.name === 'AbortError' || e.status === 401) return;
      failures++;
      live.firstChild.classList.add('stale');
      live.lastChild.textContent = 'Not updating';
      clear(err, errorBox(e));
      if (first) clear(body);
    }
    if (!ctx.signal.aborted) timer = setTimeout(tick, failures ? Math.min(EVERY * 2 ** failures, 30000) : EVERY);
  };
  ctx.signal.addEventListener('abort', () => clearTimeout(timer));
  await tick();
  return () => clearTimeout(timer);
}
