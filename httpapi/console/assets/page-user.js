// The one-user page of the console: who the user is, their devices,
// connections and sync runs (live), and charts of their data for a day
// picked with the date control, each from the read API at the resolution
// it draws.
import {h, card, widthOf, loading, empty, failed, redraw, band, lines, bars, stacked, hypnogram, route, colors, fmt} from './charts.js';

const DAY = 86400e3;
const RES = [['1min', 60], ['5min', 300], ['15min', 900], ['1hour', 3600]];

// pickResolution is the finest bucket width whose bucket count over the
// range fits the pixels the chart has: a bucket per pixel at most.
export function pickResolution(rangeMs, px) {
  for (const [name, sec] of RES) if (rangeMs / 1000 / sec <= px) return [name, sec];
  return RES[RES.length - 1];
}

const pad2 = (n) => String(n).padStart(2, '0');
const dayStr = (d) => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
const parseDay = (s) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || '');
  return m ? new Date(+m[1], +m[2] - 1, +m[3]) : null;
};
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
const secs = (ms) => Math.floor(ms / 1000);
const noonOf = (dateStr) => secs(parseDay(dateStr).getTime() + DAY / 2);
const shortDate = (d) => d.toLocaleDateString(undefined, {month: 'short', day: 'numeric'});
const longDate = (d) => d.toLocaleDateString(undefined, {weekday: 'short', year: 'numeric', month: 'short', day: 'numeric'});
const when = (s) => (s ? new Date(s).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'}) : '–');
const hm = (min) => (min == null ? '–' : `${Math.floor(min / 60)}h ${pad2(Math.round(min % 60))}m`);
const dur = (sec) => (sec >= 3600 ? `${Math.floor(sec / 3600)}h ${pad2(Math.floor((sec % 3600) / 60))}m` : `${Math.round(sec / 60)} min`);

export async function render(root, ctx) {
  const api = ctx.api;
  const uid = ctx.userId;
  const base = `/api/v1/users/${encodeURIComponent(uid)}`;
  const signal = ctx.signal;
  const closers = [];

  // ---- the day the charts show: ?date=YYYY-MM-DD, else today
  let day = parseDay(new URLSearchParams(location.search).get('date')) || addDays(new Date(), 0);

  const page = h('div', {class: 'u-page'});
  root.replaceChildren(page);

  // ---- header, devices, connections, sync runs
  const head = h('header', {class: 'u-head'}, h('h2', {class: 'u-name', text: 'User'}), h('div', {class: 'u-ids'}));
  const devices = h('ul', {class: 'u-list', 'data-testid': 'devices'}, h('li', {class: 'u-muted', text: 'Loading…'}));
  const conns = h('ul', {class: 'u-list', 'data-testid': 'connections'}, h('li', {class: 'u-muted', text: 'Loading…'}));
  const runsBody = h('tbody');
  const runsNote = h('p', {class: 'u-muted u-live-note', text: 'Loading…'});
  const runs = h('table', {class: 'u-runs', 'data-testid': 'sync-runs'},
    h('thead', {}, h('tr', {}, ...['Updated', 'Source', 'Stage', 'Items', 'Saved (records / workouts / sleep)', 'Dropped'].map((t) => h('th', {text: t})))),
    runsBody);
  page.append(head,
    h('div', {class: 'u-panels'},
      h('section', {class: 'u-panel'}, h('h3', {text: 'Devices and data sources'}), devices),
      h('section', {class: 'u-panel'}, h('h3', {text: 'Connections'}), conns),
      h('section', {class: 'u-panel u-panel-runs'}, h('h3', {}, 'Sync runs ', h('span', {class: 'u-live', 'data-testid': 'sync-live', text: ''})), h('div', {class: 'u-scroll'}, runs), runsNote)));

  // ---- the date control
  const input = h('input', {type: 'date', class: 'u-date', 'data-testid': 'date-picker', value: dayStr(day), 'aria-label': 'Day shown'});
  const prev = h('button', {type: 'button', class: 'u-btn', 'data-testid': 'date-prev', 'aria-label': 'Previous day', text: '‹ Prev'});
  const next = h('button', {type: 'button', class: 'u-btn', 'data-testid': 'date-next', 'aria-label': 'Next day', text: 'Next ›'});
  const today = h('button', {type: 'button', class: 'u-btn', 'data-testid': 'date-today', text: 'Today'});
  const rangeNote = h('span', {class: 'u-muted u-range'});
  page.append(h('div', {class: 'u-dates'}, prev, input, next, today, rangeNote));

  // ---- the charts
  const C = {
    hrDay: card('hr-day', 'Heart rate, day'),
    hrWeek: card('hr-week', 'Heart rate, week'),
    rhr: card('resting-hr', 'Resting heart rate'),
    hrv: card('hrv', 'Heart rate variability (SDNN)'),
    stepsMonth: card('steps-month', 'Steps, month'),
    stepsYear: card('steps-year', 'Steps, year'),
    energyMonth: card('energy-month', 'Active energy, month'),
    energyYear: card('energy-year', 'Active energy, year'),
    sleepNight: card('sleep-night', 'Sleep, night'),
    sleepMonth: card('sleep-month', 'Sleep, month'),
    body: card('body', 'Body measurements', {wide: true}),
    wRoute: card('workout-route', 'Route'),
    wHr: card('workout-hr', 'Heart rate'),
    wPace: card('workout-pace', 'Pace'),
    wElev: card('workout-elevation', 'Elevation'),
  };
  const grid = (title, ...cards) => h('section', {class: 'u-section'}, h('h3', {class: 'u-section-title', text: title}), h('div', {class: 'chart-grid'}, ...cards.map((c) => c.el)));
  const wList = h('ul', {class: 'u-workouts', 'data-testid': 'workout-list'});
  const wInfo = h('div', {class: 'u-workout-info'});
  page.append(
    grid('Heart', C.hrDay, C.hrWeek, C.rhr, C.hrv),
    grid('Activity', C.stepsMonth, C.stepsYear, C.energyMonth, C.energyYear),
    grid('Sleep', C.sleepNight, C.sleepMonth),
    h('section', {class: 'u-section'}, h('h3', {class: 'u-section-title', text: 'Workouts'}),
      h('div', {class: 'u-workout-wrap'},
        h('div', {class: 'u-workout-side'}, wList),
        h('div', {class: 'u-workout-main'}, wInfo, h('div', {class: 'chart-grid'}, C.wRoute.el, C.wHr.el, C.wPace.el, C.wElev.el)))),
    grid('Body', C.body));

  // ---- first view: once every chart is drawn (or empty, or failed)
  let firstDone = false;
  let gen = 0;
  const settled = () => Object.values(C).every((c) => ['ready', 'empty', 'error'].includes(c.body.dataset.state));
  const check = () => {
    if (!firstDone && settled()) {
      firstDone = true;
      performance.mark('wh-charts-ready');
      root.dataset.chartsReady = '1';
      startStream();
    }
  };
  // run draws one chart from its loader, unless the day changed meanwhile.
  const run = (c, loader) => {
    const g = gen;
    loading(c);
    return loader().then((draw) => { if (g === gen && !signal?.aborted) draw(); },
      (err) => { if (g === gen && !signal?.aborted) failed(c, err); })
      .then(() => { if (g === gen) check(); });
  };

  // series fetches one or more series at a resolution, following cursors.
  async function series(types, start, end, resolution, expect) {
    const out = [];
    let cursor = null, pages = 0;
    do {
      const q = {types, start_time: start.toISOString(), end_time: end.toISOString(), resolution, limit: Math.min(100000, Math.max(50, Math.ceil(expect * 2.2)))};
      if (cursor) q.cursor = cursor;
      const p = await api.get(`${base}/timeseries`, q);
      out.push(...(p.data || []));
      cursor = p.pagination && p.pagination.has_more ? p.pagination.next_cursor : null;
    } while (cursor && ++pages < 10);
    return out;
  }

  // merge joins the buckets of the data sources at each timestamp: min of
  // the minima, max of the maxima, the average weighted by sample counts.
  function merge(samples) {
    const by = new Map();
    for (const x of samples) {
      const t = secs(Date.parse(x.timestamp));
      const n = x.sample_count || 1;
      const m = by.get(t);
      const lo = x.min ?? x.value, hi = x.max ?? x.value;
      if (!m) by.set(t, {t, min: lo, max: hi, sum: x.value * n, n});
      else { m.min = Math.min(m.min, lo); m.max = Math.max(m.max, hi); m.sum += x.value * n; m.n += n; }
    }
    return [...by.values()].sort((a, b) => a.t - b.t).map((m) => ({t: m.t, min: m.min, max: m.max, avg: m.sum / m.n}));
  }

  // daily averages a series' buckets per day: [{date, t (noon), v}]; the
  // 1day buckets are UTC days, named by their UTC date.
  function daily(samples) {
    const by = new Map();
    for (const x of samples) {
      const d = x.timestamp.slice(0, 10);
      const n = x.sample_count || 1;
      const m = by.get(d) || {sum: 0, n: 0};
      m.sum += x.value * n; m.n += n;
      by.set(d, m);
    }
    return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([d, m]) => ({date: d, t: noonOf(d), v: m.sum / m.n}));
  }

  const xRangeOf = (a, b) => [secs(a.getTime()), secs(b.getTime())];

  function hrBand(c, start, end) {
    return run(c, async () => {
      const [res, sec] = pickResolution(end - start, widthOf(c) - 60);
      c.sub.textContent = `${start.getTime() + DAY === end.getTime() ? longDate(start) : `${shortDate(start)} – ${shortDate(addDays(end, -1))}`} · ${res} buckets`;
      const rows = merge(await series(['heart_rate'], start, end, res, (end - start) / 1000 / sec));
      return () => band(c, rows, {unit: 'bpm', gap: sec * 3, xRange: xRangeOf(start, end)});
    });
  }

  function trend(c, type, label, color, unit, start, end) {
    return run(c, async () => {
      c.sub.textContent = `${shortDate(start)} – ${shortDate(addDays(end, -1))} · daily means`;
      const days = daily(await series([type], start, end, '1day', (end - start) / DAY));
      return () => lines(c, days.map((d) => d.t), [{label: `${label} ${unit}`, color, values: days.map((d) => d.v)}], {xRange: xRangeOf(start, end)});
    });
  }

  // activity: one request per range; the steps and energy charts share it.
  function activity(cSteps, cEnergy, start, end, label) {
    const g = gen;
    const p = (async () => {
      const rows = [];
      let cursor = null, pages = 0;
      do {
        const q = {start_date: dayStr(start), end_date: dayStr(end), limit: 400};
        if (cursor) q.cursor = cursor;
        const r = await api.get(`${base}/summaries/activity`, q);
        rows.push(...(r.data || []));
        cursor = r.pagination && r.pagination.has_more ? r.pagination.next_cursor : null;
      } while (cursor && ++pages < 5);
      const by = new Map();
      for (const r of rows) {
        const m = by.get(r.date) || {steps: null, kcal: null};
        if (r.steps != null) m.steps = Math.max(m.steps ?? 0, r.steps);
        if (r.active_calories_kcal != null) m.kcal = Math.max(m.kcal ?? 0, r.active_calories_kcal);
        by.set(r.date, m);
      }
      return [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([d, m]) => ({t: noonOf(d), steps: m.steps, kcal: m.kcal}));
    })();
    const xr = xRangeOf(start, end);
    const sub = `${label} · daily summaries`;
    cSteps.sub.textContent = sub; cEnergy.sub.textContent = sub;
    run(cSteps, async () => { const d = await p; return () => bars(cSteps, d.map((x) => ({t: x.t, v: x.steps})), {label: 'steps', color: colors.steps, xRange: xr}); });
    run(cEnergy, async () => { const d = await p; return () => bars(cEnergy, d.map((x) => ({t: x.t, v: x.kcal})), {label: 'kcal', color: colors.energy, xRange: xr}); });
    return g;
  }

  function sleepNight(c) {
    return run(c, async () => {
      const start = new Date(addDays(day, -1).getTime() + DAY / 2), end = addDays(day, 1);
      c.sub.textContent = `night to ${longDate(day)}`;
      const r = await api.get(`${base}/events/sleep`, {start_date: start.toISOString(), end_date: end.toISOString(), limit: 20});
      const ends = dayStr(day);
      const nights = (r.data || []).filter((x) => dayStr(new Date(x.end_time)) === ends);
      const main = (nights.filter((x) => !x.is_nap).length ? nights.filter((x) => !x.is_nap) : nights)
        .sort((a, b) => b.duration_seconds - a.duration_seconds)[0];
      if (!main) return () => empty(c);
      c.sub.textContent = `${when(main.start_time)} – ${new Date(main.end_time).toLocaleTimeString(undefined, {timeStyle: 'short'})} · ${hm(main.sleep_duration_seconds / 60)} asleep`;
      let iv = main.sleep_stage_intervals || [];
      if (!iv.length) iv = [{stage: 'sleeping', start_time: main.start_time, end_time: main.end_time}];
      return () => hypnogram(c, iv);
    });
  }

  function sleepMonth(c, start, end) {
    return run(c, async () => {
      c.sub.textContent = `${shortDate(start)} – ${shortDate(addDays(end, -1))} · nightly summaries, hours`;
      const rows = [];
      let cursor = null, pages = 0;
      do {
        const q = {start_date: dayStr(start), end_date: dayStr(end), limit: 100};
        if (cursor) q.cursor = cursor;
        const r = await api.get(`${base}/summaries/sleep`, q);
        rows.push(...(r.data || []));
        cursor = r.pagination && r.pagination.has_more ? r.pagination.next_cursor : null;
      } while (cursor && ++pages < 5);
      rows.sort((a, b) => (a.date < b.date ? -1 : 1));
      const hasStages = rows.some((r) => r.stages && (r.stages.deep_minutes || r.stages.rem_minutes || r.stages.light_minutes));
      const xs = rows.map((r) => noonOf(r.date));
      const hrs = (v) => (v || 0) / 60;
      let layers;
      if (hasStages) {
        const st = (r, k) => (r.stages ? hrs(r.stages[k]) : 0);
        layers = [
          {label: 'Deep', color: colors.deep, values: rows.map((r) => st(r, 'deep_minutes'))},
          {label: 'Light', color: colors.light, values: rows.map((r) => st(r, 'light_minutes'))},
          {label: 'REM', color: colors.rem, values: rows.map((r) => st(r, 'rem_minutes'))},
          {label: 'Awake', color: colors.awake, values: rows.map((r) => st(r, 'awake_minutes'))},
          {label: 'Asleep (no stages)', color: colors.sleeping, values: rows.map((r) => (r.stages ? 0 : hrs(r.duration_minutes)))},
        ].filter((l) => l.values.some((v) => v > 0));
      } else {
        layers = [{label: 'Asleep', color: colors.sleeping, values: rows.map((r) => hrs(r.duration_minutes))}];
      }
      return () => stacked(c, xs, layers, {fmt: (v) => hm(v * 60), xRange: xRangeOf(start, end)});
    });
  }

  function body(c, start, end) {
    return run(c, async () => {
      c.sub.textContent = `${shortDate(start)} – ${shortDate(addDays(end, -1))} · daily means`;
      const types = ['weight', 'body_fat_percentage', 'body_mass_index'];
      const all = await series(types, start, end, '1day', (end - start) / DAY * 3);
      const per = Object.fromEntries(types.map((t) => [t, daily(all.filter((x) => x.type === t))]));
      const dates = [...new Set(Object.values(per).flatMap((d) => d.map((x) => x.date)))].sort();
      const col = (t) => { const m = new Map(per[t].map((x) => [x.date, x.v])); return dates.map((d) => m.get(d) ?? null); };
      const unitOf = (t) => (all.find((x) => x.type === t) || {}).unit || '';
      const ser = [];
      if (per.weight.length) ser.push({label: `Weight ${unitOf('weight')}`, color: colors.weight, values: col('weight'), scale: 'y'});
      if (per.body_fat_percentage.length) ser.push({label: `Body fat ${unitOf('body_fat_percentage')}`, color: colors.fat, values: col('body_fat_percentage'), scale: 'r'});
      if (per.body_mass_index.length) ser.push({label: 'BMI', color: colors.bmi, values: col('body_mass_index'), scale: 'r'});
      const right = ser.some((x) => x.scale === 'r');
      return () => lines(c, dates.map(noonOf), ser, {
        height: 220, xRange: xRangeOf(start, end),
        axes: right ? [{scale: 'r', side: 1, size: 48, grid: {show: false}}] : [],
        yAxis: ser[0] && ser[0].scale === 'y' ? {} : {show: true},
      });
    });
  }

  // ---- workouts: the list of the month; the chosen one drawn.
  let chosen = null;
  function workouts(start, end) {
    const g = gen;
    const cards = [C.wRoute, C.wHr, C.wPace, C.wElev];
    cards.forEach(loading);
    wList.replaceChildren(h('li', {class: 'u-muted', text: 'Loading…'}));
    wInfo.replaceChildren();
    api.get(`${base}/events/workouts`, {start_date: start.toISOString(), end_date: end.toISOString(), limit: 50}).then((r) => {
      if (g !== gen) return;
      const list = r.data || [];
      wList.replaceChildren();
      if (!list.length) {
        wList.append(h('li', {class: 'u-muted', text: 'No workouts in these 30 days'}));
        cards.forEach((c) => empty(c));
        check();
        return;
      }
      for (const w of list) {
        const b = h('button', {type: 'button', class: 'u-workout', 'data-testid': 'workout-item', 'data-workout-id': w.id,
          on: {click: () => choose(w)}},
        h('span', {class: 'u-workout-type', text: prettyType(w.type)}),
        h('span', {class: 'u-muted', text: `${when(w.start_time)} · ${dur(w.duration_seconds)}${w.distance_meters ? ` · ${(w.distance_meters / 1000).toFixed(2)} km` : ''}`}));
        wList.append(h('li', {}, b));
      }
      const again = chosen && list.find((w) => w.id === chosen);
      choose(again || list[0]);
    }).catch((err) => {
      if (g !== gen) return;
      wList.replaceChildren(h('li', {class: 'u-muted', text: 'Could not load the workouts'}));
      cards.forEach((c) => failed(c, err));
      check();
    });
  }

  function choose(w) {
    chosen = w.id;
    for (const b of wList.querySelectorAll('[data-testid="workout-item"]')) b.classList.toggle('u-on', b.dataset.workoutId === w.id);
    const g = gen;
    const start = new Date(w.start_time), end = new Date(w.end_time);
    wInfo.replaceChildren(h('strong', {text: prettyType(w.type)}), ' ',
      h('span', {class: 'u-muted', text: [when(w.start_time), dur(w.duration_seconds),
        w.distance_meters ? `${(w.distance_meters / 1000).toFixed(2)} km` : null,
        w.avg_heart_rate_bpm ? `avg ${w.avg_heart_rate_bpm} bpm` : null,
        w.calories_kcal ? `${Math.round(w.calories_kcal)} kcal` : null].filter(Boolean).join(' · ')}));
    const detail = api.get(`${base}/events/workouts/${encodeURIComponent(w.id)}`);
    const xr = [secs(start.getTime()), secs(end.getTime())];
    const pace = /run|walk|hik/i.test(w.type) || w.avg_pace_sec_per_km != null || /run|walk|hik/i.test(w.name || '');
    run(C.wRoute, async () => { const d = await detail; C.wRoute.sub.textContent = `${(d.route || []).length} points`; return () => route(C.wRoute, d.route || []); });
    run(C.wElev, async () => {
      const d = await detail;
      const pts = (d.route || []).filter((p) => p.altitudeM != null && p.timestamp);
      const ds = decimate(pts.map((p) => [secs(Date.parse(p.timestamp)), p.altitudeM]), widthOf(C.wElev));
      C.wElev.sub.textContent = 'from the route';
      return () => lines(C.wElev, ds.map((x) => x[0]), [{label: 'm', color: colors.elevation, values: ds.map((x) => x[1])}], {points: false, xRange: xr});
    });
    run(C.wHr, async () => {
      const d = await detail;
      let pts = samplesOf(d, /heart/i);
      if (pts.length) C.wHr.sub.textContent = 'workout samples';
      else {
        const [res, sec] = pickResolution(end - start, widthOf(C.wHr) - 60);
        C.wHr.sub.textContent = `heart rate series · ${res} buckets`;
        pts = merge(await series(['heart_rate'], start, end, res, (end - start) / 1000 / sec)).map((x) => [x.t, x.avg]);
      }
      const ds = decimate(pts, widthOf(C.wHr));
      return () => lines(C.wHr, ds.map((x) => x[0]), [{label: 'bpm', color: colors.hr, values: ds.map((x) => x[1])}], {points: false, xRange: xr});
    });
    run(C.wPace, async () => {
      const d = await detail;
      let sp = samplesOf(d, /^speed$|speed/i);
      C.wPace.sub.textContent = 'workout samples';
      if (!sp.length) { sp = speedFromRoute(d.route || []); C.wPace.sub.textContent = 'from the route'; }
      const ds = decimate(sp, widthOf(C.wPace));
      C.wPace.el.querySelector('.chart-title').textContent = pace ? 'Pace' : 'Speed';
      if (pace) {
        return () => lines(C.wPace, ds.map((x) => x[0]), [{label: 'min/km', color: colors.pace, values: ds.map((x) => (x[1] > 0.3 ? 1000 / x[1] / 60 : null)),
          fmt: (v) => `${Math.floor(v)}:${pad2(Math.round((v % 1) * 60))}`}], {points: false, xRange: xr,
          scales: {y: {dir: -1, range: (u, lo, hi) => [Math.max(0, lo - 0.2), hi + 0.2]}},
          yAxis: {values: (u, vs) => vs.map((v) => `${Math.floor(v)}:${pad2(Math.round((v % 1) * 60))}`)}});
      }
      return () => lines(C.wPace, ds.map((x) => x[0]), [{label: 'km/h', color: colors.pace, values: ds.map((x) => x[1] * 3.6)}], {points: false, xRange: xr});
    }).then(() => { if (g !== gen) return; });
  }

  const runMap = new Map();
  const order = (r) => Date.parse(r.last_update || r.timestamp || 0) || 0;
  function runRow(r) {
    const m = r.metadata || {};
    const tr = h('tr', {'data-testid': 'sync-run', 'data-run-id': r.run_id, 'data-stage': r.stage, 'data-status': r.status},
      h('td', {text: when(r.last_update || r.timestamp)}),
      h('td', {text: `${r.provider}${r.source && r.source !== 'sdk' ? ` (${r.source})` : ''}`}),
      h('td', {}, h('span', {class: `u-badge u-badge-${r.status === 'success' ? 'ok' : r.status === 'failed' ? 'bad' : 'run'}`, text: r.stage}),
        r.error ? h('div', {class: 'u-muted u-err', text: r.error}) : null),
      h('td', {text: r.items_total != null ? `${fmt.fmt0(r.items_processed ?? 0)} / ${fmt.fmt0(r.items_total)}` : fmt.fmt0(r.items_processed)}),
      h('td', {text: [m.records_saved, m.workouts_saved, m.sleep_saved].map((v) => (v == null ? '–' : fmt.fmt0(v))).join(' / ')}),
      h('td', {text: m.dropped_count ? fmt.fmt0(m.dropped_count) : '0'}));
    return tr;
  }
  function putRun(r, fresh) {
    const old = runMap.get(r.run_id);
    if (old && order(old.data) > order(r)) return;
    const data = old ? {...old.data, ...r, metadata: {...(old.data.metadata || {}), ...(r.metadata || {})}} : r;
    const tr = runRow(data);
    if (old) old.tr.replaceWith(tr);
    else if (fresh) runsBody.prepend(tr);
    else runsBody.append(tr);
    if (fresh && !old) tr.classList.add('u-new');
    runMap.set(r.run_id, {data, tr});
    while (runsBody.children.length > 50) {
      const last = runsBody.lastElementChild;
      runMap.delete(last.dataset.runId);
      last.remove();
    }
    runsNote.textContent = runMap.size ? '' : 'No sync runs yet';
  }
  let runsLoaded = null;
  const loadRuns = () => api.get(`${base}/sync/runs`, {limit: 20}).then((list) => {
    for (const r of list || []) putRun(r, false);
    runsNote.textContent = (list || []).length ? '' : 'No sync runs yet';
  }, (err) => { runsNote.textContent = `Could not load the runs: ${err.detail || err.message}`; });

  // The live stream is opened once the first charts are drawn: it holds a
  // connection of its own for as long as the page is open.
  let streaming = false;
  function startStream() {
    if (streaming || signal?.aborted || !api.stream) return;
    streaming = true;
    const live = page.querySelector('[data-testid="sync-live"]');
    runsLoaded.then(() => {
      if (signal?.aborted) return;
      live.textContent = '● live';
      live.classList.add('u-live-on');
      const close = api.stream(`${base}/sync/stream`, (type, data) => {
        let ev = data;
        if (typeof ev === 'string') { try { ev = JSON.parse(ev); } catch { return; } }
        if (!ev || !ev.run_id) return;
        putRun({...ev, last_update: ev.timestamp}, true);
      });
      closers.push(close);
    });
  }

  // ---- load every chart of the day
  function load() {
    gen++;
    input.value = dayStr(day);
    const end = addDays(day, 1);
    const start = day, week = addDays(day, -6), month = addDays(day, -29), year = addDays(day, -364);
    rangeNote.textContent = `${longDate(day)} · week from ${shortDate(week)} · month from ${shortDate(month)} · year from ${shortDate(year)}`;
    // The workouts need two requests in a row, and the year's activity is
    // the slowest to compute: they go first. The browser runs six at once.
    workouts(month, end);
    activity(C.stepsYear, C.energyYear, year, end, `${shortDate(year)} – ${shortDate(day)}`);
    hrBand(C.hrDay, start, end);
    hrBand(C.hrWeek, week, end);
    activity(C.stepsMonth, C.energyMonth, month, end, `${shortDate(month)} – ${shortDate(day)}`);
    sleepNight(C.sleepNight);
    sleepMonth(C.sleepMonth, month, end);
    trend(C.rhr, 'resting_heart_rate', 'Resting HR', colors.rhr, 'bpm', year, end);
    trend(C.hrv, 'heart_rate_variability_sdnn', 'SDNN', colors.hrv, 'ms', year, end);
    body(C.body, year, end);
  }
  const go = (d) => {
    if (!d) return;
    day = d;
    const u = new URL(location.href);
    u.searchParams.set('date', dayStr(day));
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
    load();
  };
  input.addEventListener('change', () => go(parseDay(input.value)));
  prev.addEventListener('click', () => go(addDays(day, -1)));
  next.addEventListener('click', () => go(addDays(day, 1)));
  today.addEventListener('click', () => go(addDays(new Date(), 0)));

  // ---- resize: redraw at the new width (the data stays)
  let raf = 0, lastW = page.clientWidth;
  const ro = new ResizeObserver(() => {
    if (page.clientWidth === lastW) return;
    lastW = page.clientWidth;
    cancelAnimationFrame(raf);
    raf = requestAnimationFrame(() => Object.values(C).forEach(redraw));
  });
  ro.observe(page);

  // The charts' requests first; the header's after them.
  load();
  // ---- header data, devices, connections, runs
  api.get(base).then((u) => {
    const name = [u.first_name, u.last_name].filter(Boolean).join(' ') || u.external_user_id || u.id;
    head.querySelector('.u-name').textContent = name;
    head.querySelector('.u-ids').replaceChildren(...[
      kv('User id', u.id, 'user-id'), u.external_user_id ? kv('External id', u.external_user_id) : null,
      u.email ? kv('E-mail', u.email) : null, kv('Created', when(u.created_at)),
      kv('Last sync', u.last_synced_at ? `${when(u.last_synced_at)}${u.last_synced_provider ? ` (${u.last_synced_provider})` : ''}` : 'never')].filter(Boolean));
  }, (err) => head.querySelector('.u-ids').replaceChildren(h('span', {class: 'chart-error', text: err.status === 404 ? 'No such user' : `Could not load the user: ${err.detail || err.message}`})));

  api.get(`${base}/data-sources`).then((r) => {
    devices.replaceChildren();
    if (!(r.items || []).length) devices.append(h('li', {class: 'u-muted', text: 'None yet'}));
    for (const d of r.items || []) {
      devices.append(h('li', {class: 'u-device', 'data-testid': 'device', 'data-source-id': d.id},
        h('strong', {text: d.display_name || d.device_model || d.source || d.provider}),
        h('span', {class: 'u-muted', text: [d.provider, d.device_type, d.device_model, d.software_version ? `v${d.software_version}` : null].filter(Boolean).join(' · ')})));
    }
  }, (err) => devices.replaceChildren(h('li', {class: 'chart-error', text: `Could not load: ${err.detail || err.message}`})));

  api.get(`${base}/connections`).then((r) => {
    conns.replaceChildren();
    if (!(r || []).length) conns.append(h('li', {class: 'u-muted', text: 'None yet'}));
    for (const c of r || []) {
      conns.append(h('li', {class: 'u-device', 'data-testid': 'connection'},
        h('strong', {text: c.provider}), h('span', {class: `u-badge u-badge-${c.status === 'active' ? 'ok' : 'off'}`, text: c.status}),
        h('span', {class: 'u-muted', text: `last sync ${when(c.last_synced_at)}`})));
    }
  }, (err) => conns.replaceChildren(h('li', {class: 'chart-error', text: `Could not load: ${err.detail || err.message}`})));

  runsLoaded = loadRuns();

  const cleanup = () => {
    ro.disconnect();
    for (const c of closers) { try { c(); } catch { /* closed already */ } }
    closers.length = 0;
    gen++;
  };
  signal?.addEventListener('abort', cleanup, {once: true});
  return cleanup;
}

function kv(k, v, testid) {
  return h('span', {class: 'u-kv'}, h('span', {class: 'u-k', text: k}), h('span', {class: 'u-v', text: v, 'data-testid': testid}));
}

function prettyType(t) {
  const s = String(t || 'workout').replace(/^HKWorkoutActivityType/, '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// samplesOf picks a workout's samples of one type: [[t (s), value]].
function samplesOf(d, re) {
  const arr = Array.isArray(d.samples) ? d.samples : [];
  return arr.filter((x) => x && re.test(x.type || '') && Number.isFinite(x.value) && x.timestamp)
    .map((x) => [secs(Date.parse(x.timestamp)), x.value]).sort((a, b) => a[0] - b[0]);
}

// speedFromRoute derives m/s from the route: distance over time, per 30 s.
function speedFromRoute(pts) {
  const p = pts.filter((x) => x.timestamp && Number.isFinite(x.latitude)).map((x) => [Date.parse(x.timestamp) / 1000, x.latitude, x.longitude]);
  const out = [];
  let i0 = 0, dist = 0;
  const R = 6371e3, rad = Math.PI / 180;
  for (let i = 1; i < p.length; i++) {
    const [, la1, lo1] = p[i - 1], [, la2, lo2] = p[i];
    const x = (lo2 - lo1) * rad * Math.cos(((la1 + la2) / 2) * rad), y = (la2 - la1) * rad;
    dist += Math.hypot(x, y) * R;
    const dt = p[i][0] - p[i0][0];
    if (dt >= 30) { out.push([Math.round((p[i][0] + p[i0][0]) / 2), dist / dt]); i0 = i; dist = 0; }
  }
  return out;
}

// decimate keeps at most about a point per pixel: longer series are averaged into bins.
function decimate(pts, px) {
  const max = Math.max(100, px);
  if (pts.length <= max) return pts;
  const t0 = pts[0][0], t1 = pts[pts.length - 1][0], w = (t1 - t0) / max || 1;
  const bins = new Map();
  for (const [t, v] of pts) {
    const k = Math.min(max - 1, Math.floor((t - t0) / w));
    const b = bins.get(k) || {t: 0, v: 0, n: 0};
    b.t += t; b.v += v; b.n++;
    bins.set(k, b);
  }
  return [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => [Math.round(b.t / b.n), b.v / b.n]);
}
