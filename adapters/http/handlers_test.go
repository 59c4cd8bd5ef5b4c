package http_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	httpapi "stockd/adapters/http"
	"stockd/app"
	"stockd/domain"
	"stockd/ports"
	"stockd/ports/portsmock"
)

var now = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

// fixture is a server whose every port is a strict mock: a call nobody
// expected fails the test, which is how the tests prove that rejected
// requests change nothing.
type fixture struct {
	prices  *portsmock.MockPriceStore
	credits *portsmock.MockCreditStore
	orders  *portsmock.MockOrderRepository
	keys    *portsmock.MockIdempotencyStore
	handler http.Handler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctrl := gomock.NewController(t)
	f := &fixture{
		prices:  portsmock.NewMockPriceStore(ctrl),
		credits: portsmock.NewMockCreditStore(ctrl),
		orders:  portsmock.NewMockOrderRepository(ctrl),
		keys:    portsmock.NewMockIdempotencyStore(ctrl),
	}
	clock := portsmock.NewMockClock(ctrl)
	clock.EXPECT().Now().Return(now).AnyTimes()
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	buy, err := app.NewBuyStock(stocks, latestFromSeries{f.prices}, f.credits, f.credits, f.orders, f.keys, clock)
	require.NoError(t, err)
	list, err := app.NewListOrders(f.orders, clock, time.UTC)
	require.NoError(t, err)
	get, err := app.NewGetPrices(stocks, f.prices)
	require.NoError(t, err)
	f.handler = httpapi.NewHandler(httpapi.Deps{
		BuyStock: buy, ListOrders: list, GetPrices: get,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks: []httpapi.Check{{Name: "prices", Ping: func(context.Context) error { return nil }}},
	})
	return f
}

// latestFromSeries answers Latest from the mocked Series, so that the
// buy tests set one expectation for the price.
type latestFromSeries struct{ ports.PriceStore }

func (l latestFromSeries) Latest(ctx context.Context, stock string) (int64, bool, error) {
	s, err := l.Series(ctx, stock)
	if err != nil {
		return 0, false, err
	}
	p, ok := s.Latest()
	return p, ok, nil
}

// keyIs matches a reservation of the idempotency key.
func keyIs(key string) gomock.Matcher {
	return gomock.Cond(func(r ports.Reservation) bool { return r.Key == key })
}

func (f *fixture) do(t *testing.T, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func series(prices ...int64) domain.MinuteSeries {
	h := domain.NewPriceHistory()
	for i, p := range prices {
		h.Record(domain.TimeOfDay(9*3600+60*i), p)
	}
	return h.Series()
}

// expectJudgement makes the credit store run the use case's decision on
// credit, and the repository store the order as id 7.
func (f *fixture) expectJudgement(credit int64) {
	f.credits.EXPECT().Debit(gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, req ports.DebitRequest) (ports.DebitResult, error) {
			acc, err := domain.NewAccount(credit)
			if err != nil {
				return ports.DebitResult{}, err
			}
			o, _ := acc.Buy(req.Order)
			return ports.DebitResult{Order: o, Credit: acc.Credit()}, nil
		})
	f.orders.EXPECT().Save(gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, o domain.Order) (domain.Order, error) { return o.WithID(7), nil })
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

type buyResponse struct {
	Result string `json:"result"`
	Credit int64  `json:"credit"`
	Order  struct {
		ID           int64  `json:"id"`
		User         string `json:"user"`
		Stock        string `json:"stock"`
		Status       string `json:"status"`
		Price        int64  `json:"price"`
		Quantity     int64  `json:"quantity"`
		CreationDate string `json:"creation_date"`
	} `json:"order"`
}

func TestBuyStockAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(1000, 1054), nil)
	f.expectJudgement(150000)
	f.credits.EXPECT().SettlePending(gomock.Any(), "user2", gomock.Any()).Return(nil)

	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"Stock1","quantity":100}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := decode[buyResponse](t, rec)
	assert.Equal(t, "Accept", got.Result)
	assert.Equal(t, int64(150000-105400), got.Credit)
	assert.Equal(t, int64(7), got.Order.ID)
	assert.Equal(t, "stock1", got.Order.Stock)
	assert.Equal(t, "accepted", got.Order.Status)
	assert.Equal(t, int64(1054), got.Order.Price)
	assert.Equal(t, "2026-11-26T09:30:00Z", got.Order.CreationDate)
}

func TestBuyStockDenies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(1054), nil)
	f.expectJudgement(105399)

	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":100}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := decode[buyResponse](t, rec)
	assert.Equal(t, "Deny", got.Result)
	assert.Equal(t, "denied", got.Order.Status)
	assert.Equal(t, int64(105399), got.Credit)
}

func TestBuyStockRejectsBadBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		status int
	}{
		{"empty", ``, 400},
		{"not json", `user=user2`, 400},
		{"array", `[1,2]`, 400},
		{"string", `"x"`, 400},
		{"null", `null`, 400},
		{"missing user", `{"stockname":"stock1","quantity":1}`, 400},
		{"missing stockname", `{"user":"user2","quantity":1}`, 400},
		{"missing quantity", `{"user":"user2","stockname":"stock1"}`, 400},
		{"null quantity", `{"user":"user2","stockname":"stock1","quantity":null}`, 400},
		{"unknown field", `{"user":"user2","stockname":"stock1","quantity":1,"price":1}`, 400},
		{"trailing object", `{"user":"user2","stockname":"stock1","quantity":1}{}`, 400},
		{"trailing garbage", `{"user":"user2","stockname":"stock1","quantity":1} x`, 400},
		{"quantity string", `{"user":"user2","stockname":"stock1","quantity":"1"}`, 400},
		{"quantity fraction", `{"user":"user2","stockname":"stock1","quantity":1.5}`, 400},
		{"quantity exponent", `{"user":"user2","stockname":"stock1","quantity":1e2}`, 400},
		{"quantity beyond int64", `{"user":"user2","stockname":"stock1","quantity":9223372036854775808}`, 400},
		{"user number", `{"user":2,"stockname":"stock1","quantity":1}`, 400},
		{"truncated", `{"user":"user2"`, 400},
		{"quantity zero", `{"user":"user2","stockname":"stock1","quantity":0}`, 422},
		{"quantity negative", `{"user":"user2","stockname":"stock1","quantity":-1}`, 422},
		{"unknown stock", `{"user":"user2","stockname":"stock9","quantity":1}`, 422},
		{"empty user", `{"user":"","stockname":"stock1","quantity":1}`, 422},
		{"too large", `{"user":"` + strings.Repeat("u", httpapi.MaxBodyBytes) + `","stockname":"stock1","quantity":1}`, 413},
		{"too large after object", `{"user":"user2","stockname":"stock1","quantity":1}` + strings.Repeat(" ", httpapi.MaxBodyBytes), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t) // no expectations: any store call fails the test
			rec := f.do(t, http.MethodPost, "/api/buy-stock", tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assertProblem(t, rec, tt.status)
		})
	}
}

func assertProblem(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	p := decode[map[string]any](t, rec)
	assert.Equal(t, float64(status), p["status"])
	assert.Equal(t, http.StatusText(status), p["title"])
	assert.NotEmpty(t, p["type"])
	assert.NotEmpty(t, p["detail"])
	assert.Equal(t, rec.Header().Get("X-Request-Id"), p["request_id"])
	assert.NotContains(t, p["detail"], "Go struct")
}

func TestBuyStockStoreOutcomes(t *testing.T) {
	t.Parallel()
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	t.Run("no price yet", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(), nil)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusConflict, rec.Code)
		assertProblem(t, rec, http.StatusConflict)
	})
	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(5), nil)
		f.credits.EXPECT().Debit(gomock.Any(), gomock.Any()).Return(ports.DebitResult{}, ports.ErrUserNotFound)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assertProblem(t, rec, http.StatusUnprocessableEntity)
	})
	t.Run("price store down", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(domain.MinuteSeries{}, ports.ErrUnavailable)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assertProblem(t, rec, http.StatusServiceUnavailable)
		assert.NotEmpty(t, rec.Header().Get("Retry-After"))
	})
	t.Run("order store down after accept keeps the order pending", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(5), nil)
		f.credits.EXPECT().Debit(gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, req ports.DebitRequest) (ports.DebitResult, error) {
				return ports.DebitResult{Order: req.Order.Judged(domain.Accepted), Credit: 95}, nil
			})
		f.orders.EXPECT().Save(gomock.Any(), gomock.Any()).Return(domain.Order{}, ports.ErrUnavailable)
		// No SettlePending: the pending record must stay for the settler.
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Contains(t, rec.Body.String(), "will be recorded")
	})
	t.Run("unexpected error is a 500 without internals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(domain.MinuteSeries{}, io.ErrClosedPipe)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.NotContains(t, rec.Body.String(), "pipe")
	})
}

func TestBuyStockIdempotencyKey(t *testing.T) {
	t.Parallel()
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	t.Run("replay returns the first outcome and touches nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		o, err := domain.OrderFromStore(3, "k", "user2", "stock1", domain.Accepted, 5, 1, now)
		require.NoError(t, err)
		f.keys.EXPECT().Reserve(gomock.Any(), keyIs("abc"), gomock.Any()).Return(&ports.Outcome{Order: o, Credit: 95}, nil)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, rec.Code)
		got := decode[buyResponse](t, rec)
		assert.Equal(t, int64(3), got.Order.ID)
		assert.Equal(t, int64(95), got.Credit)
	})
	t.Run("key reused with another body", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.keys.EXPECT().Reserve(gomock.Any(), keyIs("abc"), gomock.Any()).Return(nil, ports.ErrKeyReused)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	})
	t.Run("first use records the outcome", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.keys.EXPECT().Reserve(gomock.Any(), keyIs("abc"), gomock.Any()).Return(nil, nil)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(5), nil)
		f.expectJudgement(100)
		f.credits.EXPECT().SettlePending(gomock.Any(), "user2", gomock.Any()).Return(nil)
		f.keys.EXPECT().Complete(gomock.Any(), "user2", "abc", gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, _, _, _ string, out ports.Outcome, _ time.Duration) error {
				assert.Equal(t, int64(7), out.Order.ID())
				assert.Equal(t, int64(95), out.Credit)
				return nil
			})
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, rec.Code)
	})
	t.Run("a failure before any change releases the key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.keys.EXPECT().Reserve(gomock.Any(), keyIs("abc"), gomock.Any()).Return(nil, nil)
		f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(), nil)
		f.keys.EXPECT().Release(gomock.Any(), "user2", "abc").Return(nil)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusConflict, rec.Code)
	})
	t.Run("an overlong key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", strings.Repeat("k", 256))
		require.Equal(t, http.StatusBadRequest, rec.Code)
	})
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		rec := f.do(t, m, "/api/buy-stock", "")
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, m)
		assertProblem(t, rec, http.StatusMethodNotAllowed)
	}
	rec := f.do(t, http.MethodPost, "/api/orders", "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for _, q := range []string{"limit=0", "limit=1001", "limit=x", "limit=-1", "cursor=%%%", "cursor=abc", "cursor=e30"} {
			rec := f.do(t, http.MethodGet, "/api/orders?"+q, "")
			require.Equal(t, http.StatusBadRequest, rec.Code, q)
			assertProblem(t, rec, http.StatusBadRequest)
		}
	})
	t.Run("pages carry the first page's instant", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var orders []domain.Order
		for i := range int64(3) {
			o, err := domain.OrderFromStore(10-i, "k", "u", "stock1", domain.Accepted, 1, 1, now.Add(-time.Duration(i)*time.Minute))
			require.NoError(t, err)
			orders = append(orders, o)
		}
		f.orders.EXPECT().List(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, q domain.OrderQuery) ([]domain.Order, error) {
			assert.Equal(t, 3, q.Limit, "one more than asked, to know whether a page follows")
			assert.Nil(t, q.After)
			return orders, nil
		})
		rec := f.do(t, http.MethodGet, "/api/orders?limit=2", "")
		require.Equal(t, http.StatusOK, rec.Code)
		page := decode[struct {
			Results []struct{ ID int64 } `json:"results"`
			Next    *string              `json:"next"`
		}](t, rec)
		require.Len(t, page.Results, 2)
		require.NotNil(t, page.Next)

		f.orders.EXPECT().List(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, q domain.OrderQuery) ([]domain.Order, error) {
			require.NotNil(t, q.After)
			assert.Equal(t, orders[1].Position(), *q.After)
			assert.Equal(t, domain.VisibleAt(now, time.UTC), q.Visibility)
			return orders[2:], nil
		})
		rec = f.do(t, http.MethodGet, "/api/orders?limit=2&cursor="+*page.Next, "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"results":[{"id":8,"user":"u","stock":"stock1","status":"accepted","price":1,"quantity":1,"creation_date":"2026-11-26T09:28:00Z"}],"next":null}`, rec.Body.String())
	})
	t.Run("empty list is an empty array", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.orders.EXPECT().List(gomock.Any(), gomock.Any()).Return(nil, nil)
		rec := f.do(t, http.MethodGet, "/api/orders", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"results":[],"next":null}`, rec.Body.String())
	})
}

func TestStockPrices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.prices.EXPECT().Series(gomock.Any(), "stock1").Return(series(5, 6), nil)
	rec := f.do(t, http.MethodGet, "/api/stocks/STOCK1/prices", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock":"stock1","time":["090000","090100"],"price":[5,6],"open":[5,6],"high":[5,6],"low":[5,6]}`, rec.Body.String())

	f.prices.EXPECT().Series(gomock.Any(), "stock2").Return(series(), nil)
	rec = f.do(t, http.MethodGet, "/api/stocks/stock2/prices", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock":"stock2","time":[],"price":[],"open":[],"high":[],"low":[]}`, rec.Body.String())

	rec = f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	assertProblem(t, rec, http.StatusNotFound)
}

func TestOperations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/healthz", "").Code)
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/readyz", "").Code)
	f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "")
	rec := f.do(t, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `stockd_http_request_duration_seconds_count{method="GET",route="/api/stocks/:stock/prices",status="404"} 1`)
	assert.Contains(t, rec.Body.String(), `stockd_orders_total{status="accepted"} 0`)
	rec = f.do(t, http.MethodGet, "/nowhere", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	assertProblem(t, rec, http.StatusNotFound)
}

func TestReadyzReportsTheFailingDependency(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := httpapi.NewHandler(httpapi.Deps{
		Registry: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks: []httpapi.Check{
			{Name: "redis", Ping: func(context.Context) error { return ports.ErrUnavailable }},
			{Name: "postgres", Ping: func(context.Context) error { return nil }},
		},
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"status":"unavailable","checks":{"redis":"store unavailable","postgres":"ok"}}`, rec.Body.String())
}
