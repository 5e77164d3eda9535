// Import: upload an Apple Health export (export.zip or export.xml) for a
// user, with the upload's progress, then follow the import on the server.

import { el, clear, fmtNum, fmtBytes, fmtTime, errorBox, field, userPicker, userLabel, notice } from './dom.js';

const POLL = 1000;
const DONE = new Set(['completed', 'failed']);

const STATE_TEXT = {
  uploading: 'Uploading',
  queued: 'Queued',
  reading: 'Reading the export',
  indexing: 'Indexing',
  completed: 'Completed',
  failed: 'Failed',
};

export async function render(root, ctx) {
  root.append(el('div', { class: 'page-head' }, el('h1', {}, 'Import an Apple Health export')));
  if (ctx.session.role !== 'admin') {
    root.append(notice('Importing writes data: it needs an admin account.'));
    return;
  }
  let user = null;
  let file = null;
  let busy = false;
  const file_ = el('input', { type: 'file', class: 'input', 'data-testid': 'import-file', accept: '.zip,.xml,application/zip,application/xml,text/xml' });
  const fileInfo = el('div', { class: 'hint', 'data-testid': 'import-file-info' });
  const submit = el('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'import-submit', disabled: true }, 'Upload and import');
  const out = el('div', { class: 'stack' });
  const picker = userPicker(ctx.api, (u) => {
    user = u;
    update();
  }, { testid: 'import-user', signal: ctx.signal });
  const update = () => {
    submit.disabled = busy || !user || !file;
  };
  file_.addEventListener('change', () => {
    file = file_.files && file_.files[0] ? file_.files[0] : null;
    if (!file) fileInfo.textContent = '';
    else {
      const ok = /\.(zip|xml)$/i.test(file.name);
      fileInfo.textContent = `${file.name}, ${fmtBytes(file.size)}${ok ? '' : ' — this does not look like export.zip or export.xml; the server will refuse it if it is not one.'}`;
    }
    update();
  });

  root.append(
    el('p', { class: 'muted' }, 'On the iPhone: Health → your picture → Export All Health Data makes export.zip. Samples the phone already synced, or an earlier import of the same export, are recognised and stored once.'),
    el('section', { class: 'card' }, el('h2', {}, '1. Choose the user'), picker),
    el('section', { class: 'card' }, el('h2', {}, '2. Choose the export'), field('export.zip or export.xml', file_), fileInfo,
      el('div', { class: 'actions', 'data-align': 'start' }, submit)),
    out,
  );

  submit.addEventListener('click', async () => {
    if (!user || !file) return;
    busy = true;
    update();
    const u = user;
    const f = file;
    const bar = el('progress', { 'data-testid': 'import-progress', max: f.size || 1, value: 0 });
    const line = el('div', { class: 'progress-line' }, el('span', {}, `0 of ${fmtBytes(f.size)}`), el('span', {}, '0 %'));
    const state = el('span', { class: 'badge badge-info', 'data-testid': 'import-state', 'data-state': 'uploading' }, STATE_TEXT.uploading);
    const detail = el('div', {});
    const cancel = el('button', { type: 'button', class: 'btn btn-small' }, 'Cancel upload');
    const upCtl = new AbortController();
    ctx.signal.addEventListener('abort', () => upCtl.abort(), { once: true });
    cancel.addEventListener('click', () => upCtl.abort());
    clear(out, el('section', { class: 'card', 'data-testid': 'import-status' },
      el('div', { class: 'page-head' }, el('h2', {}, `Import for ${userLabel(u)}`), state),
      el('div', { class: 'field-label' }, 'Upload'), bar, line, el('div', { class: 'actions', 'data-align': 'start' }, cancel), detail));
    let accepted;
    try {
      accepted = await ctx.api.upload(`/api/v1/users/${encodeURIComponent(u.id)}/import/apple-health`, f, {
        signal: upCtl.signal,
        onProgress: (loaded, total) => {
          bar.max = total || 1;
          bar.value = loaded;
          const pct = total ? Math.floor((loaded / total) * 100) : 0;
          line.firstChild.textContent = `${fmtBytes(loaded)} of ${fmtBytes(total)}`;
          line.lastChild.textContent = `${pct} %`;
          if (loaded >= total) line.firstChild.textContent = `${fmtBytes(total)} sent; the server writes it to disk…`;
        },
      });
    } catch (err) {
      busy = false;
      update();
      cancel.remove();
      if (ctx.signal.aborted || err.status === 401) return;
      setState(state, 'failed', err.name === 'AbortError' ? 'Cancelled' : 'Upload failed');
      clear(detail, err.name === 'AbortError' ? notice('The upload was cancelled; nothing was imported.') : errorBox(
        err.status === 507 ? { detail: err.detail || 'The server\u2019s disk is too full for this export.' }
          : err.status === 413 ? { detail: err.detail || 'The export is larger than the server accepts (--max-import).' } : err, 'import-error'));
      return;
    }
    cancel.remove();
    bar.value = bar.max;
    line.firstChild.textContent = `${fmtBytes(accepted.bytes ?? f.size)} on the server (${accepted.format || 'export'})`;
    line.lastChild.textContent = '100 %';
    busy = false;
    update();
    follow(ctx, u, accepted, state, detail);
  });
}

function setState(badge, s, text) {
  badge.dataset.state = s;
  badge.textContent = text || STATE_TEXT[s] || s;
  badge.className = `badge ${s === 'completed' ? 'badge-ok' : s === 'failed' ? 'badge-err' : 'badge-info'}`;
}

// follow polls the import's status every second until it ends.
function follow(ctx, u, accepted, badge, box) {
  const read = el('progress', { 'data-testid': 'import-read-progress', max: 1, value: 0 });
  const line = el('div', { class: 'progress-line' }, el('span', {}), el('span', {}));
  const counts = el('div', { class: 'counts', 'data-testid': 'import-counts' });
  const err = el('div', {});
  const tail = el('p', { class: 'muted small' }, 'You may leave this page: the import goes on on the server and resumes after a restart. ',
    el('a', { href: `/console/users/${encodeURIComponent(u.id)}` }, 'Open the user'), '.');
  clear(box, el('div', { class: 'field-label section-gap' }, 'Import'), read, line, counts, err, tail);
  setState(badge, 'queued');
  const url = accepted.status_url || `/api/v1/users/${encodeURIComponent(u.id)}/import/apple-health/${encodeURIComponent(accepted.import_id)}`;
  let timer = 0;
  const tick = async () => {
    let st;
    try {
      st = await ctx.api.get(url);
    } catch (e) {
      if (ctx.signal.aborted || e.name === 'AbortError' || e.status === 401) return;
      clear(err, errorBox(e));
      timer = setTimeout(tick, POLL * 3);
      return;
    }
    if (ctx.signal.aborted) return;
    clear(err);
    setState(badge, st.state);
    const run = st.run || {};
    const im = (run.metadata && run.metadata.import) || {};
    const total = im.bytes_total || st.bytes || 0;
    const done = st.state === 'completed' ? total : im.bytes_read || 0;
    read.max = total || 1;
    read.value = Math.min(done, total || 1);
    line.firstChild.textContent = total ? `${fmtBytes(done)} of ${fmtBytes(total)} read` : 'Waiting to start';
    const items = run.items_total ? `${fmtNum(run.items_processed || 0)} of ${fmtNum(run.items_total)} items indexed` : '';
    line.lastChild.textContent = items || (total ? `${Math.floor((done / total) * 100)} %` : '');
    const c = [
      ['Records', im.records_read],
      ['Sleep stages', im.sleep_stages_read],
      ['Workouts', im.workouts_read],
      ['Routes', im.routes_read],
      ['Activity summaries', im.activity_summaries_read],
      ['Already stored', im.duplicates_skipped],
      ['Kept unconverted', im.kept_unconverted],
    ];
    const dropped = im.dropped_by_reason ? Object.entries(im.dropped_by_reason) : [];
    clear(
      counts,
      c.map(([label, v]) => el('div', { class: 'count' }, el('div', { class: 'count-value' }, fmtNum(v || 0)), el('div', { class: 'count-label' }, label))),
      dropped.map(([reason, n]) => el('div', { class: 'count' }, el('div', { class: 'count-value' }, fmtNum(n)), el('div', { class: 'count-label' }, `Dropped: ${reason}`))),
    );
    if (st.state === 'failed') {
      clear(err, errorBox({ detail: `The import failed: ${st.error || run.error || 'no reason given'}.` }, 'import-error'));
    }
    if (st.state === 'completed') {
      const m = run.metadata || {};
      clear(err, el('div', { class: 'alert alert-ok', role: 'status', 'data-testid': 'import-done' },
        `Imported ${fmtTime(run.ended_at || run.last_update)}: ${fmtNum(m.records_saved ?? im.records_read)} records, ${fmtNum(m.sleep_saved ?? im.sleep_stages_read)} sleep stages, ${fmtNum(m.workouts_saved ?? im.workouts_read)} workouts stored.`));
    }
    if (!DONE.has(st.state)) timer = setTimeout(tick, POLL);
  };
  ctx.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  tick();
}
