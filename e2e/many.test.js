// The dashboard in a market of 10,000 stocks (STOCKS_FILE): the page lists
// none of them whole, holds one stream whatever it charts, finds any stock
// by name, and its buy form and orders list load as with three. See
// harness.js for what runs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SETTLE_MS, openPage, startStack, streamStocks, streamsOf, waitForCards } from './harness.js';

const N = 10_000;
const STOCKS = Array.from({ length: N }, (_, i) => `stock${i + 1}`);
// The first six in name order (stock10000 sorts before stock1001).
const FIRST = STOCKS.slice().sort().slice(0, 6);
const WATCH_MAX = 50;

// Two minutes of every stock, one tick each: 20,000 rows, on the day
// stockd update takes for rows without a date (today). A stock's price
// is a function of its number, so the expected ones are computed.
const priceOf = (i, minute) => 100 + (i % 900) + minute;
function fixtureCSV() {
  const rows = ['Time,Stock,Price'];
  for (let i = 1; i <= N; i++) {
    rows.push(`090010,stock${i},${priceOf(i, 0)}`, `090110,stock${i},${priceOf(i, 1)}`);
  }
  return rows.join('\n') + '\n';
}

let stack, page, origin;

before(async () => {
  stack = await startStack({
    stocks: { STOCKS_FILE: `# ${N} stocks, one a line\n${STOCKS.join('\n')}\n` },
    csv: fixtureCSV(),
    // Three streams an address: the page's and two a test holds to fill
    // them.
    env: { SEED_USERS: 'user1:150000000,user2:6000000000', STREAM_LIMIT_PER_CLIENT: '3' },
  });
  ({ origin } = stack);
  page = await openPage(stack.browser, { viewport: { width: 1366, height: 900 } });
});

after(async () => {
  await stack?.stop();
});

const requests = () => page.seen.requests;
const card = (stock) => page.locator(`article[data-stock="${stock}"]`);

describe(`dashboard with ${N.toLocaleString('en')} stocks`, () => {
  test('the page loads in a few seconds: the first six stocks in name order, one stream, no listing of every stock', async (t) => {
    const started = Date.now();
    await page.goto(origin + '/');
    await waitForCards(page, FIRST);
    await page.waitForFunction(() => document.querySelectorAll('#orders-body tr').length > 0, null, { timeout: SETTLE_MS });
    await page.locator('#buy-user-credit', { hasText: 'user1 has' }).waitFor();
    const ms = Date.now() - started;
    t.diagnostic(`charts live with their series, orders and credit shown: ${ms} ms after the page was asked`);
    assert.ok(ms < SETTLE_MS, `${ms} ms`);
    assert.equal(await page.locator('#orders-body').innerText(), 'No orders yet.');
    // Each chart has its two minutes.
    for (const stock of FIRST) assert.equal(await card(stock).getAttribute('data-points'), '2');
    const listings = requests().filter((u) => new URL(u).pathname === '/api/stocks');
    assert.deepEqual(listings.map((u) => new URL(u).search), ['?limit=6'], 'the stocks read: a page of six, never all');
    const s = await streamsOf(page);
    assert.deepEqual([s.open, s.max, s.maxInFlight], [1, 1, 1], 'one stream open, never more');
    assert.deepEqual(s.requests.map((u) => new URL(u).pathname), ['/api/stream']);
    assert.deepEqual(streamStocks(s.requests[0]), FIRST);
    assert.deepEqual(page.seen.consoleErrors, []);
  });

  test('a buy through the form is accepted, listed and in the positions', async () => {
    await page.getByLabel('Stock', { exact: true }).fill('stock10000');
    await page.getByLabel('Quantity', { exact: true }).fill('5');
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result, null, { timeout: SETTLE_MS });
    const result = page.locator('#buy-result');
    assert.equal(await result.getAttribute('data-result'), 'Accept', await result.innerText());
    assert.equal(await result.getAttribute('data-credit'), String(150_000_000 - 5 * priceOf(N, 1)));
    await page.waitForFunction(() => document.querySelector('#orders-body tr td:nth-child(4)')?.textContent === 'stock10000', null, { timeout: SETTLE_MS });
    await page.waitForFunction(() => document.querySelector('#positions-body tr[data-stock="stock10000"]')?.dataset.quantity === '5', null, { timeout: SETTLE_MS });
    assert.equal(await page.locator('#positions-body tr[data-stock="stock10000"]').getAttribute('data-market-value'), String(5 * priceOf(N, 1)));
    // The stock is watched already: the stream stays as it was.
    const s = await streamsOf(page);
    assert.deepEqual(s.requests.map((u) => streamStocks(u)), [FIRST]);
  });

  test('stock9999 is found by search and watched: its chart gets its series and ticks over the one stream', async () => {
    const before = await streamsOf(page);
    const search = page.getByLabel('Name starts with');
    await search.click();
    await page.keyboard.type('STOCK999', { delay: 20 });
    const found = ['stock999', ...Array.from({ length: 10 }, (_, d) => `stock999${d}`)];
    await page.waitForFunction((n) => document.querySelectorAll('#search-results li').length === n
      && document.querySelector('#search-results').dataset.prefix === 'stock999', found.length, { timeout: SETTLE_MS });
    assert.deepEqual(await page.locator('#search-results li').evaluateAll((els) => els.map((e) => e.dataset.stock)), found);
    assert.match(await page.locator('#search-results li[data-stock="stock9999"]').innerText(), new RegExp(`${priceOf(9999, 1)} at 09:01`));
    const asked = requests().filter((u) => new URL(u).searchParams.has('q'));
    assert.ok(asked.length <= 2, `${asked.length} search requests for eight keys`);

    await page.getByRole('button', { name: 'Watch stock9999' }).click();
    await waitForCards(page, [...FIRST, 'stock9999']);
    assert.equal(await card('stock9999').getAttribute('data-points'), '2');
    assert.equal(await card('stock9999').locator('.latest-price').getAttribute('data-price'), String(priceOf(9999, 1)));
    let s = await streamsOf(page);
    assert.equal(s.requests.length, before.requests.length + 1, 'the stream was opened once more');
    assert.deepEqual(streamStocks(s.requests.at(-1)), [...FIRST, 'stock9999']);
    assert.deepEqual([s.open, s.max, s.maxInFlight], [1, 1, 1], 'one stream open, never more');

    // A tick of stock9999 comes over that stream.
    const tick = join(stack.workdir, 'tick.csv');
    await writeFile(tick, 'Time,Stock,Price\n090210,stock9999,4242\n');
    await stack.stockd({ ...stack.env, PRICE_CSV: tick }, 'update');
    await page.waitForFunction(() => document.querySelector('article[data-stock="stock9999"] .latest-price')?.dataset.price === '4242', null, { timeout: SETTLE_MS });
    assert.equal(await card('stock9999').getAttribute('data-points'), '3');
    s = await streamsOf(page);
    assert.equal(s.requests.length, before.requests.length + 1, 'no stream opened for the tick');
  });

  test('a prefix of thousands shows the first twenty and says to type more', async () => {
    await page.getByLabel('Name starts with').fill('stock1');
    await page.waitForFunction(() => document.querySelector('#search-results')?.dataset.prefix === 'stock1', null, { timeout: SETTLE_MS });
    const shown = await page.locator('#search-results li').evaluateAll((els) => els.map((e) => e.dataset.stock));
    assert.deepEqual(shown, STOCKS.filter((n) => n.startsWith('stock1')).sort().slice(0, 20));
    assert.match(await page.locator('#search-status').innerText(), /first 20 stocks that start with “stock1”.*type more/);
  });

  test(`${WATCH_MAX} charts: still one stream, the form and the orders load; a ${WATCH_MAX + 1}st is refused with a message`, async (t) => {
    const watched = Array.from({ length: WATCH_MAX }, (_, i) => `stock${N - i * 7}`);
    await page.evaluate((list) => localStorage.setItem('stockd.watchlist', JSON.stringify(list)), watched);
    const started = Date.now();
    await page.reload();
    await waitForCards(page, watched);
    await page.waitForFunction(() => document.querySelectorAll('#orders-body tr[data-order-id]').length > 0, null, { timeout: SETTLE_MS });
    t.diagnostic(`${WATCH_MAX} charts live with their series and the orders shown: ${Date.now() - started} ms after the reload`);
    const s = await streamsOf(page);
    assert.deepEqual([s.open, s.max], [1, 1], 'one EventSource open, never more');
    assert.equal(s.maxInFlight, 1, 'one stream request in flight, never more');
    assert.deepEqual(streamStocks(s.requests.at(-1)), watched);

    await page.getByLabel('Name starts with').fill('stock9998');
    await page.getByRole('button', { name: 'Watch stock9998' }).click();
    await page.locator('#watch-status', { hasText: `at most ${WATCH_MAX} stocks` }).waitFor();
    assert.match(await page.locator('#watch-status').innerText(), /full.*Remove a chart to watch stock9998/);
    assert.equal(await page.locator('article[data-stock]').count(), WATCH_MAX);
    // One chart less, and there is room.
    await page.getByRole('button', { name: `Stop watching ${watched[0]}` }).click();
    await page.getByRole('button', { name: 'Watch stock9998' }).click();
    await waitForCards(page, [...watched.slice(1), 'stock9998']);
    assert.equal((await streamsOf(page)).max, 1);
    assert.deepEqual(page.seen.consoleErrors, []);
  });

  const cardsSay = (state) => page.waitForFunction((state) => [...document.querySelectorAll('article[data-stock]')].every((c) => c.dataset.stream === state), state, { timeout: SETTLE_MS });

  test('a stream refused for too many streams (429) is shown on each chart and tried again until there is room', async () => {
    // The page holds one of this address's three streams; two more fill
    // them, so that a second page is refused.
    const held = [];
    for (let i = 0; i < 2; i++) {
      const c = new AbortController();
      const res = await fetch(`${origin}/api/stream?stocks=stock1`, { signal: c.signal });
      assert.equal(res.status, 200);
      held.push(c);
    }
    const other = await openPage(stack.browser, { viewport: { width: 1366, height: 900 } });
    try {
      await other.goto(origin + '/');
      await other.waitForFunction((n) => {
        const cards = [...document.querySelectorAll('article[data-stock]')];
        return cards.length === n && cards.every((c) => c.dataset.stream === 'down');
      }, FIRST.length, { timeout: SETTLE_MS });
      assert.match(await other.locator('article[data-stock] .stream-state').first().innerText(), /stream unavailable, retrying in \d+ s/);
      assert.match(await other.locator('#stream-status').innerText(), /refused the price stream/);
      // Refused, yet the rest of the page works.
      await other.waitForFunction(() => document.querySelectorAll('#orders-body tr[data-order-id]').length > 0, null, { timeout: SETTLE_MS });
      for (const c of held) c.abort();
      await waitForCards(other, FIRST);
      const s = await streamsOf(other);
      assert.ok(s.requests.length >= 2, 'tried again');
      assert.deepEqual([s.open, s.max, s.maxInFlight], [1, 1, 1]);
    } finally {
      for (const c of held) c.abort();
      await other.context().close();
    }
  });

  test('the service restarts without a watched stock: the charts say reconnecting, then the stock is dropped', async () => {
    const shown = await page.locator('article[data-stock]').evaluateAll((els) => els.map((e) => e.dataset.stock));
    const gone = shown.at(-1);
    const fewer = join(stack.workdir, 'fewer.txt');
    await writeFile(fewer, STOCKS.filter((n) => n !== gone).join('\n') + '\n');
    await stack.stopServer();
    await cardsSay('reconnecting');
    assert.match(await page.locator('#stream-status').innerText(), /reconnecting/);
    await stack.startServer({ STOCKS_FILE: fewer });
    // The browser reconnects by itself and is refused (404): the page asks
    // which stock is gone, drops it and opens the stream without it (and
    // with stock10000, which user1 holds and no longer watches).
    await waitForCards(page, shown.slice(0, -1));
    assert.match(await page.locator('#watch-status').innerText(), new RegExp(`${gone} is no longer traded`));
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('stockd.watchlist'))), shown.slice(0, -1));
    const s = await streamsOf(page);
    assert.deepEqual(streamStocks(s.requests.at(-1)), [...shown.slice(0, -1), 'stock10000']);
    assert.deepEqual([s.open, s.max], [1, 1]);
  });
});
