package http_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	httpapi "stockd/adapters/http"
	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// now is the fixture's clock: every order is created at it, and "today"
// is its day, the trading day of the fixture's prices.
var now = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

// today and yesterday are the fixture's trading days.
var (
	today     = domain.DayOf(now)
	yesterday = today.AddDays(-1)
)

// cursorKey is the fixture's cursor secret, as CURSOR_SECRET would give it.
var cursorKey = []byte("a test cursor secret, fixed")

// fixture is the real handler over the real use cases on memory stores:
// stocks stock1, stock2 and stock3; stock1 priced 100 at 09:00 and 110 at
// 09:02 today (and 90 at 09:00 yesterday), the others without a price; user1 and user2 with 10000 each, and
// a token for each. The stores are wrapped so that a test can make them
// fail, which is how error paths are reached without encoding the use
// cases' call order.
type fixture struct {
	handler *echo.Echo
	prices  *flakyPrices
	credits *flakyCredits
	orders  *flakyOrders
	tokens  *countingTokens
	reg     *prometheus.Registry
	logs    *testenv.LogBuffer
	token   string // user1's
	token2  string // user2's
}

type fixtureOptions struct {
	tokens    bool
	rateLimit int
	cors      []string
	cursorKey []byte
	// maxPriceAge is MAX_PRICE_AGE (zero: off); the fixture's latest tick,
	// 09:02:30 today, is 27.5 minutes old by its clock.
	maxPriceAge time.Duration
	limiter     ports.RateLimiter // the shared per-user limiter, in place of a memory one
	tracing     trace.TracerProvider
}

type option func(*fixtureOptions)

func withTokens() option         { return func(o *fixtureOptions) { o.tokens = true } }
func withRateLimit(n int) option { return func(o *fixtureOptions) { o.rateLimit = n } }
func withUserLimiter(l ports.RateLimiter) option {
	return func(o *fixtureOptions) { o.limiter = l }
}
func withCORS(origins ...string) option { return func(o *fixtureOptions) { o.cors = origins } }
func withCursorKey(k []byte) option     { return func(o *fixtureOptions) { o.cursorKey = k } }
func withTracing(tp trace.TracerProvider) option {
	return func(o *fixtureOptions) { o.tracing = tp }
}
func withMaxPriceAge(d time.Duration) option {
	return func(o *fixtureOptions) { o.maxPriceAge = d }
}

func newFixture(t testing.TB, opts ...option) *fixture {
	t.Helper()
	o := fixtureOptions{cursorKey: cursorKey}
	for _, opt := range opts {
		opt(&o)
	}
	stocks, err := domain.NewStocks([]string{"stock1", "stock2", "stock3"})
	require.NoError(t, err)
	f := &fixture{
		prices:  &flakyPrices{PriceStore: memory.NewPriceStore()},
		credits: &flakyCredits{CreditStore: memory.NewCreditStore()},
		orders:  &flakyOrders{OrderRepository: memory.NewOrderRepository()},
		tokens:  &countingTokens{TokenStore: memory.NewTokenStore()},
		reg:     prometheus.NewRegistry(),
		logs:    &testenv.LogBuffer{},
	}
	f.tickOn(t, yesterday, "stock1", 9*3600, 90)
	f.tick(t, "stock1", 9*3600, 100)
	f.tick(t, "stock1", 9*3600+150, 110)
	f.setCredit(t, "user1", 10000)
	f.setCredit(t, "user2", 10000)

	clock := memory.NewManualClock(now)
	buy, err := app.NewBuyStock(stocks, f.prices, f.credits, f.credits, f.orders, memory.NewIdempotencyStore(clock), clock)
	require.NoError(t, err)
	buy = buy.WithMaxPriceAge(o.maxPriceAge, time.UTC)
	sell, err := app.NewSellStock(buy, f.credits)
	require.NoError(t, err)
	positions, err := app.NewGetPositions(stocks, f.credits, f.prices)
	require.NoError(t, err)
	list, err := app.NewListOrders(f.orders, clock, time.UTC)
	require.NoError(t, err)
	getOrder, err := app.NewGetOrder(f.orders, clock, time.UTC)
	require.NoError(t, err)
	get, err := app.NewGetPrices(stocks, f.prices)
	require.NoError(t, err)
	days, err := app.NewListDays(stocks, f.prices)
	require.NoError(t, err)
	quotes, err := app.NewListStocks(stocks, f.prices)
	require.NoError(t, err)
	watch, err := app.NewWatchPrices(stocks, f.prices, f.prices.Feed())
	require.NoError(t, err)
	users, err := app.NewGetUser(stocks, f.credits)
	require.NoError(t, err)
	minter, err := app.NewTokens(f.tokens, users)
	require.NoError(t, err)
	f.token, err = minter.Mint(t.Context(), "user1")
	require.NoError(t, err)
	f.token2, err = minter.Mint(t.Context(), "user2")
	require.NoError(t, err)
	f.tokens.lookups.Store(0)

	deps := httpapi.Deps{
		BuyStock: buy, SellStock: sell, GetPositions: positions, ListOrders: list, GetOrder: getOrder, GetPrices: get, GetUser: users, ListDays: days, ListStocks: quotes, WatchPrices: watch,
		CursorKey: o.cursorKey, CORSOrigins: o.cors,
		Registry: f.reg, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
		Checks:         []httpapi.Check{{Name: "prices", Ping: func(context.Context) error { return nil }}},
		TracerProvider: o.tracing,
	}
	if o.tokens {
		deps.Tokens = minter
	}
	if o.rateLimit > 0 {
		deps.AddressLimiter, err = memory.NewRateLimiter(o.rateLimit, time.Second, clock)
		require.NoError(t, err)
		deps.UserLimiter, err = memory.NewRateLimiter(o.rateLimit, time.Second, clock)
		require.NoError(t, err)
	}
	if o.limiter != nil {
		deps.UserLimiter = o.limiter
	}
	f.handler = httpapi.NewHandler(deps)
	return f
}

// tick records a price of stock at a time of day (seconds) today.
func (f *fixture) tick(t testing.TB, stock string, at int, price int64) {
	t.Helper()
	f.tickOn(t, today, stock, at, price)
}

// tickOn records a price of stock at a time of day (seconds) on day.
func (f *fixture) tickOn(t testing.TB, day domain.Day, stock string, at int, price int64) {
	t.Helper()
	tk, err := domain.NewTick(stock, day, domain.TimeOfDay(at), price)
	require.NoError(t, err)
	b := domain.NewTickBatch()
	b.Add(tk)
	require.NoError(t, f.prices.Merge(t.Context(), b.Histories()))
}

func (f *fixture) setCredit(t testing.TB, user string, credit int64) {
	t.Helper()
	require.NoError(t, f.credits.SetCredit(t.Context(), user, credit))
}

func (f *fixture) credit(t *testing.T, user string) int64 {
	t.Helper()
	c, err := f.credits.Credit(t.Context(), user)
	require.NoError(t, err)
	return c
}

// stored is every order the repository took, in the order saved.
func (f *fixture) stored() []domain.Order {
	f.orders.mu.Lock()
	defer f.orders.mu.Unlock()
	return slices.Clone(f.orders.saved)
}

// do sends a request; header is name, value pairs. A POST with a body is
// sent as application/json unless the pairs set Content-Type.
func (f *fixture) do(t *testing.T, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return f.send(req)
}

// doAs sends a request with a bearer token (none when "") from a peer
// address (httptest's when "").
func (f *fixture) doAs(token, addr, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if addr != "" {
		req.RemoteAddr = addr
	}
	return f.send(req)
}

func (f *fixture) send(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

// assertUnchanged proves a refused request changed nothing: the seeded
// credits, no order, no pending order.
func (f *fixture) assertUnchanged(t *testing.T) {
	t.Helper()
	assert.Equal(t, int64(10000), f.credit(t, "user1"))
	assert.Equal(t, int64(10000), f.credit(t, "user2"))
	assert.Empty(t, f.stored())
	pending, err := f.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending)
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

// assertProblem checks an RFC 9457 answer of status and, when given, of
// the problem type with this slug.
func assertProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, slug ...string) {
	t.Helper()
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	p := decode[map[string]any](t, rec)
	assert.Equal(t, float64(status), p["status"])
	assert.Equal(t, http.StatusText(status), p["title"])
	assert.NotEmpty(t, p["type"])
	assert.NotEmpty(t, p["detail"])
	assert.Equal(t, rec.Header().Get("X-Request-Id"), p["request_id"])
	assert.NotContains(t, p["detail"], "Go struct")
	if len(slug) > 0 {
		assert.Equal(t, "/problems/"+slug[0], p["type"], "detail: %v", p["detail"])
	}
}

// flakyPrices fails every read with err while it is set.
type flakyPrices struct {
	*memory.PriceStore
	err failure
}

func (p *flakyPrices) Series(ctx context.Context, stock string, day domain.Day) (domain.MinuteSeries, error) {
	if err := p.err.get(); err != nil {
		return domain.MinuteSeries{}, err
	}
	return p.PriceStore.Series(ctx, stock, day)
}

func (p *flakyPrices) Days(ctx context.Context, stock string) ([]domain.Day, error) {
	if err := p.err.get(); err != nil {
		return nil, err
	}
	return p.PriceStore.Days(ctx, stock)
}

func (p *flakyPrices) Latest(ctx context.Context, stock string) (domain.Quote, bool, error) {
	if err := p.err.get(); err != nil {
		return domain.Quote{}, false, err
	}
	return p.PriceStore.Latest(ctx, stock)
}

func (p *flakyPrices) LatestQuotes(ctx context.Context, stocks []string) ([]domain.Quote, error) {
	if err := p.err.get(); err != nil {
		return nil, err
	}
	return p.PriceStore.LatestQuotes(ctx, stocks)
}

// flakyCredits fails Debit and Credit with err while it is set.
type flakyCredits struct {
	*memory.CreditStore
	err failure
}

func (c *flakyCredits) Debit(ctx context.Context, req ports.DebitRequest) (ports.Outcome, error) {
	if err := c.err.get(); err != nil {
		return ports.Outcome{}, err
	}
	return c.CreditStore.Debit(ctx, req)
}

func (c *flakyCredits) CreditSale(ctx context.Context, req ports.SaleRequest) (ports.Outcome, error) {
	if err := c.err.get(); err != nil {
		return ports.Outcome{}, err
	}
	return c.CreditStore.CreditSale(ctx, req)
}

func (c *flakyCredits) Positions(ctx context.Context, user string) (ports.Portfolio, error) {
	if err := c.err.get(); err != nil {
		return ports.Portfolio{}, err
	}
	return c.CreditStore.Positions(ctx, user)
}

func (c *flakyCredits) Credit(ctx context.Context, user string) (int64, error) {
	if err := c.err.get(); err != nil {
		return 0, err
	}
	return c.CreditStore.Credit(ctx, user)
}

// flakyOrders fails Save with saveErr while it is set, and records what
// it saved and the queries List is asked.
type flakyOrders struct {
	*memory.OrderRepository
	saveErr failure
	mu      sync.Mutex
	saved   []domain.Order
	queries []domain.OrderQuery
}

func (o *flakyOrders) Save(ctx context.Context, order domain.Order) (domain.Order, error) {
	if err := o.saveErr.get(); err != nil {
		return domain.Order{}, err
	}
	saved, err := o.OrderRepository.Save(ctx, order)
	if err == nil {
		o.mu.Lock()
		o.saved = append(o.saved, saved)
		o.mu.Unlock()
	}
	return saved, err
}

func (o *flakyOrders) List(ctx context.Context, q domain.OrderQuery) ([]domain.Order, error) {
	o.mu.Lock()
	o.queries = append(o.queries, q)
	o.mu.Unlock()
	return o.OrderRepository.List(ctx, q)
}

func (o *flakyOrders) lastQuery(t *testing.T) domain.OrderQuery {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.queries)
	return o.queries[len(o.queries)-1]
}

// countingTokens counts the lookups that reach the token store.
type countingTokens struct {
	*memory.TokenStore
	lookups atomic.Int64
}

func (c *countingTokens) TokenUser(ctx context.Context, hash string) (string, error) {
	c.lookups.Add(1)
	return c.TokenStore.TokenUser(ctx, hash)
}

// failure is an error a wrapper returns while it is set.
type failure struct {
	mu  sync.Mutex
	err error
}

func (f *failure) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *failure) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
