// The dashboard: one chart per stock fed by the stock's event stream, a buy
// form, and the paged orders list. Plain JavaScript against the service's own
// API (see docs/api.md and api/openapi.yaml); uPlot (a global from the vendored
// script) draws the charts.

const ORDERS_PAGE_SIZE = 10;
const CHART_HEIGHT = 220;
// A stream the browser will not reopen by itself (an HTTP error, a wrong
// content type) is reopened after this delay, doubled up to the maximum.
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const fmt = (n) => (n == null ? '–' : numberFormat.format(n));

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

async function api(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, null);
  }
  const type = res.headers.get('Content-Type') || '';
  const body = type.includes('json') ? await res.json().catch(() => null) : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
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
    parent.append(card);

    this.live = emptyDay(null);
    this.view = null; // an earlier day the person picked, or null to follow the live one
    this.days = [];
    this.plot = null;
    this.source = null;
    this.retryMs = RECONNECT_MIN_MS;
    this.pickSeq = 0;
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: CHART_HEIGHT })).observe(this.plotBox);
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
  }

  // connect opens the stream. The browser reopens a dropped stream by itself
  // and the service then sends a fresh series; a stream the browser gave up
  // on is reopened here with a growing delay.
  connect() {
    const es = new EventSource(`/api/stocks/${encodeURIComponent(this.stock)}/stream`);
    this.source = es;
    es.addEventListener('open', () => {
      this.retryMs = RECONNECT_MIN_MS;
      this.setState('live', 'live');
    });
    es.addEventListener('series', (e) => this.setSeries(JSON.parse(e.data)));
    es.addEventListener('minute', (e) => this.applyMinute(JSON.parse(e.data)));
    es.addEventListener('error', () => {
      if (es.readyState !== EventSource.CLOSED) {
        this.setState('reconnecting', 'reconnecting…');
        return;
      }
      this.setState('down', `stream unavailable, retrying in ${Math.round(this.retryMs / 1000)} s`);
      setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    });
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

async function loadCharts() {
  const box = document.getElementById('charts');
  const error = document.getElementById('stocks-error');
  const select = document.getElementById('buy-stock');
  let body;
  for (let delay = RECONNECT_MIN_MS; ; delay = Math.min(delay * 2, RECONNECT_MAX_MS)) {
    try {
      body = await api('/api/stocks');
      break;
    } catch (err) {
      showProblem(error, new Error(`Cannot list the stocks: ${err.message} Retrying.`));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  showProblem(error, null);
  setZone(body.zone);
  for (const { stock, date, time, price } of body.results) {
    const chart = new StockChart(stock, box);
    chart.showLatest(date, time, price);
    chart.connect();
    select.append(new Option(stock, stock));
  }
  box.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------- orders

// The API pages forward only; the cursors of the pages seen are kept here so
// that Previous can go back. cursors[i] is what reads page i.
const orders = { cursors: [null], page: 0 };

const ORDER_COLUMNS = ['#', 'Created', 'User', 'Stock', 'Status', 'Price', 'Quantity'];

function orderRow(o) {
  const tr = document.createElement('tr');
  tr.dataset.orderId = String(o.id);
  const cells = [
    String(o.id),
    null,
    o.user,
    o.stock,
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
    if (i === 4) td.className = `status-${o.status}`;
    if (i >= 5) td.classList.add('num');
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
    body = await api(`/api/orders?${params}`);
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
    td.colSpan = 7;
    td.className = 'empty';
    td.textContent = page === 0 ? 'No orders yet.' : 'No more orders.';
    tr.append(td);
    tbody.append(tr);
  }
  document.getElementById('orders-page').textContent = `Page ${page + 1}`;
  document.getElementById('orders-prev').disabled = page === 0;
  document.getElementById('orders-next').disabled = !body.next;
}

// ---------------------------------------------------------------- buying

// The quantity is sent as the digits typed, not as a JavaScript number, so
// that a quantity beyond 2^53 reaches the service exactly.
function buyBody(user, stock, quantity) {
  const digits = /^[0-9]+$/.test(quantity) ? quantity : JSON.stringify(quantity);
  return `{"user":${JSON.stringify(user)},"stockname":${JSON.stringify(stock)},"quantity":${digits}}`;
}

async function buy(event) {
  event.preventDefault();
  const form = event.target;
  const result = document.getElementById('buy-result');
  const button = document.getElementById('buy-submit');
  const user = form.user.value.trim();
  const stock = form.stock.value;
  const quantity = form.quantity.value.trim();
  button.disabled = true;
  result.className = 'result';
  result.textContent = 'Sending…';
  delete result.dataset.result;
  try {
    const res = await api('/api/buy-stock', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: buyBody(user, stock, quantity),
    });
    const o = res.order;
    const accepted = res.result === 'Accept';
    result.dataset.result = res.result;
    result.dataset.credit = String(res.credit);
    result.classList.add(accepted ? 'accept' : 'deny');
    result.replaceChildren(
      strong(accepted ? 'Accepted' : 'Denied'),
      ` order #${o.id}: ${fmt(o.quantity)} × ${o.stock} at ${fmt(o.price)}. `,
      'Credit left: ', strong(fmt(res.credit), 'credit-left'),
    );
    showCredit(user, res.credit);
    await loadOrders(0);
  } catch (err) {
    result.dataset.result = 'error';
    result.classList.add('problem');
    result.replaceChildren(strong('Not bought.'), ` ${err.message}`);
  } finally {
    button.disabled = false;
  }
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

// lookUpCredit shows the credit of the user typed, so that one knows before
// buying; an unknown user is said plainly.
async function lookUpCredit() {
  const user = document.getElementById('buy-user').value.trim();
  const hint = document.getElementById('buy-user-credit');
  if (!user) {
    hint.textContent = '';
    return;
  }
  try {
    const body = await api(`/api/users/${encodeURIComponent(user)}`);
    showCredit(body.user, body.credit);
  } catch (err) {
    hint.textContent = err.status === 404 ? `No user named ${user}.` : `Credit unknown: ${err.message}`;
  }
}

// ---------------------------------------------------------------- start

document.getElementById('buy-form').addEventListener('submit', buy);
document.getElementById('buy-user').addEventListener('change', lookUpCredit);
document.getElementById('orders-prev').addEventListener('click', () => loadOrders(orders.page - 1));
document.getElementById('orders-next').addEventListener('click', () => loadOrders(orders.page + 1));
loadCharts();
loadOrders(0);
lookUpCredit();
