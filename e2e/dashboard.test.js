// The dashboard in a real browser (Debian's Chromium through playwright-core)
// against a real deployment in miniature (see harness.js), in a market of
// eight stocks: more than the six HTTP/1.1 connections a browser keeps to a
// host, so that a stream per chart would starve the page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SETTLE_MS, artifacts, openPage, repo, startStack, streamStocks, streamsOf, waitForCards, waitUntil } from './harness.js';

// The market's zone, on purpose not the browser's (TIMEZONE_ID below) nor
// UTC, so that a time shown in the wrong zone is seen.
const ZONE = 'America/New_York';
const BROWSER_ZONE = 'Asia/Tokyo';

// The trading days: the fixture is on two days before today (in ZONE), the
// later of them the latest; today is the day that starts during the test.
// They are recent, since a store keeps an earlier day PRICE_HISTORY_DAYS.
const dateIn = (zone, d = new Date()) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
const addDays = (day, n) => new Date(Date.parse(`${day}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const TODAY = dateIn(ZONE);
const DAY1 = addDays(TODAY, -2);
const DAY2 = addDays(TODAY, -1);

// The fixture: five minutes of eight stocks on DAY2, three ticks a minute,
// so that every minute has a distinct open, high, low and close, and two
// minutes on DAY1. A row's price is a function of the stock, the minute
// and the second, so the expected closes are computed, not copied.
const STOCKS = Array.from({ length: 8 }, (_, i) => `stock${i + 1}`);
// The page starts with the first six in name order.
const WATCHED = STOCKS.slice(0, 6);
const MINUTES = [0, 1, 2, 3, 4]; // 09:00 to 09:04
const SECONDS = [5, 20, 40];
const WAVE = [0, 30, -20, 40, 10];
const WITHIN = { 5: 0, 20: 18, 40: 6 }; // open, high, close; the open is the low
const priceOf = (s, m, sec) => 1000 * (s + 1) + WAVE[m] + WITHIN[sec];
const hhmmss = (m, sec) => `09${String(m).padStart(2, '0')}${String(sec).padStart(2, '0')}`;
const DAY1_MINUTES = [30, 31]; // 09:30 and 09:31
const day1PriceOf = (s, m, sec) => 500 * (s + 1) + m + WITHIN[sec];
function fixtureCSV() {
  const rows = ['Date,Time,Stock,Price'];
  STOCKS.forEach((stock, s) => MINUTES.forEach((m) => SECONDS.forEach((sec) => rows.push(`${DAY2},${hhmmss(m, sec)},${stock},${priceOf(s, m, sec)}`))));
  STOCKS.forEach((stock, s) => DAY1_MINUTES.forEach((m) => SECONDS.forEach((sec) => rows.push(`${DAY1},${hhmmss(m, sec)},${stock},${day1PriceOf(s, m, sec)}`))));
  return rows.join('\n') + '\n';
}
const lastClose = (s) => priceOf(s, MINUTES.at(-1), SECONDS.at(-1));

// The later tick: a minute after the fixture, at a price no fixture row has.
const TICK = { stock: 'stock1', time: '090530', price: 1111 };
// The positions test holds stock8 (not watched then) and moves it: 09:06
// at 9000, then at 9100 (and a late tick changes 09:01); 09:05, with no
// tick, carries 09:04's close. The search finds it there later.
const STOCK8_LATEST = { price: 9100, time: '09:06', points: MINUTES.length + 2 };
const USER = { name: 'user1', credit: 150_000_000 };
// A user whose figures pass 2^53 (where a JavaScript number rounds) and
// whose market value passes 2^63.
const WHALE = { name: 'whale', credit: 2n ** 63n - 1n };

let stack, page, origin, env, workdir, stockd;
let requests, consoleErrors;

before(async () => {
  stack = await startStack({
    stocks: { STOCKS: STOCKS.join(',') },
    csv: fixtureCSV(),
    env: {
      SEED_USERS: `${USER.name}:${USER.credit},user2:6000000000,${WHALE.name}:${WHALE.credit}`,
      APP_TIMEZONE: ZONE,
      // Rows without a date (the later ticks below) are on the fixture's
      // latest day.
      PRICE_DATE: DAY2,
    },
  });
  ({ origin, env, workdir } = stack);
  stockd = stack.stockd;
  page = await open({ width: 1366, height: 900 });
  ({ requests, consoleErrors } = page.seen);
});

after(async () => {
  await stack?.stop();
});

// open opens a page in a context of its own, in the browser zone; its
// console errors count with the main page's.
async function open(viewport) {
  const p = await openPage(stack.browser, { viewport, timezoneId: BROWSER_ZONE });
  if (consoleErrors) p.seen.consoleErrors = consoleErrors;
  if (requests) p.seen.requests = requests;
  return p;
}

const card = (stock) => page.locator(`article[data-stock="${stock}"]`);
const latestPrice = (stock) => card(stock).locator('.latest-price').getAttribute('data-price');
const picker = (stock) => card(stock).getByLabel('Show day');
const pickerOptions = (stock) => picker(stock).locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent]));
// legendValues: the legend's open, high, low and close, as numbers.
const legendValues = async (stock) => (await card(stock).locator('.u-legend .u-series .u-value').allInnerTexts())
  .slice(1).map((v) => Number(v.replace(/\D/g, '')));
// waitForCard waits until the card's data attributes say what want says;
// on a timeout it says what they said instead.
const waitForCard = (stock, want) => page.waitForFunction(({ stock, want }) => {
  const c = document.querySelector(`article[data-stock="${stock}"]`);
  return c && Object.entries(want).every(([k, v]) => c.dataset[k] === v);
}, { stock, want }, { timeout: SETTLE_MS }).catch(async (err) => {
  const seen = await card(stock).evaluate((c) => ({ ...c.dataset })).catch(() => 'no card');
  throw new Error(`${stock}: wanted ${JSON.stringify(want)}, the card says ${JSON.stringify(seen)}\n${err.message}`);
});
// The positions panel: a row per stock held, its figures in data
// attributes (exact integers as decimal text). waitForPosition waits until
// the row of stock says what want says, or until there is no row when want
// is null; on a timeout it says what the panel showed instead.
const positionRow = (stock) => page.locator(`#positions-body tr[data-stock="${stock}"]`);
const waitForPosition = (stock, want) => page.waitForFunction(({ stock, want }) => {
  const tr = document.querySelector(`#positions-body tr[data-stock="${stock}"]`);
  if (want === null) return !tr && document.querySelector('#positions')?.dataset.state === 'done';
  return tr && Object.entries(want).every(([k, v]) => tr.dataset[k] === v);
}, { stock, want }, { timeout: SETTLE_MS }).catch(async (err) => {
  const rows = await page.locator('#positions-body tr').evaluateAll((trs) => trs.map((tr) => ({ ...tr.dataset })));
  throw new Error(`${stock}: wanted ${JSON.stringify(want)}, the panel shows ${JSON.stringify(rows)}\n${err.message}`);
});
// The cells of a row as shown (stock, quantity, avg price, price, market
// value, P&L), with the grouping separators of the browser's locale taken
// out of the numbers, so that a rounded figure cannot pass.
const positionCells = async (stock) => {
  const [name, ...cells] = await positionRow(stock).locator('th, td').allInnerTexts();
  return [name, ...cells.slice(0, 5).map((t, i) => (i === 1 ? t : t.replace(/[^0-9+\-−–]/g, '').replace('−', '-')))];
};
// order fills the form and sends it as a buy or a sale, and waits for the
// result.
async function order(side, stock, quantity) {
  await page.getByRole('radio', { name: side === 'sell' ? 'Sell' : 'Buy', exact: true }).check();
  await page.getByLabel('Stock', { exact: true }).fill(stock);
  await page.getByLabel('Quantity', { exact: true }).fill(String(quantity));
  await page.getByRole('button', { name: side === 'sell' ? 'Sell at the latest price' : 'Buy at the latest price' }).click();
  return submitted();
}
// submitted waits for the form's result and returns it.
async function submitted() {
  await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result, null, { timeout: SETTLE_MS });
  const result = page.locator('#buy-result');
  return { result: await result.getAttribute('data-result'), credit: BigInt(await result.getAttribute('data-credit') ?? -1), text: await result.innerText() };
}
// setUser names another user in the form (the positions follow on change).
async function setUser(name) {
  const field = page.getByLabel('User', { exact: true });
  await field.fill(name);
  await field.press('Tab');
  if (name) await page.waitForFunction((n) => document.querySelector('#positions')?.dataset.user === n && document.querySelector('#positions').dataset.state === 'done', name, { timeout: SETTLE_MS });
}
// The service's own figures, read from the JSON text so that none is
// rounded: every number as its decimal text.
async function servedPositions(user) {
  const text = await (await fetch(`${origin}/api/users/${user}/positions`)).text();
  return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g, (m, str) => str ?? JSON.stringify(m)));
}
const tick = async (rows) => {
  const csv = join(workdir, 'ticks.csv');
  await writeFile(csv, `Time,Stock,Price\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  await stockd({ ...env, PRICE_CSV: csv }, 'update');
};
const lastStream = async () => streamStocks((await streamsOf(page)).requests.at(-1)).join(' ');

// marketTime is what the page should show for an instant: market time.
const marketTime = (iso) => new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

describe('dashboard', () => {
  test('the page loads with charts of the first six stocks, no console error and no request to another host', async () => {
    const res = await page.goto(origin + '/');
    assert.equal(res.status(), 200);
    await waitForCards(page, WATCHED);
    await page.waitForFunction((n) => [...document.querySelectorAll('article[data-stock]')].every((c) => Number(c.dataset.points) === n),
      MINUTES.length, { timeout: SETTLE_MS });
    // Each chart shows its day, the latest, and offers the earlier one.
    for (const stock of WATCHED) {
      assert.equal(await card(stock).getAttribute('data-day'), DAY2);
      assert.equal(await card(stock).locator('.chart-day').innerText(), DAY2);
      await waitForCard(stock, { days: `${DAY1} ${DAY2}` });
      assert.deepEqual(await pickerOptions(stock), [[DAY2, `${DAY2} (live)`], [DAY1, DAY1]]);
    }
    // The one zone of every time on the page is named on it.
    assert.match(await page.locator('#zone').innerText(), new RegExp(`market time, ${ZONE}`));
    assert.deepEqual(consoleErrors, []);
    const foreign = requests.filter((u) => new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], 'requests to another host');
    // The first six came by a page of six, never by the list of all.
    assert.deepEqual(requests.filter((u) => new URL(u).pathname === '/api/stocks').map((u) => new URL(u).search), ['?limit=6']);
  });

  test('one stream feeds every chart: one connection, no stream per stock', async () => {
    const s = await streamsOf(page);
    assert.equal(s.open, 1, 'EventSources open');
    assert.equal(s.max, 1, 'EventSources open at once, at most');
    assert.equal(s.maxInFlight, 1, 'stream requests in flight at once, at most');
    assert.deepEqual(s.requests.map((u) => new URL(u).pathname), ['/api/stream']);
    assert.deepEqual(streamStocks(s.requests[0]), WATCHED);
    // Each chart's state is its own line; one line tells a screen reader.
    assert.match(await page.locator('#stream-status').innerText(), /live for 6 stocks/);
    for (const stock of WATCHED) assert.equal(await card(stock).locator('.stream-state').innerText(), 'live');
  });

  test('the charts show the fixture prices, drawn on the canvas', async () => {
    for (const [s, stock] of WATCHED.entries()) {
      assert.equal(await latestPrice(stock), String(lastClose(s)), `${stock} latest price`);
      assert.equal(await card(stock).getAttribute('data-latest-time'), '09:04');
      assert.match(await card(stock).locator('.latest-price').innerText(), new RegExp(String(lastClose(s)).replace(/\B(?=(\d{3})+$)/g, '.?')));
      // The legend shows the last minute's open, high and low (the band's
      // edges) and close when the pointer is off the chart.
      const m = MINUTES.at(-1);
      assert.deepEqual(await legendValues(stock), [priceOf(s, m, 5), priceOf(s, m, 20), priceOf(s, m, 5), lastClose(s)], `${stock} open, high, low, close`);
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
    await page.getByLabel('Stock', { exact: true }).fill(TICK.stock);
    await page.getByLabel('Quantity', { exact: true }).fill(String(quantity));
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
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
    assert.equal(cells[4], 'buy');
    assert.equal(cells[5], 'accepted');
    assert.match(cells[7], /^3$/);
    // Created is shown in market time, not in the browser's zone.
    const created = await first.locator('time').getAttribute('datetime');
    assert.equal(cells[1], marketTime(created));
  });

  test('the positions panel: a buy shows the position, ticks value it live, sales take from it, a full one removes it', async () => {
    // The form's buy of stock1 is in the panel: quantity, the average price
    // as the service writes it, the market value at the latest price.
    await waitForPosition(TICK.stock, { quantity: '3', avgPrice: `${TICK.price}.0000`, price: String(TICK.price), marketValue: String(3 * TICK.price), unrealizedPl: '0' });
    assert.deepEqual(await positionCells(TICK.stock), [TICK.stock, '3', `${TICK.price}.0000`, String(TICK.price), String(3 * TICK.price), '0']);
    assert.equal(await page.locator('#positions-title').innerText(), `Positions of ${USER.name}`);
    // The headers of the table name its columns.
    assert.deepEqual((await page.locator('#positions-table thead th').allInnerTexts()).slice(0, 6), ['Stock', 'Quantity', 'Avg price', 'Price', 'Market value', 'Unrealized P&L']);

    // A stock not on the watch list: bought through the form, it is in the
    // panel, and the one stream carries it too (no chart for it).
    const s8 = 7, p8 = lastClose(s8);
    let r = await order('buy', 'stock8', 4);
    assert.equal(r.result, 'Accept', r.text);
    let credit = r.credit;
    assert.equal(credit, BigInt(USER.credit - 3 * TICK.price - 4 * p8));
    await waitForPosition('stock8', { quantity: '4', avgPrice: `${p8}.0000`, price: String(p8), marketValue: String(4 * p8), unrealizedPl: '0' });
    assert.deepEqual(await page.locator('#positions-body tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.stock)), [TICK.stock, 'stock8'], 'in stock name order');
    assert.match(await page.locator('#buy-user-credit').innerText(), new RegExp(`${USER.name} has`));
    await waitUntil('the stream carries stock8', async () => (await lastStream()) === [...WATCHED, 'stock8'].join(' '));
    await page.locator('#stream-status', { hasText: 'Prices are live for 7 stocks (1 held, not charted).' }).waitFor();
    let s = await streamsOf(page);
    assert.deepEqual([s.open, s.max, s.maxInFlight], [1, 1, 1], 'one stream, never more');
    const opened = s.requests.length;
    assert.equal(await card('stock8').count(), 0, 'no chart for a held stock that is not watched');

    // Ticks from another process value both positions live: market value
    // = quantity × price, P&L = market value − cost basis.
    await tick([['090610', 'stock8', 9000], ['090610', TICK.stock, 1200]]);
    await waitForPosition('stock8', { price: '9000', marketValue: '36000', unrealizedPl: String(36000 - 4 * p8) });
    await waitForPosition(TICK.stock, { price: '1200', marketValue: '3600', unrealizedPl: String(3600 - 3 * TICK.price) });
    assert.deepEqual(await positionCells('stock8'), ['stock8', '4', `${p8}.0000`, '9000', '36000', `+${36000 - 4 * p8}`]);
    assert.ok(await positionRow('stock8').locator('td.gain').count() === 1, 'a gain is marked as one');
    const total = page.locator('#positions-total');
    assert.equal(await total.getAttribute('data-market-value'), String(36000 + 3600));
    assert.equal(await total.getAttribute('data-unrealized-pl'), String(36000 - 4 * p8 + 3600 - 3 * TICK.price));
    // A late tick of an earlier minute changes that minute, not the latest
    // price: the panel keeps 9000 until a later minute comes.
    await page.evaluate(() => {
      window.__prices8 = [];
      new MutationObserver(() => window.__prices8.push(document.querySelector('#positions-body tr[data-stock="stock8"]')?.dataset.price))
        .observe(document.getElementById('positions-body'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-price'] });
    });
    await tick([['090150', 'stock8', 1]]);
    await tick([['090620', 'stock8', STOCK8_LATEST.price]]);
    await waitForPosition('stock8', { price: String(STOCK8_LATEST.price), marketValue: String(4 * STOCK8_LATEST.price) });
    assert.ok(!(await page.evaluate(() => window.__prices8)).includes('1'), 'the late tick never priced the position');
    assert.equal(await card('stock8').count(), 0);
    assert.equal((await streamsOf(page)).requests.length, opened, 'no stream opened for the ticks');

    // A sale through the form: Accept, the credit goes up by price ×
    // quantity, the position down (its cost basis by the average cost).
    r = await order('sell', 'stock8', 1);
    assert.equal(r.result, 'Accept', r.text);
    assert.match(r.text, /Accepted: sold 1 × stock8 at 9.?100/);
    assert.equal(r.credit, credit + 9100n);
    credit = r.credit;
    const basis = 4 * p8 - Math.floor(4 * p8 / 4);
    await waitForPosition('stock8', { quantity: '3', costBasis: String(basis), avgPrice: `${p8}.0000`, marketValue: String(3 * 9100), unrealizedPl: String(3 * 9100 - basis) });
    // The orders list says which side each order is on.
    await page.waitForFunction(() => document.querySelector('#orders-body tr td:nth-child(5)')?.textContent === 'sell', null, { timeout: SETTLE_MS });
    const cells = await page.locator('#orders-body tr').first().locator('td').allInnerTexts();
    assert.deepEqual([cells[2], cells[3], cells[4], cells[5]], [USER.name, 'stock8', 'sell', 'accepted']);
    assert.ok((await page.locator('#orders-body td:nth-child(5)').allInnerTexts()).includes('buy'));

    // More than is held: denied, and the result says what is held.
    r = await order('sell', 'stock8', 5);
    assert.equal(r.result, 'Deny', r.text);
    assert.match(r.text, /Denied: 5 × stock8 at 9.?100 not sold .*user1 holds 3/);
    assert.equal(r.credit, credit);
    await waitForPosition('stock8', { quantity: '3' });

    // The row's Sell button puts all of it in the form as a sale; sold,
    // the row goes, and the stream no longer carries the stock.
    await page.getByRole('button', { name: 'Sell stock8', exact: true }).click();
    assert.equal(await page.getByRole('radio', { name: 'Sell', exact: true }).isChecked(), true);
    assert.equal(await page.getByLabel('Stock', { exact: true }).inputValue(), 'stock8');
    assert.equal(await page.getByLabel('Quantity', { exact: true }).inputValue(), '3');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'buy-quantity');
    await page.getByRole('button', { name: 'Sell at the latest price' }).click();
    r = await submitted();
    assert.equal(r.result, 'Accept', r.text);
    assert.equal(r.credit, credit + 3n * 9100n);
    await waitForPosition('stock8', null);
    assert.deepEqual(await page.locator('#positions-body tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.stock)), [TICK.stock]);
    await waitUntil('the stream without stock8', async () => (await lastStream()) === WATCHED.join(' '));
    s = await streamsOf(page);
    assert.deepEqual([s.open, s.max, s.maxInFlight], [1, 1, 1], 'one stream, never more');
    // Back to buying, for the tests that follow.
    await page.getByRole('radio', { name: 'Buy', exact: true }).check();
    await page.getByRole('button', { name: 'Buy at the latest price' }).waitFor();
    assert.deepEqual(consoleErrors, []);
  });

  test('figures past 2^53 and 2^63 are shown exactly, and valued live in BigInt as the service values them', async () => {
    // whale's credit is 2^63 − 1: a buy of all it can pay passes 2^53, and
    // a price that goes up takes the market value past 2^63.
    const stock = 'stock5', price = BigInt(lastClose(4));
    const quantity = WHALE.credit / price;
    await setUser(WHALE.name);
    assert.match(await page.locator('#positions-status').innerText(), /whale holds no shares/);
    let r = await order('buy', stock, quantity);
    assert.equal(r.result, 'Accept', r.text);
    assert.equal(r.credit, WHALE.credit - quantity * price);
    const digits = (n) => n.toString();
    await waitForPosition(stock, { quantity: digits(quantity), costBasis: digits(quantity * price), marketValue: digits(quantity * price), unrealizedPl: '0' });
    assert.ok(quantity * price > BigInt(Number.MAX_SAFE_INTEGER));
    const shown = await positionCells(stock);
    assert.deepEqual([shown[0], shown[1], shown[3], shown[4], shown[5]], [stock, digits(quantity), digits(price), digits(quantity * price), '0']);

    await tick([['090610', stock, 8000]]);
    const value = quantity * 8000n;
    assert.ok(value > 2n ** 63n, 'the market value passes 2^63');
    await waitForPosition(stock, { price: '8000', marketValue: digits(value), unrealizedPl: digits(value - quantity * price) });
    const cells = await positionCells(stock);
    assert.deepEqual([cells[4], cells[5]], [digits(value), `+${digits(value - quantity * price)}`]);
    // What the page computed is what the service says.
    const served = (await servedPositions(WHALE.name)).positions.find((p) => p.stock === stock);
    const row = await positionRow(stock).evaluate((tr) => ({ ...tr.dataset }));
    assert.deepEqual([row.quantity, row.costBasis, row.avgPrice, row.price, row.marketValue, row.unrealizedPl],
      [served.quantity, served.cost_basis, served.avg_entry_price, served.price, served.market_value, served.unrealized_pl]);
    assert.equal(cells[2], served.avg_entry_price, 'the average price as the service writes it');

    // Selling all would take the credit past 2^63 − 1: denied. Half is
    // accepted, and the panel has what the service has.
    r = await order('sell', stock, quantity);
    assert.equal(r.result, 'Deny', r.text);
    assert.match(r.text, /not sold .*the credit would pass its limit/);
    await waitForPosition(stock, { quantity: digits(quantity) });
    const half = quantity / 2n;
    const before = r.credit;
    r = await order('sell', stock, half);
    assert.equal(r.result, 'Accept', r.text);
    assert.equal(r.credit, before + half * 8000n);
    assert.match((await page.locator('#buy-result .credit-left').innerText()).replace(/[^0-9]/g, ''), new RegExp(`^${digits(r.credit)}$`));
    await waitForPosition(stock, { quantity: digits(quantity - half) });
    const after = (await servedPositions(WHALE.name)).positions.find((p) => p.stock === stock);
    const now = await positionRow(stock).evaluate((tr) => ({ ...tr.dataset }));
    assert.deepEqual([now.quantity, now.costBasis, now.avgPrice, now.marketValue, now.unrealizedPl],
      [after.quantity, after.cost_basis, after.avg_entry_price, after.market_value, after.unrealized_pl]);

    // Back to user1: the panel follows the user.
    await setUser(USER.name);
    await waitForPosition(TICK.stock, { quantity: '3' });
    assert.equal(await positionRow(stock).count(), 0);
    await page.getByRole('radio', { name: 'Buy', exact: true }).check();
    assert.deepEqual(consoleErrors, []);
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
    // The result of the form is gone after the reload: buy and sell once
    // more, so that the picture shows a sale, and both sides in the orders.
    await page.locator('#positions[data-state="done"]').waitFor();
    assert.equal((await order('buy', TICK.stock, 2)).result, 'Accept');
    assert.equal((await order('sell', TICK.stock, 1)).result, 'Accept');
    await waitForPosition(TICK.stock, { quantity: '4' });
    await page.waitForFunction(() => [...document.querySelectorAll('article[data-stock]')].every((c) => c.dataset.stream === 'live'), null, { timeout: SETTLE_MS });
    // The picture shows the search with results too.
    await page.getByLabel('Name starts with').fill('stock');
    await page.locator('#search-results li').nth(STOCKS.length - 1).waitFor();
    const shot = join(artifacts, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) await copyFile(shot, join(repo, 'docs', 'dashboard.png'));
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests.filter((u) => new URL(u).origin !== origin), []);
    await page.getByRole('radio', { name: 'Buy', exact: true }).check();
  });

  test('an error of the API is shown readably', async () => {
    await page.getByLabel('User', { exact: true }).fill('nobody');
    await page.getByLabel('Quantity', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result === 'error', null, { timeout: SETTLE_MS });
    await page.getByLabel('Name starts with').fill('');
    const text = await page.locator('#buy-result').innerText();
    // The problem's detail, worded for people: not a status, its reason
    // phrase or raw JSON.
    assert.doesNotMatch(text, /[{}]|Unprocessable|422/);
    assert.match(text, /User "nobody" does not exist/);
    // The only console errors are the browser's notes on the failed requests.
    assert.ok(consoleErrors.every((e) => /Failed to load resource/.test(e)), consoleErrors.join('\n'));
  });

  test('the day picker shows an earlier day, and going back follows the live day again', async () => {
    const stock = 'stock3', s = 2;
    await picker(stock).selectOption(DAY1);
    await waitForCard(stock, { day: DAY1, following: 'false', points: String(DAY1_MINUTES.length) });
    assert.equal(await card(stock).locator('.chart-day').innerText(), DAY1);
    const m = DAY1_MINUTES.at(-1);
    assert.deepEqual(await legendValues(stock), [day1PriceOf(s, m, 5), day1PriceOf(s, m, 20), day1PriceOf(s, m, 5), day1PriceOf(s, m, 40)]);
    // The header keeps the latest price: it is the one a buy would use.
    assert.equal(await latestPrice(stock), String(lastClose(s)));
    await picker(stock).selectOption(DAY2);
    await waitForCard(stock, { day: DAY2, following: 'true', points: String(MINUTES.length) });
  });

  test('a new day starting during a live session moves the chart to it', async () => {
    // stock2 is looking at an earlier day when the new day starts: it stays
    // there, and is offered the new day; stock1 follows the live day.
    await picker('stock2').selectOption(DAY1);
    await waitForCard('stock2', { day: DAY1, following: 'false' });
    const newDay = join(workdir, 'newday.csv');
    await writeFile(newDay, `Date,Time,Stock,Price\n${TODAY},090010,stock1,5000\n${TODAY},090020,stock1,5100\n${TODAY},090110,stock2,7000\n`);
    await stockd({ ...env, PRICE_CSV: newDay }, 'update');
    await waitForCard('stock1', { day: TODAY, liveDay: TODAY, points: '1', latestTime: '09:00' });
    assert.equal(await latestPrice('stock1'), '5100');
    assert.equal(await card('stock1').locator('.chart-day').innerText(), TODAY);
    assert.deepEqual(await legendValues('stock1'), [5000, 5100, 5000, 5100]);
    await waitForCard('stock1', { days: `${DAY1} ${DAY2} ${TODAY}` });
    assert.deepEqual((await pickerOptions('stock1'))[0], [TODAY, `${TODAY} (live)`]);

    await waitForCard('stock2', { liveDay: TODAY, day: DAY1, following: 'false' });
    assert.equal(await latestPrice('stock2'), '7000');
    await picker('stock2').selectOption(TODAY);
    await waitForCard('stock2', { day: TODAY, following: 'true', points: '1', latestTime: '09:01' });
    // A stock the new day has not reached stays on its latest day.
    assert.equal(await card('stock3').getAttribute('data-day'), DAY2);

    // A late tick of the former latest day changes no chart: the stream
    // follows the latest day only. A tick of today after it moves stock1.
    const late = join(workdir, 'late.csv');
    await writeFile(late, `Date,Time,Stock,Price\n${DAY2},093000,stock1,1\n`);
    await stockd({ ...env, PRICE_CSV: late }, 'update');
    await writeFile(late, `Date,Time,Stock,Price\n${TODAY},090200,stock1,5200\n`);
    await stockd({ ...env, PRICE_CSV: late }, 'update');
    // 09:00, 09:01 (the series carries a close into a minute with no tick)
    // and 09:02.
    await waitForCard('stock1', { day: TODAY, points: '3', latestTime: '09:02' });
    assert.equal(await latestPrice('stock1'), '5200');
    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  });

  test('a stock found by search is watched: its chart gets its series over the one stream, reopened with it', async () => {
    const before = await streamsOf(page);
    const search = page.getByLabel('Name starts with');
    const asked = () => requests.filter((u) => new URL(u).searchParams.has('q'));
    const askedBefore = asked().length;
    // Typed key by key, in capitals: one request once the typing pauses,
    // for the lowercased prefix.
    await search.click();
    await page.keyboard.type('STOCK8', { delay: 20 });
    const result = page.locator('#search-results li[data-stock="stock8"]');
    // The answer for the whole prefix: until it comes, the box may still
    // show an earlier answer that holds stock8 too.
    const shown = () => page.locator('#search-results li').evaluateAll((els) => els.map((e) => e.dataset.stock));
    await page.waitForFunction(() => [...document.querySelectorAll('#search-results li')].map((e) => e.dataset.stock).join() === 'stock8', null, { timeout: 10_000 })
      .catch(() => {});
    assert.deepEqual(await shown(), ['stock8']);
    assert.match(await result.innerText(), new RegExp(`${STOCK8_LATEST.time} on ${DAY2}`));
    const q = asked().slice(askedBefore);
    assert.ok(q.length >= 1 && q.length <= 2, `${q.length} search requests for six keys: ${q.join(' ')}`);
    assert.equal(new URL(q.at(-1)).searchParams.get('q'), 'stock8');
    assert.equal(new URL(q.at(-1)).searchParams.get('limit'), '20');

    await page.getByRole('button', { name: 'Watch stock8' }).click();
    await waitForCards(page, [...WATCHED, 'stock8']);
    await waitForCard('stock8', { points: String(STOCK8_LATEST.points), day: DAY2, latestTime: STOCK8_LATEST.time });
    assert.equal(await latestPrice('stock8'), String(STOCK8_LATEST.price));
    assert.match(await page.locator('#watch-status').innerText(), /stock8 added/);
    assert.equal(await result.getByRole('button').first().innerText(), 'Watched');
    const s = await streamsOf(page);
    assert.equal(s.open, 1, 'EventSources open');
    assert.equal(s.max, 1, 'EventSources open at once, at most');
    assert.equal(s.maxInFlight, 1, 'stream requests in flight at once, at most');
    assert.equal(s.requests.length, before.requests.length + 1, 'the stream was opened once more');
    assert.deepEqual(streamStocks(s.requests.at(-1)), [...WATCHED, 'stock8']);
    assert.ok(s.requests.every((u) => new URL(u).pathname === '/api/stream'), 'no stream of one stock');
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('stockd.watchlist'))), [...WATCHED, 'stock8']);
  });

  test('the search results by keyboard: down to the results, Enter watches, Escape comes back', async () => {
    const search = page.getByLabel('Name starts with');
    await search.fill('stock');
    await page.locator('#search-results li').nth(STOCKS.length - 1).waitFor();
    await search.focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Show stock1');
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Watch stock7');
    await page.keyboard.press('Enter');
    await waitForCards(page, [...WATCHED, 'stock8', 'stock7']);
    // Focus stays on the result, now marked watched.
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Show stock7');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Buy stock7');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
    const s = await streamsOf(page);
    assert.equal(s.open, 1);
    assert.equal(s.max, 1);
    assert.deepEqual(streamStocks(s.requests.at(-1)), [...WATCHED, 'stock8', 'stock7']);
  });

  test('a stock picked in the search is bought through the form, and the order is listed', async () => {
    await page.getByLabel('User', { exact: true }).fill(USER.name);
    await page.getByLabel('Name starts with').fill('stock7');
    await page.getByRole('button', { name: 'Buy stock7' }).click();
    assert.equal(await page.getByLabel('Stock', { exact: true }).inputValue(), 'stock7');
    // The quantity is the field left to fill, and has the focus.
    assert.equal(await page.evaluate(() => document.activeElement.id), 'buy-quantity');
    await page.keyboard.type('2');
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result === 'Accept', null, { timeout: SETTLE_MS });
    assert.match(await page.locator('#buy-result').innerText(), new RegExp(`2 × stock7 at ${lastClose(6)}`.replace(/(\d)(\d{3})\b/, '$1.?$2')));
    await page.waitForFunction(() => document.querySelector('#orders-body tr td:nth-child(4)')?.textContent === 'stock7', null, { timeout: SETTLE_MS });
  });

  test('the buy form suggests names as one types, and an unknown stock is refused with the detail', async () => {
    const field = page.getByLabel('Stock', { exact: true });
    await field.fill('');
    await field.pressSequentially('stock', { delay: 20 });
    await page.waitForFunction((n) => document.querySelectorAll('#buy-stock-options option').length === n, STOCKS.length, { timeout: SETTLE_MS });
    assert.deepEqual(await page.locator('#buy-stock-options option').evaluateAll((os) => os.map((o) => o.value)), STOCKS);
    await field.fill('Stock99');
    await page.getByLabel('Quantity', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
    await page.waitForFunction(() => document.querySelector('#buy-result')?.dataset.result === 'error', null, { timeout: SETTLE_MS });
    assert.match(await page.locator('#buy-result').innerText(), /Not bought\. Stock "stock99" is not traded here\./);
    // Not even a name: said without asking the service.
    await field.fill('no such stock!');
    await page.getByRole('button', { name: 'Buy at the latest price' }).click();
    await page.waitForFunction(() => /is not a stock name/.test(document.querySelector('#buy-result')?.textContent), null, { timeout: SETTLE_MS });
    await field.fill('stock1');
  });

  test('a chart is removed from the watch list; the list outlives a reload, less the names no longer traded', async () => {
    await page.getByRole('button', { name: 'Stop watching stock2' }).click();
    const kept = ['stock1', 'stock3', 'stock4', 'stock5', 'stock6', 'stock8', 'stock7'];
    await waitForCards(page, kept);
    // The focus moves to the next chart's button, not off the page.
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Stop watching stock3');
    await waitUntil('the stream reopened without stock2', async () => streamStocks((await streamsOf(page)).requests.at(-1)).join() === kept.join());
    await page.reload();
    await waitForCards(page, kept);
    // A list kept with names the market no longer has (and one that is no
    // name at all) shows what is left and says what was dropped.
    await page.evaluate(() => localStorage.setItem('stockd.watchlist', JSON.stringify(['stock3', 'gone', 'Stock1', 'not a name', 'stock1', 'left'])));
    await page.reload();
    await waitForCards(page, ['stock3', 'stock1']);
    assert.match(await page.locator('#watch-status').innerText(), /gone, left are no longer traded/);
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('stockd.watchlist'))), ['stock3', 'stock1']);
    // The stream carries the watch list, then the held stocks it lacks
    // (user1 holds stock1 and stock7).
    await page.locator('#positions[data-state="done"]').waitFor();
    assert.equal(await page.locator('#positions').getAttribute('data-stocks'), 'stock1 stock7');
    const s = await streamsOf(page);
    assert.equal(s.max, 1);
    assert.deepEqual(streamStocks(s.requests.at(-1)), ['stock3', 'stock1', 'stock7']);
    // Every chart removed: the page says how to add one, and the stream
    // carries the held stocks alone; with no user named, nothing is held
    // and there is no stream at all.
    await page.getByRole('button', { name: 'Stop watching stock3' }).click();
    await page.getByRole('button', { name: 'Stop watching stock1' }).click();
    await waitUntil('the stream of the held stocks alone', async () => (await lastStream()) === 'stock1 stock7' && (await streamsOf(page)).open === 1);
    assert.match(await page.locator('#watch-count').innerText(), /No stock is watched/);
    await setUser('');
    await waitUntil('the stream closed', async () => (await streamsOf(page)).open === 0);
    assert.equal((await streamsOf(page)).max, 1);
    await page.getByLabel('User', { exact: true }).fill(USER.name);
    await page.reload();
    await page.locator('#watch-count', { hasText: 'No stock is watched' }).waitFor();
    assert.equal(await page.locator('article[data-stock]').count(), 0);
    await page.evaluate(() => localStorage.removeItem('stockd.watchlist'));
    await page.reload();
    await waitForCards(page, WATCHED);
    assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  });

  test('on a phone (390 x 844) the page fits the width: no sideways scroll', async () => {
    const phone = await open({ width: 390, height: 844 });
    try {
      await phone.goto(origin + '/');
      await phone.waitForFunction((n) => [...document.querySelectorAll('article[data-stock]')].length === n
        && [...document.querySelectorAll('article[data-stock]')].every((c) => c.dataset.stream === 'live' && Number(c.dataset.points) > 0), WATCHED.length, { timeout: SETTLE_MS });
      await phone.waitForFunction(() => document.querySelectorAll('#orders-body tr[data-order-id]').length > 0, null, { timeout: SETTLE_MS });
      await phone.waitForFunction(() => document.querySelectorAll('#positions-body tr[data-stock]').length > 0, null, { timeout: SETTLE_MS });
      await phone.getByLabel('Name starts with').fill('stock');
      await phone.locator('#search-results li').nth(STOCKS.length - 1).waitFor();
      const widths = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      assert.ok(widths.scroll <= widths.inner, `the page is ${widths.scroll} px wide in a ${widths.inner} px window`);
      // Nothing sticks out of the window on the right: not the stream's
      // state, not the chart's axis, not an order's cells, not a search
      // result's buttons.
      const outside = await phone.evaluate(() => [...document.querySelectorAll('.stream-state, .remove, .plot canvas, .u-legend, #orders-body td, #positions-body th, #positions-body td, #positions-body button, .day-picker, #search, #search-results li, #search-results button')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5).map((el) => el.className || el.tagName));
      assert.deepEqual(outside, []);
      await phone.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: true });
    } finally {
      await phone.context().close();
    }
  });

  test('the files come gzipped with an ETag, and a reload revalidates them (304)', async () => {
    const p = await open({ width: 1366, height: 900 });
    const seen = [];
    p.on('response', async (r) => {
      const h = await r.allHeaders().catch(() => ({}));
      seen.push({ path: new URL(r.url()).pathname, status: r.status(), encoding: h['content-encoding'], etag: h.etag });
    });
    try {
      await p.goto(origin + '/');
      await p.waitForFunction(() => document.querySelectorAll('article[data-stock]').length > 0, null, { timeout: SETTLE_MS });
      const first = (path) => seen.find((r) => r.path === path);
      // JSON answers of this size are under the 1 KiB that is worth
      // compressing; the Go tests check gzip on a full day's series.
      for (const path of ['/static/app.js', '/static/style.css']) {
        await waitUntil(`the answer of ${path}`, async () => first(path)?.status === 200);
        assert.equal(first(path).encoding, 'gzip', `${path} is gzipped`);
        assert.ok(first(path).etag, `${path} carries an ETag`);
      }
      seen.length = 0;
      await p.reload();
      await p.waitForFunction(() => document.querySelectorAll('article[data-stock]').length > 0, null, { timeout: SETTLE_MS });
      await waitUntil('the reload of /static/app.js', async () => seen.some((r) => r.path === '/static/app.js'));
      assert.equal(seen.find((r) => r.path === '/static/app.js').status, 304, 'the browser revalidates and gets 304');
    } finally {
      await p.context().close();
    }
  });

  test('/docs renders the API description from the service alone', async () => {
    const docs = await open({ width: 1366, height: 900 });
    const before = consoleErrors.length;
    try {
      const res = await docs.goto(origin + '/docs');
      assert.equal(res.status(), 200);
      await docs.locator('.opblock').first().waitFor();
      assert.match(await docs.locator('.info .title').innerText(), /stockd/);
      // The operations of the description are there, the days among them.
      await docs.locator('.opblock-summary-path', { hasText: '/api/stocks/{stock}/days' }).first().waitFor();
      await docs.locator('.opblock-summary', { hasText: '/api/stocks/{stock}/days' }).first().click();
      await docs.getByText('Every trading day of which the service keeps').first().waitFor();
      await docs.screenshot({ path: join(artifacts, 'docs.png') });
      assert.deepEqual(consoleErrors.slice(before), [], 'no console error (a refused inline script or style would be one)');
      assert.deepEqual(requests.filter((u) => new URL(u).origin !== origin), [], 'requests to another host');
    } finally {
      await docs.context().close();
    }
  });
});
