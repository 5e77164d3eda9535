// Exports: download links for a user's time series (CSV), each workout's
// route (GPX) and, for admins, a backup of the whole store. The links hold
// ids, dates and type names only.

import { el, clear, fmtTime, fmtDuration, fmtNum, errorBox, loading, field, userPicker, userLabel, localDate } from './dom.js';

// The window is of local days: from the start of the first day to the
// start of the day after the last, sent as UTC instants.
function windowOf(startDay, endDay) {
  const [y1, m1, d1] = startDay.split('-').map(Number);
  const [y2, m2, d2] = endDay.split('-').map(Number);
  return { start: new Date(y1, m1 - 1, d1).toISOString(), end: new Date(y2, m2 - 1, d2 + 1).toISOString() };
}

export async function render(root, ctx) {
  const isAdmin = ctx.session.role === 'admin';
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Exports')));
  let user = null;
  const today = new Date();
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 29);
  const start = el('input', { type: 'date', class: 'input', 'data-testid': 'export-start', value: localDate(from) });
  const end = el('input', { type: 'date', class: 'input', 'data-testid': 'export-end', value: localDate(today) });
  const types = el('input', { type: 'text', class: 'input', 'data-testid': 'export-types', placeholder: 'heart_rate, steps', autocomplete: 'off', spellcheck: 'false' });
  const links = el('div', {});
  const picker = userPicker(ctx.api, (u) => {
    user = u;
    draw();
  }, { testid: 'export-user', signal: ctx.signal, allowId: true });

  root.append(
    el('section', { class: 'card' }, el('h2', {}, 'A user\u2019s data'), picker,
      el('div', { class: 'form-row section-gap' }, field('From', start), field('To (included)', end),
        field('Series (optional)', types, 'Type names, separated by commas; empty for every series.'))),
    links,
  );
  if (isAdmin) {
    root.append(el('section', { class: 'card section-gap', 'data-testid': 'export-backup-section' }, el('h2', {}, 'Backup of the whole store'),
      el('p', { class: 'muted' }, 'A consistent copy of everything stored, with the admin key file, as a tar archive. Keep it safe: it holds every user\u2019s data. ',
        el('code', {}, 'wearhouse restore'), ' puts it in place.'),
      el('a', { href: '/api/v1/admin/backup', class: 'btn', download: '', 'data-testid': 'export-backup' }, 'Download the backup')));
  }

  let seq = 0;
  const draw = async () => {
    const mine = ++seq;
    if (!user) {
      clear(links);
      return;
    }
    if (!start.value || !end.value || start.value > end.value) {
      clear(links, errorBox({ detail: 'Choose a start date on or before the end date.' }, 'export-error'));
      return;
    }
    const w = windowOf(start.value, end.value);
    const base = `/api/v1/users/${encodeURIComponent(user.id)}`;
    const q = new URLSearchParams({ start_time: w.start, end_time: w.end });
    for (const t of types.value.split(/[\s,]+/).filter(Boolean)) q.append('types', t);
    const csvName = `${user.external_user_id || user.id}-${start.value}-${end.value}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
    const workouts = el('div', {}, loading('Loading the workouts…'));
    clear(
      links,
      el('section', { class: 'card section-gap' }, el('h2', {}, `Time series of ${userLabel(user)}`),
        el('p', { class: 'muted' }, `Every raw sample from ${start.value} to ${end.value} (local days), one line each, streamed.`),
        el('a', { href: `${base}/timeseries.csv?${q}`, class: 'btn btn-primary', download: csvName, 'data-testid': 'export-csv' }, 'Download CSV')),
      el('section', { class: 'card section-gap' }, el('h2', {}, 'Workout routes (GPX)'), workouts),
    );
    const all = [];
    let cursor = null;
    try {
      for (let i = 0; i < 20; i++) {
        const page = await ctx.api.get(`${base}/events/workouts`, { start_date: w.start, end_date: w.end, limit: 100, cursor });
        if (mine !== seq) return;
        all.push(...page.data);
        cursor = page.pagination && page.pagination.has_more ? page.pagination.next_cursor : null;
        if (!cursor) break;
      }
    } catch (err) {
      if (mine === seq && err.status !== 401 && err.name !== 'AbortError') clear(workouts, errorBox(err, 'export-error'));
      return;
    }
    if (!all.length) {
      clear(workouts, el('p', { class: 'muted', 'data-testid': 'export-no-workouts' }, 'No workouts in this window.'));
      return;
    }
    clear(
      workouts,
      el('p', { class: 'muted' }, 'A workout recorded without GPS has no route: its link answers that there is none.'),
      el('ul', { class: 'link-list', 'data-testid': 'export-workouts' }, all.map((wk) => el('li', { 'data-testid': 'export-workout', 'data-workout-id': wk.id },
        el('span', {}, el('strong', {}, wk.name || wk.type), ' ', el('span', { class: 'muted' },
          `${fmtTime(wk.start_time)} · ${fmtDuration(wk.duration_seconds)}${wk.distance_meters ? ` · ${fmtNum(wk.distance_meters / 1000, 2)} km` : ''}`)),
        el('a', { href: `${base}/events/workouts/${encodeURIComponent(wk.id)}/route.gpx`, class: 'btn btn-small', download: `${wk.id}.gpx`, 'data-testid': 'export-gpx' }, 'GPX')))),
    );
  };
  let timer = 0;
  for (const i of [start, end, types]) {
    i.addEventListener('change', draw);
    i.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(draw, 400);
    });
  }
  ctx.signal.addEventListener('abort', () => clearTimeout(timer));
}
