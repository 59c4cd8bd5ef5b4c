// The dashboard: one chart per stock fed by the stock's event stream, a buy
// form, and the paged orders list. Plain JavaScript against the service's own
// API (see the HTTP API in the README); uPlot (a global from the vendored
// script) draws the charts.

const ORDERS_PAGE_SIZE = 10;
const CHART_HEIGHT = 220;
// A stream the browser will not reopen by itself (an HTTP error, a wrong
// content type) is reopened after this delay, doubled up to the maximum.
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const fmt = (n) => (n == null ? '–' : numberFormat.format(n));

// The series' times are hhmmss of one day, without a date: the chart's x is
// seconds since midnight, drawn in UTC so that no time zone shifts them.
function secondsOf(hhmmss) {
  const s = String(hhmmss).padStart(6, '0');
  return Number(s.slice(0, 2)) * 3600 + Number(s.slice(2, 4)) * 60 + Number(s.slice(4, 6));
}
function clockOf(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

// ApiError carries an RFC 9457 problem (title, detail) when the API sent one.
class ApiError extends Error {
  constructor(status, problem) {
    const title = problem?.title || `HTTP ${status}`;
    super(problem?.detail ? `${title}: ${problem.detail}` : title);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { title: 'The service cannot be reached', detail: err.message });
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

// ---------------------------------------------------------------- charts

// StockChart is one stock's card: the latest price, the stream's state and
// the plot. Its data are kept as the columns uPlot draws: x, close, high, low.
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
    this.plotBox = card.querySelector('.plot');
    this.plotBox.setAttribute('aria-label', `Minute chart of ${stock}: close line with the high–low band`);
    parent.append(card);

    this.x = []; this.close = []; this.high = []; this.low = [];
    this.plot = null;
    this.source = null;
    this.retryMs = RECONNECT_MIN_MS;
    new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: CHART_HEIGHT })).observe(this.plotBox);
  }

  width() {
    return Math.max(200, Math.floor(this.plotBox.clientWidth));
  }

  // showLatest fills the card's header from a /api/stocks entry, before the
  // stream delivers the series.
  showLatest(time, price) {
    this.latestPrice.textContent = fmt(price);
    this.latestPrice.dataset.price = price == null ? '' : String(price);
    this.latestTime.textContent = time == null ? 'no price yet' : `at ${clockOf(secondsOf(time))}`;
  }

  // setSeries replaces everything with a whole series (the body of
  // /api/stocks/{stock}/prices).
  setSeries(s) {
    const n = s.time.length;
    this.x = s.time.map(secondsOf);
    this.close = s.price.slice();
    this.high = s.high?.length === n ? s.high.slice() : new Array(n).fill(null);
    this.low = s.low?.length === n ? s.low.slice() : new Array(n).fill(null);
    this.render();
  }

  // applyMinute replaces the minute it names, or inserts it in time order
  // (usually at the end).
  applyMinute(m) {
    const t = secondsOf(m.time);
    let i = this.x.length;
    while (i > 0 && this.x[i - 1] > t) i--;
    const replace = i > 0 && this.x[i - 1] === t;
    const at = replace ? i - 1 : i;
    const del = replace ? 1 : 0;
    this.x.splice(at, del, t);
    this.close.splice(at, del, m.price);
    this.high.splice(at, del, m.high ?? null);
    this.low.splice(at, del, m.low ?? null);
    this.render();
  }

  render() {
    const n = this.x.length;
    this.card.dataset.points = String(n);
    this.card.dataset.latestTime = n ? clockOf(this.x[n - 1]) : '';
    if (n) {
      this.latestPrice.textContent = fmt(this.close[n - 1]);
      this.latestPrice.dataset.price = String(this.close[n - 1]);
      this.latestTime.textContent = `at ${clockOf(this.x[n - 1])}`;
    }
    const data = [this.x, this.close, this.high, this.low];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    this.plot = new uPlot(chartOptions(this.width()), data, this.plotBox);
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
  const line = getComputedStyle(document.documentElement).getPropertyValue('--chart-line').trim() || '#1f5fbf';
  const band = getComputedStyle(document.documentElement).getPropertyValue('--chart-band').trim() || 'rgba(31,95,191,0.15)';
  const edge = getComputedStyle(document.documentElement).getPropertyValue('--chart-edge').trim() || 'rgba(31,95,191,0.35)';
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
      { label: 'Close', stroke: line, width: 2, value },
      { label: 'High', stroke: edge, width: 1, value, points: { show: false } },
      { label: 'Low', stroke: edge, width: 1, value, points: { show: false } },
    ],
    bands: [{ series: [2, 3], fill: band }],
    axes: [
      { values: (u, splits) => splits.map(clockOf) },
      { size: 70, values: (u, splits) => splits.map(fmt) },
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
      showProblem(error, new Error(`Cannot list the stocks (${err.message}); retrying.`));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  showProblem(error, null);
  for (const { stock, time, price } of body.results) {
    const chart = new StockChart(stock, box);
    chart.showLatest(time, price);
    chart.connect();
    select.append(new Option(stock, stock));
  }
  box.setAttribute('aria-busy', 'false');
}

// ---------------------------------------------------------------- orders

// The API pages forward only; the cursors of the pages seen are kept here so
// that Previous can go back. cursors[i] is what reads page i.
const orders = { cursors: [null], page: 0 };

function orderRow(o) {
  const tr = document.createElement('tr');
  tr.dataset.orderId = String(o.id);
  const created = new Date(o.creation_date);
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
    if (i === 1) {
      const t = document.createElement('time');
      t.dateTime = o.creation_date;
      t.textContent = created.toLocaleString();
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
    result.replaceChildren(strong(err.problem?.title || 'Error'), err.problem?.detail ? `: ${err.problem.detail}` : ` (${err.message})`);
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
    hint.textContent = err.status === 404 ? `No user named ${user}.` : `Credit unknown (${err.message}).`;
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
