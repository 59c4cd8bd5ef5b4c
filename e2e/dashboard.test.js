// The dashboard in a real browser (Debian's Chromium through playwright-core)
// against a real deployment in miniature: a throwaway redis-server, prices
// written by `stockd update`, users by `stockd seed-users`, the API served by
// `stockd serve`. Nothing leaves this machine; everything started here is
// stopped at the end, whether the tests pass or not.
//
// Environment: STOCKD_BIN (a built stockd; else it is built from this
// checkout), CHROMIUM (default /usr/bin/chromium), REDIS_SERVER (default
// redis-server on PATH).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const artifacts = join(here, 'artifacts');
const run = promisify(execFile);

// How long the page may take to show what the service has: the contract
// says a stream event follows a write within one second; the rest is slack
// for a loaded two-core machine, not a speed claim.
const SETTLE_MS = 10_000;

// The fixture: five minutes of three stocks, three ticks a minute, so that
// every minute has a distinct open, high, low and close. A row's price is a
// function of the stock, the minute and the second, so the expected closes
// are computed, not copied.
const STOCKS = ['stock1', 'stock2', 'stock3'];
const MINUTES = [0, 1, 2, 3, 4]; // 09:00 to 09:04
const SECONDS = [5, 20, 40];
const WAVE = [0, 30, -20, 40, 10];
const WITHIN = { 5: 0, 20: 18, 40: 6 }; // open, high, close; the open is the low
const priceOf = (s, m, sec) => 1000 * (s + 1) + WAVE[m] + WITHIN[sec];
const hhmmss = (m, sec) => `09${String(m).padStart(2, '0')}${String(sec).padStart(2, '0')}`;
function fixtureCSV() {
  const rows = ['Time,Stock,Price'];
  STOCKS.forEach((stock, s) => MINUTES.forEach((m) => SECONDS.forEach((sec) => rows.push(`${hhmmss(m, sec)},${stock},${priceOf(s, m, sec)}`))));
  return rows.join('\n') + '\n';
}
const lastClose = (s) => priceOf(s, MINUTES.at(-1), SECONDS.at(-1));

// The later tick: a minute after the fixture, at a price no fixture row has.
const TICK = { stock: 'stock1', time: '090530', price: 1111 };
const USER = { name: 'user1', credit: 150_000_000 };

const processes = [];
let workdir, browser, page, origin;
const requests = [];
const consoleErrors = [];

// Anything still running when node exits (a crash, a failed before hook)
// is killed: a test run never leaves servers behind.
process.on('exit', () => processes.forEach((p) => p.exitCode === null && p.kill('SIGKILL')));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// start runs a long-lived process, keeping its output for the failure
// message of whoever waits on it.
function start(name, cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (b) => { child.output += b; });
  child.stderr.on('data', (b) => { child.output += b; });
  child.label = name;
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.on('error', (err) => { child.output += `\n${name}: ${err.message}`; });
  processes.push(child);
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await child.exited;
  clearTimeout(killer);
}

// waitUntil polls check until it returns true, failing with what the
// process printed when it does not within the time.
async function waitUntil(what, check, child, ms = SETTLE_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${child.label} exited (${child.exitCode}) before ${what}:\n${child.output}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${child ? `:\n${child.output}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function redisAnswersPing(port) {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.write('PING\r\n'));
    sock.on('data', (b) => { sock.destroy(); resolve(b.toString().startsWith('+PONG')); });
    sock.on('error', () => resolve(false));
  });
}

async function stockd(env, ...args) {
  try {
    return await run(stockdBin, args, { env, timeout: 60_000 });
  } catch (err) {
    throw new Error(`stockd ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
  }
}

let stockdBin, env;

before(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'stockd-e2e-'));
  await mkdir(artifacts, { recursive: true });

  stockdBin = process.env.STOCKD_BIN;
  if (!stockdBin) {
    stockdBin = join(workdir, 'stockd');
    await run('go', ['build', '-o', stockdBin, './cmd/stockd'], { cwd: repo, timeout: 300_000 });
  }

  const redisPort = await freePort();
  const redis = start('redis-server', process.env.REDIS_SERVER || 'redis-server', [
    '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workdir,
  ], process.env);
  await waitUntil('redis-server to answer PING', () => redisAnswersPing(redisPort), redis);

  const httpPort = await freePort();
  origin = `http://127.0.0.1:${httpPort}`;
  const fixture = join(workdir, 'prices.csv');
  await writeFile(fixture, fixtureCSV());
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? workdir,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    PRICE_STORE: 'redis',
    ORDER_STORE: 'memory',
    PRICE_SOURCE: 'csv',
    PRICE_CSV: fixture,
    REDIS_ADDR: `127.0.0.1:${redisPort}`,
    SEED_USERS: `${USER.name}:${USER.credit},user2:6000000000`,
    STOCKS: STOCKS.join(','),
    AUTH: 'off',
    APP_TIMEZONE: 'UTC',
  };
  await stockd(env, 'update');
  await stockd(env, 'seed-users');
  const server = start('stockd serve', stockdBin, ['serve'], env);
  await waitUntil('stockd serve to be ready', async () => (await fetch(`${origin}/readyz`)).ok, server);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(SETTLE_MS);
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${m.text()} ${m.location().url ?? ''}`.trim()); });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const p of processes.slice().reverse()) await stop(p);
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

const card = (stock) => page.locator(`article[data-stock="${stock}"]`);
const latestPrice = (stock) => card(stock).locator('.latest-price').getAttribute('data-price');

describe('dashboard', () => {
  test('the page loads with a chart per stock, no console error and no request to another host', async () => {
    const res = await page.goto(origin + '/');
    assert.equal(res.status(), 200);
    await page.locator('article[data-stock]').nth(STOCKS.length - 1).waitFor()
      .catch(async (err) => { throw new Error(`no charts: ${await page.locator('#stocks-error').innerText()}\n${err.message}`); });
    assert.deepEqual(await page.locator('article[data-stock]').evaluateAll((els) => els.map((e) => e.dataset.stock)), STOCKS);
    await page.waitForFunction((n) => [...document.querySelectorAll('article[data-stock]')].every((c) => Number(c.dataset.points) === n),
      MINUTES.length, { timeout: SETTLE_MS });
    assert.deepEqual(consoleErrors, []);
    const foreign = requests.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], 'requests to another host');
  });

  test('the charts show the fixture prices, drawn on the canvas', async () => {
    for (const [s, stock] of STOCKS.entries()) {
      assert.equal(await latestPrice(stock), String(lastClose(s)), `${stock} latest price`);
      assert.equal(await card(stock).getAttribute('data-latest-time'), '09:04');
      assert.match(await card(stock).locator('.latest-price').innerText(), new RegExp(String(lastClose(s)).replace(/\B(?=(\d{3})+$)/g, '.?')));
      // The legend shows the last minute's close, high and low (the band's
      // edges) when the pointer is off the chart.
      const legend = await card(stock).locator('.u-legend .u-series .u-value').allInnerTexts();
      const digits = legend.slice(1).map((v) => Number(v.replace(/\D/g, '')));
      const m = MINUTES.at(-1);
      assert.deepEqual(digits, [lastClose(s), priceOf(s, m, 20), priceOf(s, m, 5)], `${stock} close, high, low: ${legend}`);
      // The canvas has the close line and the band on it: count the pixels
      // that are not background.
      const inked = await card(stock).locator('canvas').evaluate((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
        return n;
      });
      assert.ok(inked > 500, `${stock}: only ${inked} pixels drawn`);
    }
  });

  test('a tick ingested by stockd update in another process moves the chart', async () => {
    const later = join(workdir, 'tick.csv');
    await writeFile(later, `Time,Stock,Price\n${TICK.time},${TICK.stock},${TICK.price}\n`);
    await stockd({ ...env, PRICE_CSV: later }, 'update');
    await page.waitForFunction(({ stock, price }) =>
      document.querySelector(`article[data-stock="${stock}"] .latest-price`)?.dataset.price === String(price), TICK, { timeout: SETTLE_MS });
    assert.equal(await card(TICK.stock).getAttribute('data-points'), String(MINUTES.length + 1));
    assert.equal(await card(TICK.stock).getAttribute('data-latest-time'), '09:05');
    // The other stocks did not move.
    assert.equal(await latestPrice('stock2'), String(lastClose(1)));
  });

  test('a buy through the form shows Accept and the credit left, and the order is listed', async () => {
    const quantity = 3;
    await page.getByLabel('User', { exact: true }).fill(USER.name);
    await page.getByLabel('Stock', { exact: true }).selectOption(TICK.stock);
    await page.getByLabel('Quantity', { exact: true }).fill(String(quantity));
    await page.getByRole('button', { name: /buy/i }).click();
    const result = page.locator('#buy-result');
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result, null, { timeout: SETTLE_MS });
    assert.equal(await result.getAttribute('data-result'), 'Accept', await result.innerText());
    const credit = USER.credit - quantity * TICK.price;
    assert.equal(await result.getAttribute('data-credit'), String(credit));
    assert.match(await result.innerText(), /Accepted/);
    const first = page.locator('#orders-body tr').first();
    await page.waitForFunction(() => document.querySelector('#orders-body tr')?.dataset.orderId, null, { timeout: SETTLE_MS });
    const cells = await first.locator('td').allInnerTexts();
    assert.equal(cells[2], USER.name);
    assert.equal(cells[3], TICK.stock);
    assert.equal(cells[4], 'accepted');
    assert.match(cells[6], /^3$/);
  });

  test('the orders list pages forward and back', async () => {
    // Twelve more orders through the API: two pages of ten.
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${origin}/api/buy-stock`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'user2', stockname: 'stock2', quantity: 10 + i }),
      });
      assert.equal(res.status, 201, await res.text());
    }
    await page.reload();
    const ids = () => page.locator('#orders-body tr').evaluateAll((rows) => rows.map((r) => r.dataset.orderId));
    await page.waitForFunction(() => document.querySelectorAll('#orders-body tr[data-order-id]').length === 10, null, { timeout: SETTLE_MS });
    const page1 = await ids();
    assert.ok(await page.getByRole('button', { name: 'Previous' }).isDisabled());
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2').waitFor({ timeout: SETTLE_MS });
    const page2 = await ids();
    const all = await (await fetch(`${origin}/api/orders?limit=1000`)).json();
    assert.ok(all.results.length > 10 && all.results.length <= 20, `${all.results.length} orders listed`);
    assert.equal(page2.length, all.results.length - 10, 'the rest on the second page');
    assert.deepEqual([...page1, ...page2], all.results.map((o) => String(o.id)), 'both pages are the whole list, in order');
    assert.deepEqual(page1.filter((id) => page2.includes(id)), [], 'no order on both pages');
    assert.ok(await page.getByRole('button', { name: 'Next' }).isDisabled());
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1').waitFor({ timeout: SETTLE_MS });
    assert.deepEqual(await ids(), page1);
  });

  test('so far: no console error, no request to another host; screenshot kept', async () => {
    // The result of the form's buy is gone after the reload: buy once more
    // so that the picture shows one.
    await page.getByLabel('Quantity', { exact: true }).fill('1');
    await page.getByRole('button', { name: /buy/i }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result === 'Accept', null, { timeout: SETTLE_MS });
    await page.waitForFunction(() => [...document.querySelectorAll('article[data-stock]')].every((c) => c.dataset.stream === 'live'), null, { timeout: SETTLE_MS });
    const shot = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) await copyFile(shot, join(repo, 'docs', 'dashboard.png'));
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests.filter((u) => new URL(u).origin !== origin), []);
  });

  test('an error of the API is shown readably', async () => {
    await page.getByLabel('User', { exact: true }).fill('nobody');
    await page.getByLabel('Quantity', { exact: true }).fill('1');
    await page.getByRole('button', { name: /buy/i }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result === 'error', null, { timeout: SETTLE_MS });
    const text = await page.locator('#buy-result').innerText();
    // The problem's title and detail, not a status code or raw JSON.
    assert.doesNotMatch(text, /[{}]/);
    assert.match(text, /user/i);
    // The only console errors are the browser's notes on the failed requests.
    assert.ok(consoleErrors.every((e) => /Failed to load resource/.test(e)), consoleErrors.join('\n'));
  });
});
