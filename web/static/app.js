// The dashboard: charts of a watch list of stocks, all fed by one event
// stream, a search that finds any stock by name, a buy and sell form, the
// positions of the form's user (valued live by the same stream), and the
// paged orders list. Plain JavaScript against the service's own API (see
// docs/api.md and api/openapi.yaml); uPlot (a global from the vendored
// script) draws the charts.
//
// A market may have 10,000 stocks: the page never lists them all. It reads
// the stocks it shows by name (stocks=), the first ones by a page (limit=)
// and the ones a person looks for by a prefix (q=), and it holds at most one
// stream connection, whatever the number of charts: a browser keeps at most
// six HTTP/1.1 connections to one host, and a stream per chart would starve
// every other request past five charts.

const ORDERS_PAGE_SIZE = 10;
const CHART_HEIGHT = 220;
// A stream the browser will not reopen by itself (an HTTP error, a wrong
// content type) is reopened after this delay, doubled up to the maximum.
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
// The watch list: kept in this browser, at first the first stocks in name
// order, at most WATCH_MAX charts (each is a canvas, and its series comes
// again whenever the list changes).
const WATCH_KEY = 'stockd.watchlist';
const WATCH_FIRST = 6;
const WATCH_MAX = 50;
// Changes of the watch list made in a row (removing a few charts) reopen
// the stream once, this long after the last of them.
const REOPEN_DELAY_MS = 150;
// The search asks the service once the typing pauses this long.
const SEARCH_DELAY_MS = 250;
const SEARCH_LIMIT = 20;
// The first stream waits at most this long for the first positions.
const FIRST_POSITIONS_WAIT_MS = 2000;
// A stock name as the service accepts it (after lowercasing), and the
// start of one, which is what q= takes.
const STOCK_NAME = /^[a-z0-9][a-z0-9_.-]{0,31}$/;
const NAME_RULE = 'A stock name is up to 32 of a–z, 0–9, _ . and -, starting with a letter or digit.';

// The stream takes up to this many stocks: the watch list, then the stocks
// the form's user holds.
const STREAM_MAX = 1000;
// The positions are read again this often (as well as after every order and
// when the user changes): orders made elsewhere (another tab, the API) and
// the prices of held stocks the stream cannot carry show up then.
const POSITIONS_REFRESH_MS = 60_000;

// fmt writes a number or a BigInt (exactly: Intl formats a BigInt digit for
// digit), a dash for none; signed adds + to a gain.
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const signedFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0, signDisplay: 'exceptZero' });
const fmt = (n) => (n == null ? '–' : numberFormat.format(n));
const signed = (n) => (n == null ? '–' : signedFormat.format(n));

// The series' times are hhmmss of one trading day, already in the market's
// zone: the chart's x is seconds since that day's midnight, drawn in UTC so
// that the browser's zone does not shift them.
function secondsOf(hhmmss) {
  const s = String(hhmmss).padStart(6, '0');
  return Number(s.slice(0, 2)) * 3600 + Number(s.slice(2, 4)) * 60 + Number(s.slice(4, 6));
}
function clockOf(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

// ApiError carries an RFC 9457 problem (title, detail) when the API sent
// one. Its message is for people: the problem's detail, which the service
// words for them ('user "nobody" does not exist'), as a sentence; the
// status's reason phrase ("Unprocessable Entity") only when nothing better
// is known.
class ApiError extends Error {
  constructor(status, problem) {
    super(sentence(problem?.detail) || plainStatus(status, problem?.title));
    this.status = status;
    this.problem = problem;
  }
}

function sentence(text) {
  if (!text) return '';
  const s = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function plainStatus(status, title) {
  if (status === 0) return 'The service cannot be reached. Check the connection and try again.';
  if (status === 429) return 'Too many requests. Wait a moment and try again.';
  if (status >= 500) return 'The service cannot answer right now. Try again in a moment.';
  return title ? `The service refused the request (${title}).` : `The service refused the request (HTTP ${status}).`;
}

// api calls the service. With exact, every integer of the answer is a
// BigInt read from the JSON's own text: credit, quantities, cost basis and
// market values go up to 2^63 and past, where a JavaScript number (exact
// to 2^53) would round them. Prices for the charts need no such care (they
// are drawn, not added up), so the stream and the stock listings stay
// numbers.
async function api(path, init, { exact = false } = {}) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, null);
  }
  const type = res.headers.get('Content-Type') || '';
  let body = null;
  if (type.includes('json')) {
    try {
      body = exact ? parseExact(await res.text()) : await res.json();
    } catch {
      body = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

// parseExact reads JSON with its integers as BigInt. Chromium (and every
// browser with JSON.parse source text access) hands the reviver each
// number's text; elsewhere the integers are first quoted, outside strings,
// and read back.
const hasSourceText = (() => {
  let seen = false;
  JSON.parse('1', (k, v, ctx) => { seen = ctx?.source === '1'; return v; });
  return seen;
})();
const INTEGER = /^-?[0-9]+$/;
const MARK = '\u0000'; // no name or text of the API starts with it

function parseExact(text) {
  if (hasSourceText) {
    return JSON.parse(text, (k, v, ctx) => (typeof v === 'number' && INTEGER.test(ctx.source) ? BigInt(ctx.source) : v));
  }
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/g,
    (m, str) => str ?? (INTEGER.test(m) ? `"\\u0000${m}"` : m)); // MARK, escaped as JSON
  return JSON.parse(marked, (k, v) => (typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(1)) : v));
}

// exactPrice is a price of the stream as a BigInt: the number itself when
// it is exact, else read again from the event's text.
function exactPrice(n, text, pick) {
  if (Number.isSafeInteger(n)) return BigInt(n);
  try {
    return pick(parseExact(text));
  } catch {
    return null;
  }
}

function showProblem(el, err) {
  el.textContent = err ? err.message : '';
  el.hidden = !err;
}

// ---------------------------------------------------------------- time zone

// The market's zone (APP_TIMEZONE, from /api/stocks): prices are in it, and
// orders are shown in it too, so that the page has one clock, named on it.
let marketZone = null;
let zoneKnown;
const zoneReady = new Promise((resolve) => { zoneKnown = resolve; });

function setZone(zone) {
  marketZone = zone;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
  } catch {
    // A zone the browser does not know (Go's "Local"): the orders are then
    // shown in the browser's zone, and the page says so.
    marketZone = null;
  }
  document.getElementById('zone').textContent = marketZone
    ? `All times are market time, ${marketZone}.`
    : `Prices are in market time (${zone}); orders in this browser's time.`;
  document.getElementById('zone').dataset.zone = zone;
  zoneKnown();
}

// formatInstant writes an RFC 3339 instant as a date and time in the
// market's zone.
function formatInstant(iso) {
  const opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  if (marketZone) opts.timeZone = marketZone;
  return new Intl.DateTimeFormat('sv-SE', opts).format(new Date(iso));
}

// ---------------------------------------------------------------- charts

// A day's minutes as the columns uPlot draws: x (seconds since midnight),
// open, high, low, close. day is YYYY-MM-DD, null when the stock has none.
function emptyDay(day) {
  return { day, x: [], open: [], high: [], low: [], close: [] };
}

function dayOfSeries(s) {
  const n = s.time.length;
  const col = (c) => (c?.length === n ? c.slice() : new Array(n).fill(null));
  return { day: s.date ?? null, x: s.time.map(secondsOf), open: col(s.open), high: col(s.high), low: col(s.low), close: s.price.slice() };
}

// StockChart is one stock's card: the latest price, the day shown and a
// picker of the days kept, the stream's state and the plot. The stream
// keeps `live` (the latest day) up to date; the plot shows it unless the
// person picked an earlier day, which is then `view`.
class StockChart {
  constructor(stock, parent) {
    this.stock = stock;
    const card = document.getElementById('chart-card').content.firstElementChild.cloneNode(true);
    card.dataset.stock = stock;
    card.dataset.points = '0';
    card.setAttribute('aria-label', `Prices of ${stock}`);
    card.querySelector('.stock-name').textContent = stock;
    this.card = card;
    this.latestPrice = card.querySelector('.latest-price');
    this.latestTime = card.querySelector('.latest-time');
    this.state = card.querySelector('.stream-state');
    this.dayLabel = card.querySelector('.chart-day');
    this.picker = card.querySelector('.day-picker');
    const pickerId = `day-${stock}`;
    this.picker.id = pickerId;
    card.querySelector('.day-label').htmlFor = pickerId;
    this.plotBox = card.querySelector('.plot');
    this.plotBox.setAttribute('aria-label', `Minute chart of ${stock}: close line with the high–low band`);
    this.picker.addEventListener('change', () => this.pick(this.picker.value));
    const remove = card.querySelector('.remove');
    remove.setAttribute('aria-label', `Stop watching ${stock}`);
    remove.addEventListener('click', () => unwatch(stock));
    parent.append(card);

    this.live = emptyDay(null);
    this.view = null; // an earlier day the person picked, or null to follow the live one
    this.days = [];
    this.plot = null;
    this.pickSeq = 0;
    this.resize = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: CHART_HEIGHT }));
    this.resize.observe(this.plotBox);
    this.setState('connecting', 'connecting…');
  }

  // destroy takes the card off the page and lets go of what it held; an
  // answer still on its way (a day picked, the days) then changes nothing
  // that is shown.
  destroy() {
    this.pickSeq++;
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.card.remove();
  }

  width() {
    return Math.max(200, Math.floor(this.plotBox.clientWidth));
  }

  shown() {
    return this.view ?? this.live;
  }

  // showLatest fills the card's header from a /api/stocks entry, before the
  // stream delivers the series.
  showLatest(date, time, price) {
    this.latestPrice.textContent = fmt(price);
    this.latestPrice.dataset.price = price == null ? '' : String(price);
    this.latestTime.textContent = time == null ? 'no price yet' : `at ${clockOf(secondsOf(time))} on ${date}`;
  }

  // setSeries replaces the live day with a whole series (the body of
  // /api/stocks/{stock}/prices, as the stream's series event sends it).
  setSeries(s) {
    const dayChanged = s.date !== this.live.day;
    this.live = dayOfSeries(s);
    if (dayChanged) this.loadDays();
    this.render();
  }

  // applyMinute replaces the minute it names, or inserts it in time order
  // (usually at the end). A minute of a later day starts that day: the
  // live chart moves to it.
  applyMinute(m) {
    if (m.date && this.live.day && m.date < this.live.day) return; // not the latest day: the stream does not send these
    if (m.date && m.date !== this.live.day) {
      this.live = emptyDay(m.date);
      this.loadDays();
    }
    const d = this.live;
    const t = secondsOf(m.time);
    let i = d.x.length;
    while (i > 0 && d.x[i - 1] > t) i--;
    const replace = i > 0 && d.x[i - 1] === t;
    const at = replace ? i - 1 : i;
    const del = replace ? 1 : 0;
    d.x.splice(at, del, t);
    d.open.splice(at, del, m.open ?? null);
    d.high.splice(at, del, m.high ?? null);
    d.low.splice(at, del, m.low ?? null);
    d.close.splice(at, del, m.price);
    this.render();
  }

  // loadDays fills the picker from /api/stocks/{stock}/days: the latest day
  // first, marked live, then the earlier ones.
  async loadDays() {
    let body;
    try {
      body = await api(`/api/stocks/${encodeURIComponent(this.stock)}/days`);
    } catch {
      body = { days: [] };
    }
    const days = body.days.slice();
    // The stream may already be on a day the list has not seen yet.
    if (this.live.day && !days.includes(this.live.day)) days.push(this.live.day);
    days.sort();
    this.days = days;
    this.renderPicker();
  }

  renderPicker() {
    const latest = this.live.day;
    const options = this.days.slice().reverse().map((d) => new Option(d === latest ? `${d} (live)` : d, d));
    if (!options.length) options.push(new Option('no prices yet', ''));
    this.picker.replaceChildren(...options);
    this.picker.value = this.view ? this.view.day : latest ?? '';
    this.picker.disabled = this.days.length < 2;
    this.card.dataset.days = this.days.join(' ');
  }

  // pick shows a day: the latest follows the stream, an earlier one is read
  // once from /prices?date= (its minutes no longer change).
  async pick(day) {
    const seq = ++this.pickSeq;
    if (!day || day === this.live.day) {
      this.view = null;
      this.render();
      return;
    }
    this.card.dataset.loading = 'true';
    try {
      const s = await api(`/api/stocks/${encodeURIComponent(this.stock)}/prices?date=${encodeURIComponent(day)}`);
      if (seq !== this.pickSeq) return; // another pick came after this one
      this.view = dayOfSeries(s);
      this.setDayError(null);
    } catch (err) {
      if (seq !== this.pickSeq) return;
      this.view = null;
      this.setDayError(err);
      this.loadDays(); // the day may have expired: list what is kept now
    } finally {
      if (seq === this.pickSeq) delete this.card.dataset.loading;
    }
    this.render();
  }

  setDayError(err) {
    const el = this.card.querySelector('.day-error');
    el.hidden = !err;
    el.textContent = err ? err.message : '';
  }

  render() {
    const live = this.live;
    const n = live.x.length;
    if (n) {
      this.latestPrice.textContent = fmt(live.close[n - 1]);
      this.latestPrice.dataset.price = String(live.close[n - 1]);
      this.latestTime.textContent = `at ${clockOf(live.x[n - 1])} on ${live.day ?? 'an undated day'}`;
    }
    this.card.dataset.liveDay = live.day ?? '';
    const d = this.shown();
    const m = d.x.length;
    this.card.dataset.day = d.day ?? '';
    this.card.dataset.following = String(!this.view);
    this.card.dataset.points = String(m);
    this.card.dataset.latestTime = m ? clockOf(d.x[m - 1]) : '';
    this.dayLabel.textContent = d.day ?? '';
    this.dayLabel.dateTime = d.day ?? '';
    if (this.days.length && (this.picker.value !== (this.view ? this.view.day : live.day ?? ''))) this.renderPicker();
    const data = [d.x, d.open, d.high, d.low, d.close];
    if (this.plot) {
      this.plot.setData(data);
    } else {
      this.plot = new uPlot(chartOptions(this.width()), data, this.plotBox);
    }
    // One minute alone (the first of a new day) would make uPlot stretch
    // the time axis over years: show the hour around it instead.
    if (m === 1) this.plot.setScale('x', { min: d.x[0] - 1800, max: d.x[0] + 1800 });
    stockHint(); // the buy form's note of the latest price, should it name this stock
  }

  setState(state, text) {
    this.card.dataset.stream = state;
    this.state.textContent = text;
  }
}

function chartOptions(width) {
  const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  const line = css('--chart-line', '#1f5fbf');
  const band = css('--chart-band', 'rgba(31,95,191,0.15)');
  const edge = css('--chart-edge', 'rgba(31,95,191,0.35)');
  const open = css('--chart-open', '#8c959f');
  // Off the plot the legend shows the latest minute rather than dashes.
  const shown = (u, v, si, idx) => (idx == null ? u.data[si]?.at(-1) : v);
  const value = (u, v, si, idx) => fmt(shown(u, v, si, idx));
  return {
    width,
    height: CHART_HEIGHT,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true } },
    series: [
      { label: 'Time', value: (u, v, si, idx) => { const t = shown(u, v, si, idx); return t == null ? '–' : clockOf(t); } },
      // The open is in the legend only: a line of opens would hide the close.
      { label: 'Open', stroke: open, width: 1, value, paths: () => null, points: { show: false } },
      { label: 'High', stroke: edge, width: 1, value, points: { show: false } },
      { label: 'Low', stroke: edge, width: 1, value, points: { show: false } },
      { label: 'Close', stroke: line, width: 2, value },
    ],
    bands: [{ series: [2, 3], fill: band }],
    axes: [
      { values: (u, splits) => splits.map(clockOf) },
      { size: 64, values: (u, splits) => splits.map(fmt) },
    ],
    cursor: { drag: { x: false, y: false } },
  };
}

// ---------------------------------------------------------------- watch list

// The stocks charted, in the order they were added, and their charts.
// loaded: the list kept (or the first stocks) has been read, and the
// stream follows the list from then on.
const watch = { stocks: [], charts: new Map(), loaded: false };

const isUnknownStock = (err) => err instanceof ApiError && err.status === 404 && /\/unknown-stock$/.test(err.problem?.type ?? '');

// readWatchList reads the list this browser kept: null when there is none
// (or it cannot be read), else the names that have the form of a stock
// name, lowercased, each once, at most WATCH_MAX. Whether they are still
// stocks is for the service to say (knownQuotes).
function readWatchList() {
  let list;
  try {
    const raw = localStorage.getItem(WATCH_KEY);
    if (raw == null) return null;
    list = JSON.parse(raw);
  } catch {
    return null; // storage off, or not JSON: as if nothing was kept
  }
  if (!Array.isArray(list)) return null;
  const names = [];
  for (const n of list) {
    const name = typeof n === 'string' ? n.trim().toLowerCase() : '';
    if (STOCK_NAME.test(name) && !names.includes(name)) names.push(name);
  }
  return names.slice(0, WATCH_MAX);
}

function saveWatchList() {
  try {
    localStorage.setItem(WATCH_KEY, JSON.stringify(watch.stocks));
  } catch {
    // Storage off or full: the list lasts as long as the page.
  }
}

const stocksParam = (names) => names.map(encodeURIComponent).join(',');

// knownQuotes reads the latest quotes of names (GET /api/stocks?stocks=),
// leaving out the names that are no longer stocks: the service answers 404
// unknown-stock naming one of them; it is dropped and the rest asked again.
// Returns the listing (null when no name was left) and the names dropped.
async function knownQuotes(names) {
  let left = names.slice();
  const dropped = [];
  while (left.length) {
    try {
      return { body: await api(`/api/stocks?stocks=${stocksParam(left)}`), dropped };
    } catch (err) {
      if (!isUnknownStock(err)) throw err;
      // The detail names the stock ('stock "x" is not traded here'); should
      // its wording change, each name is asked on its own instead.
      const named = /"([^"]+)"/.exec(err.problem.detail ?? '')?.[1];
      let gone = left.filter((n) => n === named);
      if (!gone.length) gone = await unknownAmong(left);
      if (!gone.length) throw err;
      dropped.push(...gone);
      left = left.filter((n) => !gone.includes(n));
    }
  }
  return { body: null, dropped };
}

async function unknownAmong(names) {
  const gone = [];
  for (const n of names) {
    try {
      await api(`/api/stocks?stocks=${encodeURIComponent(n)}`);
    } catch (err) {
      if (!isUnknownStock(err)) throw err;
      gone.push(n);
    }
  }
  return gone;
}

function addChart(q) {
  const chart = new StockChart(q.stock, document.getElementById('charts'));
  chart.showLatest(q.date, q.time, q.price);
  watch.charts.set(q.stock, chart);
}

// watchStock adds a stock (a search result: name and latest quote) to the
// watch list, and reopens the stream with it.
function watchStock(q) {
  if (watch.charts.has(q.stock)) {
    say(`${q.stock} is on the watch list already.`);
    watch.charts.get(q.stock).card.scrollIntoView({ block: 'nearest' });
    return;
  }
  if (watch.stocks.length >= WATCH_MAX) {
    say(`The watch list is full: it holds at most ${WATCH_MAX} stocks. Remove a chart to watch ${q.stock}.`, true);
    return;
  }
  watch.stocks.push(q.stock);
  addChart(q);
  saveWatchList();
  watchListChanged();
  say(`${q.stock} added to the watch list.`);
}

function unwatch(stock) {
  const chart = watch.charts.get(stock);
  if (!chart) return;
  const at = watch.stocks.indexOf(stock);
  watch.stocks.splice(at, 1);
  watch.charts.delete(stock);
  // Keyboard focus was on the button just removed: give it to the next
  // chart's, or else to the search.
  const next = watch.charts.get(watch.stocks[Math.min(at, watch.stocks.length - 1)]);
  chart.destroy();
  (next?.card.querySelector('.remove') ?? document.getElementById('search')).focus();
  saveWatchList();
  watchListChanged();
  say(`${stock} removed from the watch list.`);
}

// dropUnknown takes off the watch list the stocks the service no longer
// has, saying so.
function dropUnknown(names) {
  if (!names.length) return;
  for (const n of names) {
    watch.charts.get(n)?.destroy();
    watch.charts.delete(n);
  }
  watch.stocks = watch.stocks.filter((n) => !names.includes(n));
  saveWatchList();
  sayDropped(names);
}

function sayDropped(names) {
  say(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} no longer traded: taken off the watch list.`, true);
}

// watchListChanged shows the list's new length and reopens the stream with
// it: at once, or (by default) once a run of changes is over.
function watchListChanged({ now = false } = {}) {
  const n = watch.stocks.length;
  document.getElementById('watch-count').textContent = n
    ? `Watching ${n} ${n === 1 ? 'stock' : 'stocks'} (at most ${WATCH_MAX}).`
    : 'No stock is watched: find one above to chart it.';
  document.getElementById('charts').dataset.stocks = watch.stocks.join(' ');
  renderSearchResults();
  if (now) openStream();
  else reopenStream();
}

// say puts a line in the watch list's status (read out by screen readers).
function say(text, problem = false) {
  const el = document.getElementById('watch-status');
  el.textContent = text;
  el.classList.toggle('problem', problem);
}

// loadWatchList shows the kept watch list, or at first the first stocks in
// name order; either way no listing of the whole market.
async function loadWatchList() {
  const box = document.getElementById('charts');
  const error = document.getElementById('stocks-error');
  const kept = readWatchList();
  let body, dropped = [];
  for (let delay = RECONNECT_MIN_MS; ; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
    try {
      ({ body, dropped } = kept?.length ? await knownQuotes(kept) : { body: null, dropped: [] });
      // An empty list kept on purpose stays empty; none kept, or none of
      // it left, starts from the first stocks. The zone comes with either.
      if (!body) body = await api(`/api/stocks?limit=${kept && !dropped.length ? 1 : WATCH_FIRST}`);
      if (kept && !kept.length) body.results = [];
      break;
    } catch (err) {
      showProblem(error, new Error(`Cannot read the stocks: ${err.message} Retrying.`));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  showProblem(error, null);
  setZone(body.zone);
  // A stock watched from the search while this was on its way stays, after
  // these.
  const early = watch.stocks.splice(0);
  for (const q of body.results) {
    if (watch.stocks.length === WATCH_MAX) break;
    if (watch.charts.has(q.stock)) continue;
    watch.stocks.push(q.stock);
    addChart(q);
  }
  for (const n of early) {
    if (watch.stocks.length < WATCH_MAX && !watch.stocks.includes(n)) {
      watch.stocks.push(n);
      box.append(watch.charts.get(n).card); // the cards in the list's order
    } else if (!watch.stocks.includes(n)) {
      watch.charts.get(n).destroy();
      watch.charts.delete(n);
    }
  }
  if (!kept || dropped.length || early.length) saveWatchList();
  if (dropped.length) sayDropped(dropped);
  const buyStock = document.getElementById('buy-stock');
  if (!buyStock.value && watch.stocks.length) buyStock.value = watch.stocks[0];
  box.setAttribute('aria-busy', 'false');
  // The stream carries the held stocks too: wait (a little) for the first
  // positions, so that it opens once with all of them.
  await Promise.race([holdings.first, new Promise((r) => setTimeout(r, FIRST_POSITIONS_WAIT_MS))]);
  watch.loaded = true;
  watchListChanged({ now: true });
}

// ---------------------------------------------------------------- the stream

// One EventSource for every chart and every position: GET
// /api/stream?stocks=... (the watch list, then the stocks the form's user
// holds that it lacks, at most STREAM_MAX in all) sends a series per stock,
// then the minutes that change, each naming its stock.
// The browser reconnects a dropped stream by itself, and its Last-Event-ID
// (one id for all the stocks) lets the service send each stock the minutes
// it missed, or a fresh series. A list that changes closes the stream and
// opens one with the new list: never two open at once.
//
// gen counts the openings asked for, so that the answer to an older one
// changes nothing.
const stream = { source: null, stocks: [], retryMs: RECONNECT_MIN_MS, retry: null, reopen: null, gen: 0 };

// streamList is what the stream should carry: the watch list, then the
// held stocks it lacks (in name order), leaving out the ones the service
// said are not traded.
function streamList() {
  const list = watch.stocks.slice();
  const has = new Set(list);
  for (const stock of holdings.rows.keys()) {
    if (list.length >= STREAM_MAX) break;
    if (!has.has(stock) && !holdings.untraded.has(stock)) list.push(stock);
  }
  return list;
}

// followHoldings reopens the stream when the stocks held changed what it
// should carry (a first buy of a stock not watched, a sale of all of one,
// another user).
function followHoldings() {
  if (!watch.loaded) return; // the first stream opens once the watch list is read
  if (streamList().join() !== stream.stocks.join()) reopenStream();
}

function reopenStream() {
  stream.gen++;
  clearTimeout(stream.reopen);
  stream.reopen = setTimeout(openStream, REOPEN_DELAY_MS);
}

function openStream() {
  stream.gen++;
  clearTimeout(stream.reopen);
  clearTimeout(stream.retry);
  stream.source?.close();
  stream.source = null;
  const stocks = streamList();
  stream.stocks = stocks;
  latest.clear(); // the new stream sends every stock's series afresh
  if (!stocks.length) {
    streamStatus('');
    return;
  }
  setStates('connecting', 'connecting…');
  // The stocks beyond the charts are held ones, priced for the positions.
  const held = stocks.filter((n) => !watch.charts.has(n)).length;
  const counted = `${stocks.length} ${stocks.length === 1 ? 'stock' : 'stocks'}${held ? ` (${held} held, not charted)` : ''}`;
  streamStatus(`Connecting the prices of ${counted}…`);
  const es = new EventSource(`/api/stream?stocks=${stocksParam(stocks)}`);
  stream.source = es;
  const current = () => stream.source === es;
  es.addEventListener('open', () => {
    if (!current()) return;
    stream.retryMs = RECONNECT_MIN_MS;
    setStates('live', 'live');
    streamStatus(`Prices are live for ${counted}.`);
  });
  es.addEventListener('series', (e) => {
    if (!current()) return;
    const s = JSON.parse(e.data);
    const chart = watch.charts.get(s.stock);
    chart?.setSeries(s);
    chart?.setState('live', 'live');
    const n = s.time.length;
    if (n) notePrice(s.stock, s.date, s.time[n - 1], exactPrice(s.price[n - 1], e.data, (x) => x.price.at(-1)), true);
  });
  es.addEventListener('minute', (e) => {
    if (!current()) return;
    const m = JSON.parse(e.data);
    watch.charts.get(m.stock)?.applyMinute(m);
    notePrice(m.stock, m.date, m.time, exactPrice(m.price, e.data, (x) => x.price));
  });
  es.addEventListener('error', () => {
    if (!current()) return;
    if (es.readyState !== EventSource.CLOSED) {
      setStates('reconnecting', 'reconnecting…');
      streamStatus('The price stream was cut: reconnecting…');
      return;
    }
    es.close();
    stream.source = null;
    streamRefused(stocks);
  });
}

// streamRefused follows a stream the service answered with an error, which
// an EventSource does not show: the same list asked of /api/stocks says
// whether a stock is no longer traded (404 unknown-stock), which is then
// dropped; otherwise (429 too many streams, 503 streams full, the service
// away) the stream is opened again after a growing delay.
async function streamRefused(stocks) {
  const gen = stream.gen;
  let dropped = [];
  try {
    ({ dropped } = await knownQuotes(stocks));
  } catch {
    // The service is away or busy: wait as for any refusal.
  }
  if (gen !== stream.gen) return; // the list changed meanwhile, and a stream of it is on its way
  if (dropped.length) {
    // A held stock no longer traded keeps its row, priced as the
    // positions say, but leaves the stream.
    for (const n of dropped) if (!watch.charts.has(n)) holdings.untraded.add(n);
    dropUnknown(dropped.filter((n) => watch.charts.has(n)));
    watchListChanged();
    return;
  }
  const s = Math.round(stream.retryMs / 1000);
  setStates('down', `stream unavailable, retrying in ${s} s`);
  streamStatus(`The service refused the price stream; trying again in ${s} s.`);
  stream.retry = setTimeout(openStream, stream.retryMs);
  stream.retryMs = Math.min(stream.retryMs * 2, RECONNECT_MAX_MS);
}

function setStates(state, text) {
  for (const chart of watch.charts.values()) chart.setState(state, text);
}

// streamStatus is the one line a screen reader hears of the stream; each
// chart shows its own state without announcing it, or fifty charts would
// speak at once.
function streamStatus(text) {
  document.getElementById('stream-status').textContent = text;
}

// ---------------------------------------------------------------- search

// searchStocks lists the stocks whose name starts with prefix (in name
// order, each with its latest quote), at most SEARCH_LIMIT. Answers are
// kept for a while, so that the search and the buy form's suggestions ask
// once for a prefix typed in both.
const searchCache = new Map();
async function searchStocks(prefix, signal) {
  const hit = searchCache.get(prefix);
  if (hit && Date.now() - hit.at < 10_000) return hit.body;
  const body = await api(`/api/stocks?q=${encodeURIComponent(prefix)}&limit=${SEARCH_LIMIT}`, { signal });
  searchCache.set(prefix, { at: Date.now(), body });
  if (searchCache.size > 100) searchCache.delete(searchCache.keys().next().value);
  return body;
}

// debounced asks only once the typing pauses, and drops the answer of a
// question that a later one replaced (the request itself is aborted).
function debounced(ask) {
  let timer = null, controller = null;
  const run = (value) => {
    clearTimeout(timer);
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    return ask(value, signal);
  };
  return {
    later(value) {
      clearTimeout(timer);
      timer = setTimeout(() => run(value), SEARCH_DELAY_MS);
    },
    now: run,
  };
}

const search = { prefix: '', results: [], more: false, seq: 0 };

function quoteText(q) {
  return q.price == null ? 'no price yet' : `${fmt(q.price)} at ${clockOf(secondsOf(q.time))} on ${q.date}`;
}

const searching = debounced(async (raw, signal) => {
  const status = document.getElementById('search-status');
  const box = document.getElementById('search-results');
  const prefix = raw.trim().toLowerCase();
  const seq = ++search.seq;
  if (!prefix) {
    Object.assign(search, { prefix, results: [], more: false });
    status.textContent = '';
    box.dataset.state = 'idle';
    renderSearchResults();
    return;
  }
  if (!STOCK_NAME.test(prefix)) {
    Object.assign(search, { prefix, results: [], more: false });
    status.textContent = `No stock starts with “${raw.trim()}”. ${NAME_RULE}`;
    box.dataset.state = 'done';
    renderSearchResults();
    return;
  }
  box.dataset.state = 'searching';
  let body;
  try {
    body = await searchStocks(prefix, signal);
  } catch (err) {
    if (signal.aborted || seq !== search.seq) return;
    status.textContent = `The search failed: ${err.message}`;
    box.dataset.state = 'error';
    return;
  }
  if (seq !== search.seq) return;
  Object.assign(search, { prefix, results: body.results, more: body.next != null });
  const n = body.results.length;
  status.textContent = !n ? `No stock starts with “${prefix}”.`
    : search.more ? `The first ${n} stocks that start with “${prefix}”, in name order: type more to narrow them down.`
    : `${n} ${n === 1 ? 'stock starts' : 'stocks start'} with “${prefix}”.`;
  box.dataset.state = 'done';
  box.dataset.prefix = prefix;
  renderSearchResults();
  remember(body.results);
});

// renderSearchResults lists the results, each with its latest quote, a
// button to watch it (or the note that it is watched) and one to buy it.
function renderSearchResults() {
  const box = document.getElementById('search-results');
  const focused = document.activeElement?.closest('#search-results li');
  const focusedAt = focused ? [focused.dataset.stock, document.activeElement.dataset.action] : null;
  box.replaceChildren(...search.results.map((q) => {
    const li = document.createElement('li');
    li.dataset.stock = q.stock;
    const name = document.createElement('span');
    name.className = 'result-name';
    name.textContent = q.stock;
    const quote = document.createElement('span');
    quote.className = 'result-quote';
    quote.textContent = quoteText(q);
    const watched = watch.charts.has(q.stock);
    const watchButton = resultButton('watch', watched ? 'Watched' : 'Watch', `${watched ? 'Show' : 'Watch'} ${q.stock}`, () => watchStock(q));
    watchButton.classList.toggle('watched', watched);
    const buyButton = resultButton('buy', 'Buy…', `Buy ${q.stock}`, () => pickForBuy(q));
    li.append(name, quote, watchButton, buyButton);
    return li;
  }));
  box.hidden = !search.results.length;
  if (focusedAt) box.querySelector(`li[data-stock="${CSS.escape(focusedAt[0])}"] button[data-action="${focusedAt[1]}"]`)?.focus();
}

function resultButton(action, text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

// The results by keyboard: Down from the search goes to the first result,
// Up and Down move between results (keeping to the same button), Left and
// Right between a result's buttons, Escape back to the search.
function searchKeys(e) {
  const input = document.getElementById('search');
  const rows = [...document.querySelectorAll('#search-results li')];
  if (e.target === input) {
    if (e.key === 'ArrowDown' && rows.length) {
      rows[0].querySelector('button').focus();
      e.preventDefault();
    } else if (e.key === 'Enter') {
      searching.now(input.value);
      e.preventDefault();
    } else if (e.key === 'Escape' && input.value) {
      input.value = '';
      searching.now('');
      e.preventDefault();
    }
    return;
  }
  const li = e.target.closest('#search-results li');
  if (!li) return;
  const at = rows.indexOf(li);
  const buttons = [...li.querySelectorAll('button')];
  const col = Math.max(0, buttons.indexOf(e.target));
  const go = (row) => row?.querySelectorAll('button')[col]?.focus();
  switch (e.key) {
    case 'ArrowDown': go(rows[at + 1]); break;
    case 'ArrowUp': if (at === 0) input.focus(); else go(rows[at - 1]); break;
    case 'Home': go(rows[0]); break;
    case 'End': go(rows.at(-1)); break;
    case 'ArrowRight': buttons[col + 1]?.focus(); break;
    case 'ArrowLeft': buttons[col - 1]?.focus(); break;
    case 'Escape': input.focus(); break;
    default: return;
  }
  e.preventDefault();
}

// ---------------------------------------------------------------- orders

// The API pages forward only; the cursors of the pages seen are kept here so
// that Previous can go back. cursors[i] is what reads page i.
const orders = { cursors: [null], page: 0 };

const ORDER_COLUMNS = ['#', 'Created', 'User', 'Stock', 'Side', 'Status', 'Price', 'Quantity'];

function orderRow(o) {
  const tr = document.createElement('tr');
  tr.dataset.orderId = String(o.id);
  const cells = [
    String(o.id),
    null,
    o.user,
    o.stock,
    o.side ?? 'buy', // an order recorded before sides is a buy
    o.status,
    fmt(o.price),
    fmt(o.quantity),
  ];
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.dataset.label = ORDER_COLUMNS[i]; // shown beside the value on a narrow screen
    if (i === 1) {
      const t = document.createElement('time');
      t.dateTime = o.creation_date;
      t.textContent = formatInstant(o.creation_date);
      td.append(t);
    } else {
      td.textContent = text;
    }
    if (i === 4) td.className = `side-${o.side ?? 'buy'}`;
    if (i === 5) td.className = `status-${o.status}`;
    if (i >= 6) td.classList.add('num');
    tr.append(td);
  });
  return tr;
}

async function loadOrders(page) {
  const error = document.getElementById('orders-error');
  const params = new URLSearchParams({ limit: String(ORDERS_PAGE_SIZE) });
  if (orders.cursors[page]) params.set('cursor', orders.cursors[page]);
  let body;
  await zoneReady;
  try {
    body = await api(`/api/orders?${params}`, undefined, { exact: true });
  } catch (err) {
    showProblem(error, err);
    return;
  }
  showProblem(error, null);
  orders.page = page;
  orders.cursors.length = page + 1;
  if (body.next) orders.cursors.push(body.next);
  const tbody = document.getElementById('orders-body');
  tbody.replaceChildren(...body.results.map(orderRow));
  if (!body.results.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = ORDER_COLUMNS.length;
    td.className = 'empty';
    td.textContent = page === 0 ? 'No orders yet.' : 'No more orders.';
    tr.append(td);
    tbody.append(tr);
  }
  document.getElementById('orders-page').textContent = `Page ${page + 1}`;
  document.getElementById('orders-prev').disabled = page === 0;
  document.getElementById('orders-next').disabled = !body.next;
}

// ---------------------------------------------------------------- positions

// The positions of the form's user (GET /api/users/{user}/positions), read
// exactly (every figure a BigInt, avg_entry_price the service's decimal
// string, shown as it is), and valued live: the stream carries every held
// stock, and its latest minute sets the price, from which market value =
// quantity × price and unrealized P&L = market value − cost basis, in
// BigInt, as the service computes them.
//
// rows: stock → { stock, quantity, costBasis, avgPrice, price, marketValue,
// pl, tr }, in name order. untraded: held stocks the service said are not
// traded (kept off the stream). seq counts the readings asked for, so that
// an older answer changes nothing. first: the first reading.
const holdings = { user: '', rows: new Map(), untraded: new Set(), seq: 0, first: null };

// latest is the stream's latest minute of each stock it carries, { day,
// time (hhmmss), price (BigInt) }. A minute event prices a position only
// when it is the latest minute: a late tick may change an earlier one. A
// series is the whole latest day, so its last minute always counts.
const latest = new Map();

function notePrice(stock, day, time, price, whole = false) {
  if (price == null) return;
  const t = String(time).padStart(6, '0');
  const d = day ?? '';
  const known = latest.get(stock);
  if (!whole && known && (d < known.day || (d === known.day && t < known.time))) return;
  latest.set(stock, { day: d, time: t, price });
  const row = holdings.rows.get(stock);
  if (row && row.price !== price) {
    reprice(row, price);
    renderRow(row);
    renderTotal();
  }
  if (!watch.charts.has(stock)) stockHint(); // a chart's render says it for the others
}

function reprice(row, price) {
  row.price = price;
  row.marketValue = row.quantity * price;
  row.pl = row.marketValue - row.costBasis;
}

function rowOf(p) {
  return {
    stock: p.stock,
    quantity: p.quantity,
    costBasis: p.cost_basis,
    avgPrice: p.avg_entry_price,
    price: p.price,
    marketValue: p.market_value,
    pl: p.unrealized_pl,
    tr: null,
  };
}

// loadPositions reads the positions (and the credit) of the user in the
// form, and shows them.
async function loadPositions() {
  const user = document.getElementById('buy-user').value.trim();
  const seq = ++holdings.seq;
  const panel = document.getElementById('positions');
  const hint = document.getElementById('buy-user-credit');
  if (!user) {
    Object.assign(holdings, { user: '', rows: new Map() });
    hint.textContent = '';
    positionsStatus('Name a user in the form to see what they hold.');
    panel.dataset.state = 'idle';
    positionsChanged();
    return;
  }
  panel.dataset.state = 'loading';
  let body;
  try {
    body = await api(`/api/users/${encodeURIComponent(user)}/positions`, undefined, { exact: true });
  } catch (err) {
    if (seq !== holdings.seq) return;
    if (err.status === 404) {
      Object.assign(holdings, { user, rows: new Map() });
      hint.textContent = `No user named ${user}.`;
      positionsStatus(`No user named ${user}: no positions to show.`);
    } else {
      // The service is away or busy: the rows of this user stay, as read
      // before, and the page says they may be out of date.
      if (holdings.user !== user) Object.assign(holdings, { user, rows: new Map() });
      hint.textContent = `Credit unknown: ${err.message}`;
      positionsStatus(`The positions cannot be read now: ${err.message}`);
    }
    panel.dataset.state = 'error';
    positionsChanged();
    return;
  }
  if (seq !== holdings.seq) return;
  Object.assign(holdings, { user: body.user, rows: new Map(body.positions.map((p) => [p.stock, rowOf(p)])) });
  showCredit(body.user, body.credit);
  const n = holdings.rows.size;
  positionsStatus(n
    ? `${body.user} holds ${n} ${n === 1 ? 'stock' : 'stocks'}; valued live at the latest prices.`
    : `${body.user} holds no shares.`);
  panel.dataset.state = 'done';
  positionsChanged();
}

function positionsStatus(text) {
  const el = document.getElementById('positions-status');
  if (el.textContent !== text) el.textContent = text; // the same words are not read out again
}

function positionsChanged() {
  const panel = document.getElementById('positions');
  panel.dataset.user = holdings.user;
  panel.dataset.stocks = [...holdings.rows.keys()].join(' ');
  renderPositions();
  followHoldings();
  stockHint();
}

const POSITION_COLUMNS = ['Stock', 'Quantity', 'Avg price', 'Price', 'Market value', 'Unrealized P&L', ''];

// renderPositions lists the rows, each with a Sell button that puts the
// position in the form; a Sell button that had the focus keeps it.
function renderPositions() {
  const body = document.getElementById('positions-body');
  const focused = document.activeElement?.closest('#positions-body tr')?.dataset.stock;
  const user = holdings.user;
  document.getElementById('positions-title').textContent = user ? `Positions of ${user}` : 'Positions';
  document.getElementById('positions-caption').textContent = user ? `Shares ${user} holds, in stock name order` : 'Positions';
  const trs = [...holdings.rows.values()].map(positionRow);
  if (!trs.length) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = POSITION_COLUMNS.length;
    td.className = 'empty';
    td.textContent = user ? 'No positions.' : 'No user named.';
    tr.append(td);
    trs.push(tr);
  }
  body.replaceChildren(...trs);
  if (focused) body.querySelector(`tr[data-stock="${CSS.escape(focused)}"] button`)?.focus();
  renderTotal();
}

function positionRow(row) {
  const tr = document.createElement('tr');
  tr.dataset.stock = row.stock;
  POSITION_COLUMNS.forEach((label, i) => {
    const cell = document.createElement(i === 0 ? 'th' : 'td');
    if (i === 0) cell.scope = 'row';
    if (label) cell.dataset.label = label; // shown beside the value on a narrow screen
    if (i >= 1 && i <= 5) cell.className = 'num';
    tr.append(cell);
  });
  const [stock, quantity, avg, , , , action] = tr.children;
  stock.textContent = row.stock;
  quantity.textContent = fmt(row.quantity);
  avg.textContent = row.avgPrice;
  const sell = document.createElement('button');
  sell.type = 'button';
  sell.textContent = 'Sell…';
  sell.setAttribute('aria-label', `Sell ${row.stock}`);
  sell.addEventListener('click', () => pickForSell(row));
  action.append(sell);
  action.className = 'action';
  row.tr = tr;
  renderRow(row);
  return tr;
}

// renderRow writes a row's figures that the prices move (and its data
// attributes, the exact integers as decimal text).
function renderRow(row) {
  const tr = row.tr;
  if (!tr) return;
  const [, , , price, value, pl] = tr.children;
  price.textContent = fmt(row.price);
  value.textContent = fmt(row.marketValue);
  pl.textContent = signed(row.pl);
  pl.classList.toggle('gain', row.pl != null && row.pl > 0n);
  pl.classList.toggle('loss', row.pl != null && row.pl < 0n);
  const text = (v) => (v == null ? '' : String(v));
  Object.assign(tr.dataset, {
    quantity: text(row.quantity),
    costBasis: text(row.costBasis),
    avgPrice: row.avgPrice,
    price: text(row.price),
    marketValue: text(row.marketValue),
    unrealizedPl: text(row.pl),
  });
}

// renderTotal sums the market values and the P&L of the priced rows.
function renderTotal() {
  const foot = document.getElementById('positions-total');
  const priced = [...holdings.rows.values()].filter((r) => r.price != null);
  foot.hidden = holdings.rows.size < 2 || !priced.length;
  if (foot.hidden) return;
  const value = priced.reduce((sum, r) => sum + r.marketValue, 0n);
  const pl = priced.reduce((sum, r) => sum + r.pl, 0n);
  const [label, valueCell, plCell] = foot.querySelectorAll('th, td');
  label.textContent = priced.length === holdings.rows.size ? 'Total' : `Total of the ${priced.length} priced`;
  valueCell.textContent = fmt(value);
  plCell.textContent = signed(pl);
  plCell.classList.toggle('gain', pl > 0n);
  plCell.classList.toggle('loss', pl < 0n);
  foot.dataset.marketValue = String(value);
  foot.dataset.unrealizedPl = String(pl);
}

// pickForSell puts a position in the form as a sale of all of it, with the
// focus on the quantity (to sell fewer).
function pickForSell(row) {
  setSide('sell');
  document.getElementById('buy-stock').value = row.stock;
  const quantity = document.getElementById('buy-quantity');
  quantity.value = String(row.quantity);
  stockHint();
  quantity.focus();
  quantity.select();
  document.getElementById('buy-form').scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------- buying and selling

// The quantity is sent as the digits typed, not as a JavaScript number, so
// that a quantity beyond 2^53 reaches the service exactly.
function buyBody(user, stock, quantity) {
  const digits = /^[0-9]+$/.test(quantity) ? quantity : JSON.stringify(quantity);
  return `{"user":${JSON.stringify(user)},"stockname":${JSON.stringify(stock)},"quantity":${digits}}`;
}

// trade sends the form as a buy (POST /api/buy-stock) or a sale (POST
// /api/sell-stock): the same body, the same answer. The result, the credit,
// the orders and the positions are shown again.
async function trade(event) {
  event.preventDefault();
  const form = event.target;
  const result = document.getElementById('buy-result');
  const button = document.getElementById('buy-submit');
  const side = form.side.value === 'sell' ? 'sell' : 'buy';
  const selling = side === 'sell';
  const notDone = selling ? 'Not sold.' : 'Not bought.';
  const user = form.user.value.trim();
  const stock = form.stock.value.trim().toLowerCase();
  const quantity = form.quantity.value.trim();
  result.className = 'result';
  delete result.dataset.result;
  result.dataset.side = side;
  if (!STOCK_NAME.test(stock)) {
    // Not even the form of a name: said here, without asking the service.
    // A name of that form that is not traded, the service refuses (422).
    result.dataset.result = 'error';
    result.classList.add('problem');
    result.replaceChildren(strong(notDone), ` “${form.stock.value.trim()}” is not a stock name. ${NAME_RULE}`);
    form.stock.focus();
    return;
  }
  form.stock.value = stock;
  // What the user held before, to say why a sale is denied.
  const held = holdings.user === user ? holdings.rows.get(stock)?.quantity ?? 0n : null;
  button.disabled = true;
  result.textContent = 'Sending…';
  try {
    const res = await api(selling ? '/api/sell-stock' : '/api/buy-stock', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: buyBody(user, stock, quantity),
    }, { exact: true });
    const o = res.order;
    const accepted = res.result === 'Accept';
    result.dataset.result = res.result;
    result.dataset.credit = String(res.credit);
    result.classList.add(accepted ? 'accept' : 'deny');
    const what = `${fmt(o.quantity)} × ${o.stock} at ${fmt(o.price)}`;
    let why = '';
    if (!accepted && selling && held != null && held < o.quantity) {
      why = held ? `: ${o.user} holds ${fmt(held)}` : `: ${o.user} holds none`;
    } else if (!accepted && selling && held != null) {
      why = ': the credit would pass its limit (2^63 − 1)'; // the one other reason the service denies a sale
    } else if (!accepted && !selling) {
      why = `: it costs ${fmt(o.quantity * o.price)}, more than the credit`;
    }
    result.replaceChildren(
      strong(accepted ? 'Accepted:' : 'Denied:'),
      accepted ? ` ${selling ? 'sold' : 'bought'} ${what} (order #${o.id}). ` : ` ${what} not ${selling ? 'sold' : 'bought'} (order #${o.id})${why}. `,
      selling ? 'Credit now: ' : 'Credit left: ', strong(fmt(res.credit), 'credit-left'),
    );
    showCredit(user, res.credit);
    await Promise.all([loadOrders(0), loadPositions()]);
  } catch (err) {
    result.dataset.result = 'error';
    result.classList.add('problem');
    result.replaceChildren(strong(notDone), ` ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

// setSide picks Buy or Sell in the form, and words the button for it.
function setSide(side) {
  const form = document.getElementById('buy-form');
  for (const radio of form.querySelectorAll('input[name="side"]')) radio.checked = radio.value === side;
  sideChanged();
}

function sideChanged() {
  const form = document.getElementById('buy-form');
  const side = form.side.value === 'sell' ? 'sell' : 'buy';
  form.dataset.side = side;
  document.getElementById('buy-submit').textContent = side === 'sell' ? 'Sell at the latest price' : 'Buy at the latest price';
}

function strong(text, className) {
  const b = document.createElement('strong');
  b.textContent = text;
  if (className) b.className = className;
  return b;
}

function showCredit(user, credit) {
  document.getElementById('buy-user-credit').textContent = `${user} has ${fmt(credit)} credit.`;
}

// The stock field is a text field, not a list of every stock (there may be
// 10,000): what is typed is looked up as a prefix, and the first matches
// are offered as suggestions (a datalist). The service judges the name on
// submit.
const quotes = new Map(); // the latest quotes seen in search results, by stock

function remember(results) {
  for (const q of results) {
    quotes.delete(q.stock);
    quotes.set(q.stock, q);
  }
  while (quotes.size > 500) quotes.delete(quotes.keys().next().value);
  stockHint();
}

const suggesting = debounced(async (raw, signal) => {
  const prefix = raw.trim().toLowerCase();
  const list = document.getElementById('buy-stock-options');
  if (!STOCK_NAME.test(prefix)) {
    list.replaceChildren();
    return;
  }
  let body;
  try {
    body = await searchStocks(prefix, signal);
  } catch {
    return; // suggestions only: the submit says what is wrong
  }
  if (signal.aborted) return;
  // A name typed in full needs no suggestion of itself.
  const names = body.results.map((q) => q.stock).filter((n) => n !== prefix || body.results.length > 1);
  list.replaceChildren(...names.map((n) => new Option(n, n)));
  remember(body.results);
});

// stockHint says the latest price of the stock in the field when the page
// knows it (a chart, the stream, or a search result), and how many shares
// of it the user holds.
function stockHint() {
  const stock = document.getElementById('buy-stock').value.trim().toLowerCase();
  const hint = document.getElementById('buy-stock-hint');
  const chart = watch.charts.get(stock);
  const live = chart?.live;
  let text = '';
  if (live?.x.length) {
    const n = live.x.length;
    text = `${stock}: ${fmt(live.close[n - 1])} at ${clockOf(live.x[n - 1])} on ${live.day}.`;
  } else if (latest.has(stock)) {
    const l = latest.get(stock);
    text = `${stock}: ${fmt(l.price)} at ${clockOf(secondsOf(l.time))} on ${l.day}.`;
  } else if (quotes.has(stock)) {
    text = `${stock}: ${quoteText(quotes.get(stock))}.`;
  }
  const row = holdings.rows.get(stock);
  if (row) text += ` ${holdings.user} holds ${fmt(row.quantity)}.`;
  if (hint.textContent !== text.trim()) hint.textContent = text.trim();
}

// pickForBuy puts a search result in the buy form, and the focus on the
// quantity, the one field left to fill.
function pickForBuy(q) {
  setSide('buy');
  const field = document.getElementById('buy-stock');
  field.value = q.stock;
  remember([q]);
  const quantity = document.getElementById('buy-quantity');
  quantity.focus();
  quantity.select();
  document.getElementById('buy-form').scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------- start

const buyForm = document.getElementById('buy-form');
buyForm.addEventListener('submit', trade);
for (const radio of buyForm.querySelectorAll('input[name="side"]')) radio.addEventListener('change', sideChanged);
document.getElementById('buy-user').addEventListener('change', loadPositions);
document.getElementById('orders-prev').addEventListener('click', () => loadOrders(orders.page - 1));
document.getElementById('orders-next').addEventListener('click', () => loadOrders(orders.page + 1));
const searchInput = document.getElementById('search');
searchInput.addEventListener('input', () => searching.later(searchInput.value));
document.querySelector('.find').addEventListener('keydown', searchKeys);
const buyStockInput = document.getElementById('buy-stock');
buyStockInput.addEventListener('input', () => {
  suggesting.later(buyStockInput.value);
  stockHint();
});
sideChanged(); // a side the browser restored on a reload
holdings.first = loadPositions();
loadWatchList();
loadOrders(0);
setInterval(() => { if (document.visibilityState === 'visible') loadPositions(); }, POSITIONS_REFRESH_MS);
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') loadPositions(); });
