// The console's end-to-end test, in a real browser. Started by go test
// (console_browser_test.go), which runs the servers, fills them with known
// data and passes their addresses in WH_* variables. Each step checks what
// a user sees; the first failure ends the run with exit status 1. The last
// line is RESULT {json} with the figures measured.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('WH_BASE');
const IDLE_BASE = env('WH_IDLE_BASE');
const ADMIN_KEY = env('WH_ADMIN_KEY');
const KNOWN = env('WH_KNOWN_USER');
const YEAR = env('WH_YEAR_USER');
const DAY = env('WH_DAY');
const EXPECT = JSON.parse(env('WH_EXPECT'));
const SHOTS = process.env.WH_SHOTS || '';
const ADMIN = { email: 'e2e-admin@example.com', password: 'e2e-admin-password' };
const VIEWER = { email: 'e2e-viewer@example.com', password: 'e2e-viewer-password' };
const result = { steps: [], charts: {}, timings: {} };

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function step(name, fn) {
  const t0 = Date.now();
  await fn();
  result.steps.push(name);
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}

const tid = (id) => `[data-testid="${id}"]`;

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: name === 'user' });
}

// watch fails the run on a CSP violation or a script error.
function watch(page, label) {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
      console.log(`FAIL ${label}: CSP violation: ${m.text()}`);
      process.exitCode = 1;
    }
  });
  page.on('pageerror', (e) => {
    console.log(`FAIL ${label}: page error: ${e.message}`);
    process.exitCode = 1;
  });
}

async function login(page, base, who) {
  await page.goto(`${base}/console/`);
  await page.fill(tid('login-email'), who.email);
  await page.fill(tid('login-password'), who.password);
  await page.click(tid('login-submit'));
  await page.waitForSelector(tid('nav-logout'));
}

async function apiAsAdmin(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'X-Open-Wearables-API-Key': ADMIN_KEY, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

// chartStates reads every chart's state and points on a user page.
async function chartStates(page) {
  return page.$$eval('[data-testid^="chart-"]', (els) =>
    Object.fromEntries(els.map((e) => [e.dataset.testid.slice(6), { state: e.dataset.state, points: Number(e.dataset.points || 0) }])));
}

async function openUser(page, user, day) {
  await page.goto(`${BASE}/console/users/${user}?date=${day}`);
  await page.waitForFunction(() => document.querySelector('[data-charts-ready="1"]'), null, { timeout: 30000 });
}

const browser = await chromium.launch({
  executablePath: env('WH_CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
});
const newPage = async (label) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', locale: 'en-GB' });
  const page = await context.newPage();
  watch(page, label);
  return { context, page };
};

try {
  const { page } = await newPage('admin');

  await step('a logged-out browser gets the login page', async () => {
    await page.goto(`${BASE}/console/users`);
    await page.waitForSelector(tid('login-email'));
    check((await page.$$(tid('users-table'))).length === 0, 'no users table without a session');
  });

  await step('first-run setup through the logged link', async () => {
    await page.goto(env('WH_SETUP_URL'));
    await page.fill(tid('setup-email'), ADMIN.email);
    await page.fill(tid('setup-password'), ADMIN.password);
    await page.fill(tid('setup-password2'), ADMIN.password);
    await page.click(tid('setup-submit'));
    await page.waitForSelector(tid('nav-logout'));
    check(!page.url().includes('token='), `the setup token left the address bar: ${page.url()}`);
    check((await page.textContent(tid('nav-account'))).includes(ADMIN.email), 'the nav names the account');
  });

  await step('the overview shows the server live', async () => {
    await page.goto(`${BASE}/console/`);
    await page.waitForSelector(tid('overview-disk'));
    await page.waitForFunction(() => /\b2\b/.test(document.querySelector('[data-testid="overview-users"]')?.textContent || ''), null, { timeout: 10000 });
    await shot(page, 'overview');
  });

  await step('logout, and login again', async () => {
    await page.click(tid('nav-logout'));
    await page.waitForSelector(tid('login-email'));
    const r = await page.evaluate(async () => (await fetch('/api/v1/console/session')).status);
    check(r === 401, `session after logout answers ${r}`);
    await page.fill(tid('login-email'), ADMIN.email);
    await page.fill(tid('login-password'), 'not-the-password');
    await page.click(tid('login-submit'));
    await page.waitForSelector(tid('login-error'));
    await login(page, BASE, ADMIN);
  });

  let created = '';
  await step('create a user, and delete one with a typed confirmation', async () => {
    await page.goto(`${BASE}/console/users`);
    await page.waitForSelector(tid('users-table'));
    await page.click(tid('users-create-open'));
    await page.fill(tid('users-create-external-id'), 'made-in-browser');
    await page.fill(tid('users-create-first-name'), 'Brow');
    await page.click(tid('users-create-submit'));
    await page.waitForSelector(`${tid('user-row')}:has-text("made-in-browser")`);
    created = await page.getAttribute(`${tid('user-row')}:has-text("made-in-browser")`, 'data-user-id');
    check(created, 'the new row has its user id');
    await shot(page, 'users');
    const doomed = await apiAsAdmin('POST', '/api/v1/users', { external_user_id: 'doomed-user' });
    await page.goto(`${BASE}/console/users`);
    await page.click(`${tid('user-row')}[data-user-id="${doomed.id}"] ${tid('users-delete-button')}`);
    await page.waitForSelector(tid('confirm-input'));
    check(await page.isDisabled(tid('confirm-ok')), 'delete is disabled before the confirmation is typed');
    await page.fill(tid('confirm-input'), 'doomed-user');
    await page.click(tid('confirm-ok'));
    await page.waitForSelector(`${tid('user-row')}[data-user-id="${doomed.id}"]`, { state: 'detached' });
    const gone = await fetch(`${BASE}/api/v1/users/${doomed.id}`, { headers: { 'X-Open-Wearables-API-Key': ADMIN_KEY } });
    check(gone.status === 404, `the deleted user answers ${gone.status}`);
  });

  await step('a pairing code for the new user, with its QR code', async () => {
    await page.goto(`${BASE}/console/connect`);
    await page.fill(tid('connect-user-search'), 'Brow');
    await page.click(`${tid('connect-user-list')} >> text=made-in-browser`);
    await page.click(tid('connect-create'));
    await page.waitForSelector(tid('connect-code'));
    const code = (await page.textContent(tid('connect-code'))).replace(/\s|-/g, '');
    check(code.length >= 6, `pairing code "${code}"`);
    check((await page.$$(`${tid('connect-qr')} svg, ${tid('connect-qr')} img`)).length === 1, 'a QR code is drawn');
    await shot(page, 'connect');
    // The phone redeems the code as the SDKs do.
    const res = await fetch(`${BASE}/api/v1/invitation-code/redeem`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ code }),
    });
    check(res.status === 200, `redeeming the shown code answers ${res.status}`);
  });

  await step('each chart draws the known data', async () => {
    await openUser(page, KNOWN, DAY);
    const charts = await chartStates(page);
    result.charts = charts;
    for (const [name, want] of Object.entries(EXPECT)) {
      check(charts[name], `chart ${name} is on the page`);
      check(charts[name].state === 'ready' && charts[name].points === want,
        `chart ${name}: ${charts[name].state} with ${charts[name].points} points, want ready with ${want}`);
    }
    const poly = await page.$eval(`${tid('chart-workout-route')} polyline`, (p) => p.getAttribute('points').trim().split(/\s+/).length);
    check(poly === EXPECT['workout-route'], `the route's polyline has ${poly} points`);
    await shot(page, 'user');
  });

  await step("a phone's sync shows up live", async () => {
    const ack = await apiAsAdmin('POST', `/api/v1/sdk/users/${KNOWN}/sync`, {
      provider: 'apple', sdkVersion: '1.0.0', syncTimestamp: new Date().toISOString(),
      data: { records: [{ id: `live-${Date.now()}`, type: 'HKQuantityTypeIdentifierHeartRate', unit: 'count/min', value: 77,
        startDate: `${DAY}T12:00:00Z`, endDate: `${DAY}T12:00:00Z`, source: { name: 'Live Watch', bundleIdentifier: 'com.apple.health' } }] },
    });
    check(ack.batch_id, 'the sync was acknowledged with its batch id');
    await page.waitForSelector(`${tid('sync-run')}[data-run-id="${ack.batch_id}"]`, { timeout: 15000 });
  });

  await step('an Apple Health export imported with a progress bar', async () => {
    await page.goto(`${BASE}/console/import`);
    await page.fill(tid('import-user-search'), 'Brow');
    await page.click(`${tid('import-user-list')} >> text=made-in-browser`);
    await page.setInputFiles(tid('import-file'), env('WH_IMPORT_FILE'));
    await page.click(tid('import-submit'));
    await page.waitForSelector(tid('import-progress'));
    await page.waitForSelector(`${tid('import-state')}[data-state="completed"]`, { timeout: 30000 });
    await page.waitForSelector(tid('import-done'));
    await shot(page, 'import');
    const runs = await apiAsAdmin('GET', `/api/v1/users/${created}/sync/runs?source=import`);
    check(runs.length === 1 && runs[0].status === 'success', `the import's run: ${JSON.stringify(runs)}`);
  });

  await step('exports download with the session', async () => {
    await page.goto(`${BASE}/console/exports`);
    await page.waitForSelector('[data-testid^="export-"]');
    const links = await page.$$eval('a[href*="/api/v1/"]', (as) => as.map((a) => a.getAttribute('href')));
    check(links.length > 0, 'the exports page links downloads');
    for (const href of links) check(!/value=|\d+\.\d+bpm/.test(href), `a download's address holds no health value: ${href}`);
    const csv = await page.evaluate(async (u) => {
      const r = await fetch(`/api/v1/users/${u}/timeseries.csv?start_time=2026-03-10&end_time=2026-03-11&types=heart_rate`);
      return { status: r.status, type: r.headers.get('content-type'), lines: (await r.text()).trim().split('\n').length };
    }, KNOWN);
    check(csv.status === 200 && /csv/.test(csv.type) && csv.lines === 1442, `the day's CSV (a header, 1,440 minutes and the live sync's sample): ${JSON.stringify(csv)}`);
  });

  await step('a key created and shown once', async () => {
    await page.goto(`${BASE}/console/credentials`);
    await page.click(tid('key-create-open'));
    await page.fill(tid('key-create-name'), 'from the browser');
    await page.click(tid('key-create-submit'));
    await page.waitForSelector(tid('secret-value'));
    const key = (await page.textContent(tid('secret-value'))).trim();
    check(/^sk-/.test(key), `the new key "${key.slice(0, 6)}…"`);
    const ok = await fetch(`${BASE}/api/v1/users`, { headers: { 'X-Open-Wearables-API-Key': key } });
    check(ok.status === 200, `the shown key answers ${ok.status}`);
    await shot(page, 'credentials');
    await page.reload();
    await page.waitForSelector(tid('key-table'));
    check(!(await page.content()).includes(key), 'the key is not shown again');
  });

  await step('an admin makes a viewer account', async () => {
    await page.goto(`${BASE}/console/accounts`);
    await page.click(tid('account-create-open'));
    await page.fill(tid('account-create-email'), VIEWER.email);
    await page.fill(tid('account-create-password'), VIEWER.password);
    await page.selectOption(tid('account-create-role'), 'viewer');
    await page.click(tid('account-create-submit'));
    await page.waitForSelector(`${tid('account-row')}:has-text("${VIEWER.email}")`);
  });

  await step('the audit trail shows who did what', async () => {
    await page.goto(`${BASE}/console/audit`);
    await page.waitForSelector(tid('audit-table'));
    await page.fill(tid('audit-user'), KNOWN);
    await page.selectOption(tid('audit-action'), 'read');
    await page.click(tid('audit-apply'));
    await page.waitForSelector(`${tid('audit-row')}:has-text("${ADMIN.email}")`);
    const rows = await page.$$eval(tid('audit-row'), (rs) => rs.map((r) => r.textContent));
    check(rows.length > 0 && rows.every((r) => r.includes(KNOWN) && r.includes('read')), `audit rows: ${rows.slice(0, 3)}`);
    await shot(page, 'audit');
  });

  await step('a viewer reads, and is refused a change', async () => {
    const { page: vp } = await newPage('viewer');
    await login(vp, BASE, VIEWER);
    await vp.goto(`${BASE}/console/users`);
    await vp.waitForSelector(tid('users-table'));
    check((await vp.$$(tid('users-create-open'))).length === 0, 'a viewer sees no create button');
    check((await vp.$$(tid('users-delete-button'))).length === 0, 'a viewer sees no delete buttons');
    const audit = await vp.evaluate(async () => (await fetch('/api/v1/audit')).status);
    check(audit === 403, `a viewer's read of the audit trail answers ${audit}`);
    const st = await vp.evaluate(async () => {
      const s = await (await fetch('/api/v1/console/session')).json();
      const r = await fetch('/api/v1/users', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf_token, 'Content-Type': 'application/json' },
        body: JSON.stringify({ external_user_id: 'viewer-made' }) });
      return r.status;
    });
    check(st === 403, `a viewer's create answers ${st}`);
  });

  await step('idle logoff', async () => {
    const { page: ip } = await newPage('idle');
    // An unattended overview keeps polling, and still logs off: its polls
    // do not count as use.
    await login(ip, IDLE_BASE, { email: 'idle@example.com', password: 'idle-password-1' });
    await ip.goto(`${IDLE_BASE}/console/`);
    await ip.waitForSelector(tid('overview-disk'));
    const t0 = Date.now();
    await ip.waitForSelector(tid('login-email'), { timeout: 15000 });
    check((await ip.$$(tid('overview-disk'))).length === 0, 'nothing of the overview stays after the logoff');
    result.timings.idle_logoff_ms = Date.now() - t0;
  });

  await step('a year of minute data: charts in time', async () => {
    const times = [];
    for (let i = 0; i < 5; i++) {
      const { context, page: yp } = await newPage('year');
      await login(yp, BASE, ADMIN);
      const t0 = Date.now();
      await openUser(yp, YEAR, DAY);
      times.push(await yp.evaluate(() => performance.getEntriesByName('wh-charts-ready')[0]?.startTime ?? -1));
      result.timings.wall_ms = (result.timings.wall_ms || []).concat(Date.now() - t0);
      if (i === 0) {
        const c = await chartStates(yp);
        result.year_charts = c;
        check(c['hr-day'].points === 288 && c['steps-year'].points === 365, `year charts: ${JSON.stringify(c)}`);
        result.year_bytes = await yp.evaluate(() => performance.getEntriesByType('resource')
          .filter((r) => r.name.includes('/api/')).reduce((n, r) => n + r.encodedBodySize, 0));
        result.year_decoded_bytes = await yp.evaluate(() => performance.getEntriesByType('resource')
          .filter((r) => r.name.includes('/api/')).reduce((n, r) => n + r.decodedBodySize, 0));
        result.asset_bytes = await yp.evaluate(() => performance.getEntriesByType('resource')
          .filter((r) => r.name.includes('/console/assets/')).reduce((n, r) => n + r.encodedBodySize, 0));
      }
      await context.close();
    }
    times.sort((a, b) => a - b);
    result.timings.charts_ready_ms = times;
    result.timings.charts_ready_median_ms = times[2];
    check(times.every((t) => t > 0), `charts-ready marks: ${times}`);
  });
} catch (e) {
  console.log(`FAIL ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
