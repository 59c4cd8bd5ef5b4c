package http_test

import (
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

	httpapi "stockd/adapters/http"
	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
)

// memoryServer is the real handler on memory stores: stock1 priced 100 at
// 09:00 and 110 at 09:02, stock2 without a price, user1 and user2 with
// 10000 each, and a token of user1. tokens turns AUTH=tokens on.
type memoryServer struct {
	handler http.Handler
	credits *memory.CreditStore
	token   string
}

func newMemoryServer(t *testing.T, tokens bool, perSecond int) *memoryServer {
	t.Helper()
	stocks, err := domain.NewStocks([]string{"stock1", "stock2"})
	require.NoError(t, err)
	prices, credits, orders := memory.NewPriceStore(), memory.NewCreditStore(), memory.NewOrderRepository()
	b := domain.NewTickBatch()
	b.Add(domain.Tick{Stock: "stock1", At: 9 * 3600, Price: 100})
	b.Add(domain.Tick{Stock: "stock1", At: 9*3600 + 150, Price: 110})
	require.NoError(t, prices.Merge(t.Context(), b.Histories()))
	require.NoError(t, credits.SetCredit(t.Context(), "user1", 10000))
	require.NoError(t, credits.SetCredit(t.Context(), "user2", 10000))
	clock := memory.SystemClock{}
	buy, err := app.NewBuyStock(stocks, prices, credits, credits, orders, memory.NewIdempotencyStore(clock), clock)
	require.NoError(t, err)
	list, err := app.NewListOrders(orders, clock, time.UTC)
	require.NoError(t, err)
	get, err := app.NewGetPrices(stocks, prices)
	require.NoError(t, err)
	minter, err := app.NewTokens(memory.NewTokenStore())
	require.NoError(t, err)
	token, err := minter.Mint(t.Context(), "user1")
	require.NoError(t, err)
	deps := httpapi.Deps{BuyStock: buy, ListOrders: list, GetPrices: get, RateLimit: perSecond,
		Registry: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tokens {
		deps.Tokens = minter
	}
	return &memoryServer{handler: httpapi.NewHandler(deps), credits: credits, token: token}
}

func (g *memoryServer) do(method, target, body, token, addr string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if addr != "" {
		req.RemoteAddr = addr
	}
	rec := httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	return rec
}

func TestTokensGuardTheAPI(t *testing.T) {
	t.Parallel()
	g := newMemoryServer(t, true, 0)
	buy := func(user string) string { return `{"user":"` + user + `","stockname":"stock1","quantity":1}` }

	for name, token := range map[string]string{"missing": "", "unknown": "not-a-token"} {
		rec := g.do("POST", "/api/buy-stock", buy("user1"), token, "")
		require.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assertProblem(t, rec, http.StatusUnauthorized)
		assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
		require.Equal(t, http.StatusUnauthorized, g.do("GET", "/api/orders", "", token, "").Code, name)
		require.Equal(t, http.StatusUnauthorized, g.do("GET", "/api/stocks/stock1/prices", "", token, "").Code, name)
	}
	// The same answer whether the user exists or not.
	a := g.do("POST", "/api/buy-stock", buy("nobody"), "", "")
	b := g.do("POST", "/api/buy-stock", buy("user1"), "", "")
	assert.Equal(t, a.Code, b.Code)

	rec := g.do("POST", "/api/buy-stock", buy("user2"), g.token, "")
	require.Equal(t, http.StatusForbidden, rec.Code, "user1's token buying for user2")
	assertProblem(t, rec, http.StatusForbidden)
	rec = g.do("POST", "/api/buy-stock", buy("nobody"), g.token, "")
	require.Equal(t, http.StatusForbidden, rec.Code, "a 403 too for a user that does not exist")

	for _, u := range []string{"user1", "user2"} {
		c, err := g.credits.Credit(t.Context(), u)
		require.NoError(t, err)
		assert.Equal(t, int64(10000), c, "refused calls change nothing")
	}

	rec = g.do("POST", "/api/buy-stock", buy("user1"), g.token, "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, http.StatusOK, g.do("GET", "/api/orders", "", g.token, "").Code)
	require.Equal(t, http.StatusOK, g.do("GET", "/healthz", "", "", "").Code, "operations need no token")
}

func TestRateLimitPerUserAndPerAddress(t *testing.T) {
	t.Parallel()
	g := newMemoryServer(t, true, 3)
	codes := func(token, addr string) []int {
		var out []int
		for range 5 {
			out = append(out, g.do("GET", "/api/stocks/stock1/prices", "", token, addr).Code)
		}
		return out
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes(g.token, "10.0.0.1:1000"))
	assert.Equal(t, []int{429, 429, 429, 429, 429}, codes(g.token, "10.0.0.2:1000"), "the user's budget, whatever the address")
	assert.Equal(t, []int{401, 401, 401, 429, 429}, codes("", "10.0.0.3:1000"), "guesses are limited per address")
	assert.Equal(t, []int{401, 401, 401, 429, 429}, codes("", "10.0.0.4:1000"))

	rec := g.do("GET", "/api/orders", "", g.token, "")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assertProblem(t, rec, http.StatusTooManyRequests)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))

	// A forged X-Forwarded-For does not buy a new budget.
	req := httptest.NewRequest("GET", "/api/stocks/stock1/prices", nil)
	req.RemoteAddr = "10.0.0.3:1000"
	req.Header.Set("X-Forwarded-For", "192.0.2.99")
	rec = httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
}
