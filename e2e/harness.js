// What the browser tests share: a real deployment in miniature (a throwaway
// redis-server, prices written by `stockd update`, users by `stockd
// seed-users`, the API served by `stockd serve`), Debian's Chromium through
// playwright-core, and the page's watchers (requests, console errors, the
// price streams it holds). Nothing leaves this machine; everything started
// here is stopped at the end, whether the tests pass or not.
//
// Environment: STOCKD_BIN (a built stockd; else it is built from this
// checkout), CHROMIUM (default /usr/bin/chromium), REDIS_SERVER (default
// redis-server on PATH).

import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..');
export const artifacts = join(here, 'artifacts');
const run = promisify(execFile);

// How long the page may take to show what the service has: the contract
// says a stream event follows a write within one second; the rest is slack
// for a loaded two-core machine, not a speed claim.
export const SETTLE_MS = 10_000;

const processes = [];

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
export async function waitUntil(what, check, child, ms = SETTLE_MS) {
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

// startStack starts redis-server, writes the prices of csv and the users
// with `stockd update` and `stockd seed-users`, serves the API, and opens
// Chromium. stocks is either {STOCKS: 'a,b'} or {STOCKS_FILE: lines} (the
// file's text, written here). It returns what the tests use: the origin,
// the environment of the stockd commands, a runner of them, a work
// directory, the browser, stopServer() and startServer(env changes) to
// restart the API, and stop().
export async function startStack({ stocks, csv, env: extra = {} }) {
  const workdir = await mkdtemp(join(tmpdir(), 'stockd-e2e-'));
  await mkdir(artifacts, { recursive: true });

  let stockdBin = process.env.STOCKD_BIN;
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
  const origin = `http://127.0.0.1:${httpPort}`;
  const fixture = join(workdir, 'prices.csv');
  await writeFile(fixture, csv);
  const market = {};
  if (stocks.STOCKS_FILE != null) {
    market.STOCKS_FILE = join(workdir, 'stocks.txt');
    await writeFile(market.STOCKS_FILE, stocks.STOCKS_FILE);
  } else {
    market.STOCKS = stocks.STOCKS;
  }
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? workdir,
    HTTP_ADDR: `127.0.0.1:${httpPort}`,
    PRICE_STORE: 'redis',
    ORDER_STORE: 'memory',
    PRICE_SOURCE: 'csv',
    PRICE_CSV: fixture,
    REDIS_ADDR: `127.0.0.1:${redisPort}`,
    AUTH: 'off',
    // A stop needs no grace for a load balancer here.
    SHUTDOWN_DELAY: '0',
    ...market,
    ...extra,
  };
  const stockd = async (e, ...args) => {
    try {
      return await run(stockdBin, args, { env: e, timeout: 60_000 });
    } catch (err) {
      throw new Error(`stockd ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}`);
    }
  };
  await stockd(env, 'update');
  await stockd(env, 'seed-users');
  let server;
  // startServer serves the API (again, after stopServer) with env and
  // the changes in more.
  const startServer = async (more = {}) => {
    server = start('stockd serve', stockdBin, ['serve'], { ...env, ...more });
    await waitUntil('stockd serve to be ready', async () => (await fetch(`${origin}/readyz`)).ok, server);
  };
  const stopServer = () => stop(server);
  await startServer();

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const stopAll = async () => {
    await browser.close().catch(() => {});
    for (const p of processes.slice().reverse()) await stop(p);
    await rm(workdir, { recursive: true, force: true });
  };
  return { origin, env, stockd, workdir, browser, startServer, stopServer, stop: stopAll };
}

// The page's streams, counted where they are made: every EventSource the
// page constructs is kept, so that a test can ask how many are open (not
// closed by the page, nor given up by the browser) and how many were open
// at most at once, and with which URLs.
function countEventSources() {
  const Native = window.EventSource;
  const made = [];
  const log = { max: 0, urls: [] };
  const openNow = () => made.filter((es) => es.readyState !== Native.CLOSED).length;
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      made.push(this);
      log.urls.push(new URL(url, location.href).href);
      log.max = Math.max(log.max, openNow());
    }
  };
  window.__streams = () => ({ open: openNow(), max: log.max, urls: log.urls.slice() });
}

const isStream = (url) => {
  const { pathname } = new URL(url);
  return pathname === '/api/stream' || /^\/api\/stocks\/[^/]+\/stream$/.test(pathname);
};

// openPage opens a page in a context of its own (so its own localStorage),
// recording its requests, its console errors and its streams both in the
// page (above) and on the wire: stream requests in flight from their
// request to their end (finished or failed, an aborted one included).
export async function openPage(browser, { viewport, timezoneId }) {
  const context = await browser.newContext({ viewport, timezoneId });
  await context.addInitScript(countEventSources);
  const page = await context.newPage();
  page.setDefaultTimeout(SETTLE_MS);
  const seen = { requests: [], consoleErrors: [], streams: [], inFlight: new Set(), maxInFlight: 0 };
  page.on('request', (r) => {
    seen.requests.push(r.url());
    if (!isStream(r.url())) return;
    seen.streams.push(r.url());
    seen.inFlight.add(r);
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight.size);
  });
  const ended = (r) => seen.inFlight.delete(r);
  page.on('requestfinished', ended);
  page.on('requestfailed', ended);
  page.on('console', (m) => { if (m.type() === 'error') seen.consoleErrors.push(`${m.text()} ${m.location().url ?? ''}`.trim()); });
  page.on('pageerror', (err) => seen.consoleErrors.push(`uncaught: ${err.message}`));
  page.seen = seen;
  return page;
}

// streamsOf says what the page holds: from the page, its EventSources open
// now and at most at once and their URLs; from the wire, the stream
// requests made, in flight now and at most at once.
export async function streamsOf(page) {
  const inPage = await page.evaluate(() => window.__streams());
  const { seen } = page;
  return { ...inPage, requests: seen.streams.slice(), inFlight: seen.inFlight.size, maxInFlight: seen.maxInFlight };
}

// streamStocks is the list of stocks of a /api/stream URL.
export const streamStocks = (url) => new URL(url).searchParams.get('stocks').split(',');

// waitForCards waits until the page shows charts of exactly stocks, in
// that order, each live with its series (points > 0 where want says so).
export async function waitForCards(page, stocks, { withPoints = stocks } = {}) {
  await page.waitForFunction(({ stocks, withPoints }) => {
    const cards = [...document.querySelectorAll('article[data-stock]')];
    return cards.length === stocks.length
      && cards.every((c, i) => c.dataset.stock === stocks[i] && c.dataset.stream === 'live')
      && cards.every((c) => !withPoints.includes(c.dataset.stock) || Number(c.dataset.points) > 0);
  }, { stocks, withPoints }, { timeout: SETTLE_MS }).catch(async (err) => {
    const shown = await page.locator('article[data-stock]').evaluateAll((els) => els.map((e) => `${e.dataset.stock}:${e.dataset.stream}:${e.dataset.points}`));
    const problem = await page.locator('#stocks-error, #watch-status').allInnerTexts();
    throw new Error(`wanted the charts ${stocks.join(' ')}, live; the page shows ${shown.join(' ')} ${problem.join(' ')}\n${err.message}`);
  });
}
