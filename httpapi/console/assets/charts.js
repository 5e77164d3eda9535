// Chart helpers of the user page: uPlot for the time charts (bands, lines,
// bars, stacked bars), plain SVG for the hypnogram and the route. Each
// helper draws into a chart card made by card(), and marks it with
// data-state and data-points once drawn, for the browser tests.
import uPlot from './uPlot.esm.js';

const SVG = 'http://www.w3.org/2000/svg';

// h builds an element: h('div', {class: 'a', text: 'b'}, child...).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') el.textContent = v;
    else el.setAttribute(k, String(v));
  }
  return el;
}

// Colours of the series (canvas needs them as values, not classes).
export const colors = {
  hr: '#d6334a', hrBand: 'rgba(214, 51, 74, 0.18)', rhr: '#b4235f', hrv: '#2f6fd6',
  steps: '#2a9d8f', energy: '#e08a1e', weight: '#5a4fcf', fat: '#c2571a', bmi: '#2f8f4e',
  pace: '#2f6fd6', elevation: '#6b7a3a',
  deep: '#27408b', light: '#6d9eeb', rem: '#a64dcf', awake: '#f0a13a', sleeping: '#4f7fd9', in_bed: '#9aa7b8', unknown: '#b0b0b0',
};

// card is one chart's frame: a title, a sub-title (range, resolution) and the
// drawing area carrying data-testid="chart-<name>".
export function card(name, title, opts = {}) {
  const sub = h('span', {class: 'chart-sub'});
  const body = h('div', {class: 'chart-body', 'data-testid': `chart-${name}`, 'data-state': 'loading'},
    h('div', {class: 'chart-note chart-loading', text: 'Loading…'}));
  const el = h('section', {class: 'chart-card' + (opts.wide ? ' chart-wide' : '')},
    h('header', {class: 'chart-head'}, h('h3', {class: 'chart-title', text: title}), sub), body);
  return {el, body, sub, name, plot: null, draw: null};
}

// width of the drawing area, for the resolution and the canvas.
export function widthOf(c) {
  return Math.max(240, Math.floor(c.body.clientWidth || c.el.clientWidth || 600));
}

function clear(c) {
  if (c.plot) { c.plot.destroy(); c.plot = null; }
  c.draw = null;
  c.body.replaceChildren();
}

export function loading(c) {
  clear(c);
  c.body.dataset.state = 'loading';
  delete c.body.dataset.points;
  c.body.append(h('div', {class: 'chart-note chart-loading', text: 'Loading…'}));
}

export function empty(c, note = 'No data for this range') {
  clear(c);
  c.body.dataset.state = 'empty';
  c.body.dataset.points = '0';
  c.body.append(h('div', {class: 'chart-note', text: note}));
}

export function failed(c, err) {
  clear(c);
  c.body.dataset.state = 'error';
  delete c.body.dataset.points;
  const why = (err && (err.detail || err.message)) || 'Could not load';
  c.body.append(h('div', {class: 'chart-note chart-error', text: `Could not load: ${why}`}));
}

function ready(c, points) {
  c.body.dataset.points = String(points);
  c.body.dataset.state = 'ready';
}

// Resize: each card remembers how to draw itself at a new width.
export function redraw(c) {
  if (c.plot) c.plot.setSize({width: widthOf(c), height: c.plot.height});
  else if (c.draw) c.draw();
}

function ink() {
  const cs = getComputedStyle(document.body);
  return cs.color || '#222';
}

function axis(extra = {}) {
  const stroke = ink();
  return {stroke, grid: {stroke: 'rgba(127,127,127,0.18)', width: 1}, ticks: {stroke: 'rgba(127,127,127,0.3)', width: 1}, ...extra};
}

function base(c, height, series, data, extra = {}) {
  clear(c);
  const opts = {
    width: widthOf(c), height,
    series: [{}, ...series],
    axes: [axis(), axis({size: 52, ...(extra.yAxis || {})}), ...(extra.axes || []).map((a) => axis(a))],
    scales: {x: {time: true}, ...(extra.scales || {})},
    legend: {show: true, live: true},
    cursor: {drag: {x: false, y: false}, points: {size: 6}},
    ...(extra.bands ? {bands: extra.bands} : {}),
  };
  if (extra.xRange) opts.scales.x.range = () => extra.xRange;
  c.plot = new uPlot(opts, data, c.body);
  return c.plot;
}

// compact writes axis values short: 12,500 as 12.5k.
const compact = (v) => (v == null ? '' : Math.abs(v) >= 10000 ? `${+(v / 1000).toFixed(1)}k` : Math.abs(v) >= 1000 ? v.toLocaleString() : String(+v.toFixed(2)));
const compactAxis = {values: (u, vs) => vs.map(compact)};
// barPaths: bars of 80% of their slot, or touching when they are dense.
const barPaths = (c, n) => uPlot.paths.bars({size: [n * 3 > widthOf(c) ? 1 : 0.8, 40], align: 0});

const fmt1 = (v) => (v == null ? '–' : (Math.round(v * 10) / 10).toString());
const fmt0 = (v) => (v == null ? '–' : Math.round(v).toLocaleString());

// band draws buckets as a min-max band with the average as the line.
// rows: [{t (s), min, max, avg}] sorted; gap: seconds beyond which the line breaks.
export function band(c, rows, {unit = '', color = colors.hr, fill = colors.hrBand, gap = 0, xRange} = {}) {
  if (!rows.length) return empty(c);
  const xs = [], mins = [], maxs = [], avgs = [];
  let prev = null;
  for (const r of rows) {
    if (gap && prev != null && r.t - prev > gap) { xs.push(prev + gap / 2); mins.push(null); maxs.push(null); avgs.push(null); }
    xs.push(r.t); mins.push(r.min); maxs.push(r.max); avgs.push(r.avg);
    prev = r.t;
  }
  base(c, 220, [
    {label: 'min', stroke: 'transparent', points: {show: false}, value: (u, v) => fmt0(v)},
    {label: 'max', stroke: 'transparent', points: {show: false}, value: (u, v) => fmt0(v)},
    {label: `avg ${unit}`, stroke: color, width: 1.5, points: {show: false}, value: (u, v) => fmt0(v)},
  ], [xs, mins, maxs, avgs], {bands: [{series: [2, 1], fill}], xRange});
  ready(c, rows.length);
}

// lines draws one or more series over time: series [{label, color, values, scale}]
// sharing xs (s). Points counts the non-null values drawn.
export function lines(c, xs, series, {height = 200, scales, axes, yAxis, points = true, xRange} = {}) {
  let n = 0;
  for (const sr of series) for (const v of sr.values) if (v != null) n++;
  if (!n) return empty(c);
  base(c, height, series.map((sr) => ({
    label: sr.label, stroke: sr.color, width: 1.5, scale: sr.scale || 'y', spanGaps: true,
    points: {show: points && xs.length < 120, size: 4, fill: sr.color},
    value: (u, v) => (v == null ? '–' : (sr.fmt || fmt1)(v)),
  })), [xs, ...series.map((sr) => sr.values)], {scales, axes, yAxis, xRange});
  ready(c, n);
}

// bars draws one value per day: days [{t (s, the day's middle), v}].
export function bars(c, days, {label, color, fmt = fmt0, xRange} = {}) {
  const n = days.filter((d) => d.v != null).length;
  if (!n) return empty(c);
  base(c, 200, [{
    label, fill: color, stroke: color, width: 0, points: {show: false},
    paths: barPaths(c, days.length), value: (u, v) => (v == null ? '–' : fmt(v)),
  }], [days.map((d) => d.t), days.map((d) => d.v)], {
    scales: {y: {range: (u, lo, hi) => [0, hi > 0 ? hi * 1.05 : 1]}}, xRange, yAxis: compactAxis,
  });
  ready(c, n);
}

// stacked draws stacked bars per day: layers [{label, color, values}] from the
// bottom up, values per day (minutes); hover shows each layer's own value.
export function stacked(c, xs, layers, {fmt = fmt0, xRange} = {}) {
  const n = xs.length;
  if (!n) return empty(c);
  const sums = layers.map(() => new Array(n).fill(0));
  for (let i = 0; i < n; i++) {
    let acc = 0;
    layers.forEach((l, k) => { acc += l.values[i] || 0; sums[k][i] = acc; });
  }
  // uPlot paints in order: the tallest (the sum of all layers) first.
  const order = layers.map((_, k) => k).reverse();
  const barPath = barPaths(c, n);
  base(c, 220, order.map((k) => ({
    label: layers[k].label, fill: layers[k].color, stroke: layers[k].color, width: 0, points: {show: false}, paths: barPath,
    value: (u, v, si, i) => (i == null ? '–' : fmt(layers[k].values[i] || 0)),
  })), [xs, ...order.map((k) => sums[k])], {scales: {y: {range: (u, lo, hi) => [0, hi > 0 ? hi * 1.05 : 1]}}, xRange});
  ready(c, n);
}

const STAGE_ROWS = ['awake', 'rem', 'light', 'deep'];
const STAGE_NAMES = {awake: 'Awake', rem: 'REM', light: 'Light', deep: 'Deep', sleeping: 'Asleep', in_bed: 'In bed', unknown: 'Unknown'};

function hhmm(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// hypnogram draws a night's stage intervals as an SVG step chart: one row
// per stage (awake at the top, deep at the bottom), one rect per interval.
export function hypnogram(c, intervals) {
  if (!intervals.length) return empty(c);
  const iv = intervals.map((x) => ({stage: x.stage, a: Date.parse(x.start_time), b: Date.parse(x.end_time)}))
    .filter((x) => x.b > x.a).sort((x, y) => x.a - y.a);
  if (!iv.length) return empty(c);
  // Stages outside the four rows (asleep, in bed, unknown) get rows of their own below.
  const rows = [...STAGE_ROWS];
  for (const x of iv) if (!rows.includes(x.stage)) rows.push(x.stage);
  const used = rows.filter((r) => iv.some((x) => x.stage === r) || STAGE_ROWS.includes(r));
  const t0 = iv[0].a, t1 = Math.max(...iv.map((x) => x.b));
  clear(c);
  c.draw = hypnoDraw(c, iv, used, t0, t1);
  c.draw();
  ready(c, iv.length);
}

function hypnoDraw(c, iv, used, t0, t1) {
  return () => {
    c.body.replaceChildren();
    const W = widthOf(c), rowH = 30, left = 56, right = 8, top = 8, H = top + used.length * rowH + 26;
    const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
    const svg = s('svg', {class: 'chart-svg', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Sleep stages over the night'});
    used.forEach((r, i) => {
      const y = top + i * rowH;
      svg.append(s('line', {class: 'chart-gridline', x1: left, x2: W - right, y1: y + rowH / 2, y2: y + rowH / 2}));
      svg.append(s('text', {class: 'chart-axis-label', x: left - 6, y: y + rowH / 2 + 4, 'text-anchor': 'end', text: STAGE_NAMES[r] || r}));
    });
    const span = t1 - t0;
    const step = span > 10 * 3600e3 ? 2 * 3600e3 : 3600e3;
    for (let t = Math.ceil(t0 / 3600e3) * 3600e3; t <= t1; t += step) {
      svg.append(s('line', {class: 'chart-tick', x1: x(t), x2: x(t), y1: top, y2: top + used.length * rowH}));
      svg.append(s('text', {class: 'chart-axis-label', x: x(t), y: H - 8, 'text-anchor': 'middle', text: hhmm(t)}));
    }
    let path = '';
    for (const seg of iv) {
      const y = top + used.indexOf(seg.stage) * rowH;
      const rect = s('rect', {class: `chart-stage chart-stage-${seg.stage}`, x: x(seg.a).toFixed(1), y: y + 5, width: Math.max(1, x(seg.b) - x(seg.a)).toFixed(1), height: rowH - 10, rx: 2});
      rect.append(s('title', {text: `${STAGE_NAMES[seg.stage] || seg.stage} ${hhmm(seg.a)}–${hhmm(seg.b)}`}));
      svg.append(rect);
      const ym = y + rowH / 2;
      path += `${path ? 'L' : 'M'}${x(seg.a).toFixed(1)},${ym}L${x(seg.b).toFixed(1)},${ym}`;
    }
    svg.prepend(s('path', {class: 'chart-step', d: path}));
    c.body.append(svg);
  };
}

// route draws a workout's route points as an SVG polyline, projected
// equirectangularly with the longitude scaled by cos(latitude).
export function route(c, pts) {
  const p = pts.filter((q) => Number.isFinite(q.latitude) && Number.isFinite(q.longitude));
  if (p.length < 2) return empty(c, p.length ? 'Only one route point' : 'No route for this workout');
  const lat0 = p.reduce((a, q) => a + q.latitude, 0) / p.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xy = p.map((q) => [q.longitude * k, -q.latitude]);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [x, y] of xy) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  clear(c);
  c.draw = () => {
    c.body.replaceChildren();
    const W = widthOf(c), H = Math.min(320, Math.max(200, Math.round(W * 0.6))), pad = 14;
    const sc = Math.min((W - 2 * pad) / ((x1 - x0) || 1e-9), (H - 2 * pad) / ((y1 - y0) || 1e-9));
    const ox = (W - (x1 - x0) * sc) / 2, oy = (H - (y1 - y0) * sc) / 2;
    const pr = ([x, y]) => `${(ox + (x - x0) * sc).toFixed(1)},${(oy + (y - y0) * sc).toFixed(1)}`;
    const svg = s('svg', {class: 'chart-svg chart-route', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Workout route'});
    svg.append(s('polyline', {class: 'chart-route-line', points: xy.map(pr).join(' ')}));
    const [sx, sy] = pr(xy[0]).split(','), [ex, ey] = pr(xy[xy.length - 1]).split(',');
    svg.append(s('circle', {class: 'chart-route-start', cx: sx, cy: sy, r: 5}));
    svg.append(s('circle', {class: 'chart-route-end', cx: ex, cy: ey, r: 5}));
    // scale bar: metres across the drawing
    const metres = ((x1 - x0) * 111320);
    const bar = niceLen(metres / 4);
    const barPx = (bar / 111320) * sc;
    svg.append(s('line', {class: 'chart-scale', x1: pad, x2: pad + barPx, y1: H - 10, y2: H - 10}));
    svg.append(s('text', {class: 'chart-axis-label', x: pad + barPx + 6, y: H - 6, text: bar >= 1000 ? `${bar / 1000} km` : `${bar} m`}));
    c.body.append(svg);
  };
  c.draw();
  ready(c, p.length);
}

function niceLen(m) {
  if (!(m > 0)) return 100;
  const e = Math.pow(10, Math.floor(Math.log10(m)));
  for (const f of [1, 2, 5]) if (f * e >= m) return f * e;
  return 10 * e;
}

export const fmt = {fmt0, fmt1};
