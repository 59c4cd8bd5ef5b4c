package http_test

import (
	"context"
	"fmt"
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
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

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
	f.tick(t, "stock1", 9*3600+300, 1054)
	f.setCredit(t, "user2", 150000)

	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"Stock1","quantity":100}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := decode[buyResponse](t, rec)
	assert.Equal(t, "Accept", got.Result)
	assert.Equal(t, int64(150000-105400), got.Credit)
	stored := f.stored()
	require.Len(t, stored, 1)
	assert.Equal(t, stored[0].ID(), got.Order.ID, "the id the repository gave")
	assert.Equal(t, "stock1", got.Order.Stock)
	assert.Equal(t, "accepted", got.Order.Status)
	assert.Equal(t, int64(1054), got.Order.Price)
	assert.Equal(t, "2026-11-26T09:30:00Z", got.Order.CreationDate)
	assert.Equal(t, int64(150000-105400), f.credit(t, "user2"))
	pending, err := f.credits.PendingOrders(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending, "the recorded order is settled")
}

func TestBuyStockDenies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tick(t, "stock1", 9*3600+300, 1054)
	f.setCredit(t, "user2", 105399)

	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":100}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	got := decode[buyResponse](t, rec)
	assert.Equal(t, "Deny", got.Result)
	assert.Equal(t, "denied", got.Order.Status)
	assert.Equal(t, int64(105399), got.Credit)
	assert.Equal(t, int64(105399), f.credit(t, "user2"))
	assert.Len(t, f.stored(), 1, "a denied order is recorded too")
}

func TestBuyStockRejectsBadBodies(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("u", 100_000)
	tests := []struct {
		name   string
		body   string
		status int
		kind   string
	}{
		{"empty", ``, 400, "bad-body"},
		{"not json", `user=user2`, 400, "bad-body"},
		{"array", `[1,2]`, 400, "bad-body"},
		{"string", `"x"`, 400, "bad-body"},
		{"null", `null`, 400, "bad-body"},
		{"missing user", `{"stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"missing stockname", `{"user":"user2","quantity":1}`, 400, "bad-body"},
		{"missing quantity", `{"user":"user2","stockname":"stock1"}`, 400, "bad-body"},
		{"null quantity", `{"user":"user2","stockname":"stock1","quantity":null}`, 400, "bad-body"},
		{"unknown field", `{"user":"user2","stockname":"stock1","quantity":1,"price":1}`, 400, "bad-body"},
		{"trailing object", `{"user":"user2","stockname":"stock1","quantity":1}{}`, 400, "bad-body"},
		{"trailing garbage", `{"user":"user2","stockname":"stock1","quantity":1} x`, 400, "bad-body"},
		{"trailing comma", `{"user":"user2","stockname":"stock1","quantity":1,}`, 400, "bad-body"},
		{"quantity string", `{"user":"user2","stockname":"stock1","quantity":"1"}`, 400, "bad-body"},
		{"quantity fraction", `{"user":"user2","stockname":"stock1","quantity":1.5}`, 400, "bad-body"},
		{"quantity exponent", `{"user":"user2","stockname":"stock1","quantity":1e2}`, 400, "bad-body"},
		{"quantity beyond int64", `{"user":"user2","stockname":"stock1","quantity":9223372036854775808}`, 400, "bad-body"},
		{"user number", `{"user":2,"stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"user object", `{"user":{"user":"user2"},"stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"deep array", `{"user":` + strings.Repeat("[", 100_000), 400, "bad-body"},
		{"truncated", `{"user":"user2"`, 400, "bad-body"},
		{"duplicated user (a form's smuggling)", `{"user":"a=","user":"user2","stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"duplicated stockname", `{"user":"user2","stockname":"stock2","stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"duplicated quantity", `{"user":"user2","stockname":"stock1","quantity":1,"quantity":1}`, 400, "bad-body"},
		{"duplicated by escape", `{"user":"user2","\u0075ser":"user2","stockname":"stock1","quantity":1}`, 400, "bad-body"},
		{"quantity zero", `{"user":"user2","stockname":"stock1","quantity":0}`, 422, "bad-quantity"},
		{"quantity negative", `{"user":"user2","stockname":"stock1","quantity":-1}`, 422, "bad-quantity"},
		{"unknown stock", `{"user":"user2","stockname":"stock9","quantity":1}`, 422, "unknown-stock"},
		{"empty user", `{"user":"","stockname":"stock1","quantity":1}`, 422, "unknown-user"},
		{"too large", `{"user":"` + strings.Repeat("u", httpapi.MaxBodyBytes) + `","stockname":"stock1","quantity":1}`, 413, "body-too-large"},
		{"too large after object", `{"user":"user2","stockname":"stock1","quantity":1}` + strings.Repeat(" ", httpapi.MaxBodyBytes), 413, "body-too-large"},
		{"long unknown member", `{"` + long + `":1}`, 400, "bad-body"},
		{"long quantity", `{"user":"user2","stockname":"stock1","quantity":` + strings.Repeat("9", 100_000) + `}`, 400, "bad-body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rec := f.do(t, http.MethodPost, "/api/buy-stock", tt.body)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			assertProblem(t, rec, tt.status, tt.kind)
			assert.Less(t, rec.Body.Len(), 1024, "a problem repeats a bounded part of the input")
			f.assertUnchanged(t)
		})
	}
}

func TestBuyStockNeedsJSONContentType(t *testing.T) {
	t.Parallel()
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	for _, tt := range []struct {
		contentType string
		status      int
	}{
		{"", 415},
		{"text/plain", 415},
		{"text/plain; charset=utf-8", 415},
		{"application/x-www-form-urlencoded", 415},
		{"multipart/form-data; boundary=x", 415},
		{"application/jsonx", 415},
		{"application/problem+json", 415},
		{"application/json", 201},
		{"application/json; charset=utf-8", 201},
		{"Application/JSON; Charset=UTF-8", 201},
	} {
		t.Run(tt.contentType, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Content-Type", tt.contentType)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			if tt.status == 415 {
				assertProblem(t, rec, tt.status, "unsupported-media-type")
				f.assertUnchanged(t)
			}
		})
	}
	t.Run("the form of the hostile review", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"a=","user":"user1","stockname":"stock1","quantity":1}`, "Content-Type", "text/plain")
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
		f.assertUnchanged(t)
	})
}

func TestProblemsRepeatABoundedPartOfTheInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := strings.Repeat("n", 100_000)
	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"`+name+`","stockname":"stock1","quantity":1}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	assertProblem(t, rec, http.StatusUnprocessableEntity, "unknown-user")
	p := decode[map[string]any](t, rec)
	assert.Contains(t, p["detail"], `"`+strings.Repeat("n", 64)+`"`)
	assert.NotContains(t, p["detail"], strings.Repeat("n", 65))
	assert.Less(t, rec.Body.Len(), 512)

	rec = f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"nobody","stockname":"stock1","quantity":1}`)
	p = decode[map[string]any](t, rec)
	assert.Equal(t, `user "nobody" does not exist`, p["detail"], "no error chain")
	assert.NotContains(t, f.logs.String(), name, "nor is it logged whole")
}

func TestBuyStockStoreOutcomes(t *testing.T) {
	t.Parallel()
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	t.Run("no price yet", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"stock2","quantity":1}`)
		require.Equal(t, http.StatusConflict, rec.Code)
		assertProblem(t, rec, http.StatusConflict, "no-price")
		f.assertUnchanged(t)
	})
	t.Run("stale price", func(t *testing.T) {
		t.Parallel()
		// The latest tick, 09:02:30, is 27.5 minutes old at the fixture's 09:30.
		f := newFixture(t, withMaxPriceAge(15*time.Minute))
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
		assertProblem(t, rec, http.StatusConflict, "stale-price")
		assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		f.assertUnchanged(t)

		fresh := newFixture(t, withMaxPriceAge(30*time.Minute))
		assert.Equal(t, http.StatusCreated, fresh.do(t, http.MethodPost, "/api/buy-stock", body).Code, "a price younger than the limit is bought at")
	})
	t.Run("unknown user", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"nobody","stockname":"stock1","quantity":1}`)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assertProblem(t, rec, http.StatusUnprocessableEntity, "unknown-user")
		f.assertUnchanged(t)
	})
	t.Run("price store down", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.err.set(ports.ErrUnavailable)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assertProblem(t, rec, http.StatusServiceUnavailable, "store-unavailable")
		assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		f.assertUnchanged(t)
	})
	t.Run("credit store down", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.credits.err.set(ports.ErrUnavailable)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assertProblem(t, rec, http.StatusServiceUnavailable, "store-unavailable")
		f.credits.err.set(nil)
		f.assertUnchanged(t)
	})
	t.Run("order store down after accept keeps the order pending", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.orders.saveErr.set(ports.ErrUnavailable)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Contains(t, rec.Body.String(), "will be recorded")
		assertProblem(t, rec, http.StatusServiceUnavailable, "order-pending")
		// The debit is kept with its pending record, for the settler.
		pending, err := f.credits.PendingOrders(t.Context())
		require.NoError(t, err)
		require.Len(t, pending, 1, "an accepted order must be written with its debit")
		assert.Equal(t, int64(10000-110), f.credit(t, "user2"))
		assert.Empty(t, f.stored())
	})
	t.Run("unexpected error is a 500 without internals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.prices.err.set(io.ErrClosedPipe)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusInternalServerError, rec.Code)
		assert.NotContains(t, rec.Body.String(), "pipe")
		assertProblem(t, rec, http.StatusInternalServerError, "internal")
	})
}

func TestBuyStockIdempotencyKey(t *testing.T) {
	t.Parallel()
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	t.Run("first use records the outcome, a replay returns it and touches nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		first := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, first.Code, first.Body.String())
		want := decode[buyResponse](t, first)
		assert.Equal(t, int64(10000-110), want.Credit)

		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, rec.Code)
		got := decode[buyResponse](t, rec)
		assert.Equal(t, want.Order.ID, got.Order.ID)
		assert.Equal(t, want.Credit, got.Credit)
		assert.Equal(t, int64(10000-110), f.credit(t, "user2"), "one debit")
		assert.Len(t, f.stored(), 1, "one order")
	})
	t.Run("key reused with another body", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		require.Equal(t, http.StatusCreated, f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc").Code)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":2}`, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
		assertProblem(t, rec, http.StatusUnprocessableEntity, "idempotency-key-reused")
		assert.Len(t, f.stored(), 1)
	})
	t.Run("a failure before any change releases the key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		noPrice := `{"user":"user2","stockname":"stock2","quantity":1}`
		rec := f.do(t, http.MethodPost, "/api/buy-stock", noPrice, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusConflict, rec.Code)
		f.tick(t, "stock2", 9*3600, 5)
		rec = f.do(t, http.MethodPost, "/api/buy-stock", noPrice, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, rec.Code, "the key was free again: %s", rec.Body.String())
	})
	t.Run("a key whose debit may have happened is in flight", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.credits.err.set(ports.ErrOutcomeUnknown)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assertProblem(t, rec, http.StatusServiceUnavailable, "outcome-unknown")
		f.credits.err.set(nil)
		rec = f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusConflict, rec.Code)
		assertProblem(t, rec, http.StatusConflict, "idempotency-key-in-flight")
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
		assert.Contains(t, decode[map[string]any](t, rec)["detail"], "retry with the same key", "the client is told what to do")
	})
	t.Run("an overlong key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", strings.Repeat("k", 256))
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assertProblem(t, rec, http.StatusBadRequest, "bad-idempotency-key")
		f.assertUnchanged(t)
	})
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodOptions} {
		rec := f.do(t, m, "/api/buy-stock", "")
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, m)
		assertProblem(t, rec, http.StatusMethodNotAllowed, "method-not-allowed")
		assert.Equal(t, "POST", rec.Header().Get("Allow"), m)
	}
	rec := f.do(t, http.MethodPost, "/api/orders", "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), "HEAD is answered wherever GET is")
	for _, target := range []string{"/api/orders", "/api/users/user1", "/api/stocks/stock1/prices", "/healthz", "/metrics"} {
		rec := f.do(t, http.MethodOptions, target, "")
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, target)
		assert.NotEmpty(t, rec.Header().Get("Allow"), target)
		assert.NotContains(t, rec.Header().Get("Allow"), "OPTIONS", target)
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), target)
	}
	rec = f.do(t, http.MethodDelete, "/healthz", "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

func TestCORSForConfiguredOrigins(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withCORS("https://app.example"))
	preflight := func(origin string) *httptest.ResponseRecorder {
		return f.do(t, http.MethodOptions, "/api/buy-stock", "",
			"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, idempotency-key")
	}
	rec := preflight("https://app.example")
	require.Equal(t, http.StatusNoContent, rec.Code)
	assert.Equal(t, "https://app.example", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), "POST")
	assert.Contains(t, strings.ToLower(rec.Header().Get("Access-Control-Allow-Headers")), "idempotency-key")

	rec = preflight("https://evil.example")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "another origin is not allowed")

	rec = f.do(t, http.MethodGet, "/api/orders", "", "Origin", "https://app.example")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "https://app.example", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "X-Request-Id")

	rec = f.do(t, http.MethodPut, "/api/buy-stock", "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "OPTIONS, POST", rec.Header().Get("Allow"))
}

func TestListOrders(t *testing.T) {
	t.Parallel()
	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for q, kind := range map[string]string{
			"limit=0": "bad-limit", "limit=1001": "bad-limit", "limit=x": "bad-limit", "limit=-1": "bad-limit",
			"cursor=%%%": "bad-query", "cursor=abc": "bad-cursor", "cursor=e30": "bad-cursor",
		} {
			rec := f.do(t, http.MethodGet, "/api/orders?"+q, "")
			require.Equal(t, http.StatusBadRequest, rec.Code, q)
			assertProblem(t, rec, http.StatusBadRequest, kind)
		}
	})
	t.Run("pages carry the first page's instant", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		// Seven orders the rule hides (denied, small, yesterday) take ids
		// 1 to 7; the three listed are 8, 9 and 10, oldest first.
		for i := range 7 {
			o, err := domain.NewOrder("hidden"+string(rune('a'+i)), "u", "stock1", domain.Denied, 1, 1, now.Add(-24*time.Hour))
			require.NoError(t, err)
			_, err = f.orders.Save(t.Context(), o)
			require.NoError(t, err)
		}
		var orders []domain.Order // newest first
		for i := range int64(3) {
			o, err := domain.NewOrder("k"+string(rune('0'+i)), "u", "stock1", domain.Accepted, 1, 1, now.Add(-time.Duration(2-i)*time.Minute))
			require.NoError(t, err)
			o, err = f.orders.Save(t.Context(), o)
			require.NoError(t, err)
			orders = append([]domain.Order{o}, orders...)
		}
		require.Equal(t, int64(10), orders[0].ID())

		rec := f.do(t, http.MethodGet, "/api/orders?limit=2", "")
		require.Equal(t, http.StatusOK, rec.Code)
		q := f.orders.lastQuery(t)
		assert.Equal(t, 3, q.Limit(), "one more than asked, to know whether a page follows")
		_, hasAfter := q.After()
		assert.False(t, hasAfter)
		page := decode[struct {
			Results []struct{ ID int64 } `json:"results"`
			Next    *string              `json:"next"`
		}](t, rec)
		require.Len(t, page.Results, 2)
		require.NotNil(t, page.Next)

		rec = f.do(t, http.MethodGet, "/api/orders?limit=2&cursor="+*page.Next, "")
		require.Equal(t, http.StatusOK, rec.Code)
		q = f.orders.lastQuery(t)
		after, hasAfter := q.After()
		require.True(t, hasAfter)
		assert.Equal(t, orders[1].Position(), after)
		assert.Equal(t, domain.VisibleAt(now, time.UTC), q.Visibility())
		assert.JSONEq(t, `{"results":[{"id":8,"user":"u","stock":"stock1","side":"buy","status":"accepted","price":1,"quantity":1,"creation_date":"2026-11-26T09:28:00Z"}],"next":null}`, rec.Body.String())
	})
	t.Run("empty list is an empty array", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodGet, "/api/orders", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"results":[],"next":null}`, rec.Body.String())
	})
	t.Run("a user parameter lists that user's orders", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for _, u := range []string{"user1", "user2", "user2"} {
			rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"`+u+`","stockname":"stock1","quantity":10}`)
			require.Equal(t, http.StatusCreated, rec.Code)
		}
		assert.Equal(t, []string{"user2", "user2"}, listedUsers(t, f.do(t, http.MethodGet, "/api/orders?user=user2", "")))
		assert.Equal(t, []string{"user1"}, listedUsers(t, f.do(t, http.MethodGet, "/api/orders?user=user1", "")))
		assert.Empty(t, listedUsers(t, f.do(t, http.MethodGet, "/api/orders?user=nobody", "")))
		assert.Len(t, listedUsers(t, f.do(t, http.MethodGet, "/api/orders", "")), 3)
	})
	t.Run("a cursor is good in every process with the key, and only there", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for range 2 {
			require.Equal(t, http.StatusCreated, f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`).Code)
		}
		page := decode[struct{ Next *string }](t, f.do(t, http.MethodGet, "/api/orders?limit=1", ""))
		require.NotNil(t, page.Next)
		next := "/api/orders?limit=1&cursor=" + *page.Next

		assert.Equal(t, http.StatusOK, newFixture(t).do(t, http.MethodGet, next, "").Code, "another process, the same key")
		rec := newFixture(t, withCursorKey([]byte("another key"))).do(t, http.MethodGet, next, "")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assertProblem(t, rec, http.StatusBadRequest, "bad-cursor")
		edited := []byte(*page.Next)
		edited[len(edited)/2] ^= 1
		rec = f.do(t, http.MethodGet, "/api/orders?limit=1&cursor="+string(edited), "")
		require.Equal(t, http.StatusBadRequest, rec.Code)
		assertProblem(t, rec, http.StatusBadRequest, "bad-cursor")
	})
	t.Run("an empty cursor is the first page", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		rec := f.do(t, http.MethodGet, "/api/orders?cursor=", "")
		require.Equal(t, http.StatusOK, rec.Code)
		_, hasAfter := f.orders.lastQuery(t).After()
		assert.False(t, hasAfter)
	})
}

func listedUsers(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var users []string
	for _, o := range decode[struct {
		Results []struct{ User string } `json:"results"`
	}](t, rec).Results {
		users = append(users, o.User)
	}
	return users
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/api/users/user2", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"user":"user2","credit":10000}`, rec.Body.String())

	for _, name := range []string{"nobody", "stock1", "a%20b", strings.Repeat("n", 10_000)} {
		rec := f.do(t, http.MethodGet, "/api/users/"+name, "")
		require.Equal(t, http.StatusNotFound, rec.Code, name)
		assertProblem(t, rec, http.StatusNotFound, "unknown-user")
		assert.Less(t, rec.Body.Len(), 512)
	}

	f.credits.err.set(ports.ErrUnavailable)
	rec = f.do(t, http.MethodGet, "/api/users/user2", "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assertProblem(t, rec, http.StatusServiceUnavailable, "store-unavailable")
}

func TestStockPrices(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tick(t, "stock3", 9*3600, 5)
	f.tick(t, "stock3", 9*3600+60, 6)
	rec := f.do(t, http.MethodGet, "/api/stocks/STOCK3/prices", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock":"stock3","date":"2026-11-26","time":["090000","090100"],"price":[5,6],"open":[5,6],"high":[5,6],"low":[5,6]}`, rec.Body.String())

	rec = f.do(t, http.MethodGet, "/api/stocks/stock2/prices", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"stock":"stock2","date":null,"time":[],"price":[],"open":[],"high":[],"low":[]}`, rec.Body.String())

	rec = f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	assertProblem(t, rec, http.StatusNotFound, "unknown-stock")
}

func TestOperations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/healthz", "").Code)
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/readyz", "").Code)
	for _, target := range []string{"/healthz", "/readyz"} {
		rec := f.do(t, http.MethodHead, target, "")
		assert.Equal(t, http.StatusOK, rec.Code, target)
		assert.Empty(t, rec.Body.String(), target)
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), target)
	}
	f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "")
	rec := f.do(t, http.MethodGet, "/metrics", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `stockd_http_request_duration_seconds_count{code="404",method="GET",route="/api/stocks/:stock/prices"} 1`)
	assert.Contains(t, rec.Body.String(), `stockd_orders_total{status="accepted"} 0`)
	assert.Contains(t, rec.Body.String(), `stockd_orders_total{status="denied"} 0`)
	assert.Contains(t, rec.Body.String(), `stockd_store_unavailable_total{route="/api/buy-stock"} 0`)
	assert.Contains(t, rec.Body.String(), `stockd_http_panics_total 0`)
	rec = f.do(t, http.MethodGet, "/nowhere", "")
	require.Equal(t, http.StatusNotFound, rec.Code)
	assertProblem(t, rec, http.StatusNotFound, "not-found")
}

func TestReadyzReportsTheFailingDependency(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	var logs testenv.LogBuffer
	// What a real check's error says: an address, a user, a database.
	detailed := fmt.Errorf("dial tcp 10.1.2.3:5432: user \"stockd_admin\" database \"stocks_prod\": %w", ports.ErrUnavailable)
	h := httpapi.NewHandler(httpapi.Deps{
		Registry: reg, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Checks: []httpapi.Check{
			{Name: "redis", Ping: func(context.Context) error { return nil }},
			{Name: "postgres", Ping: func(context.Context) error { return detailed }},
		},
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"status":"unavailable","checks":{"redis":"ok","postgres":"unavailable"}}`, rec.Body.String())
	for _, secret := range []string{"10.1.2.3", "5432", "stockd_admin", "stocks_prod", "dial"} {
		assert.NotContains(t, rec.Body.String(), secret, "the public answer names only the adapter")
	}
	assert.Contains(t, logs.String(), "stocks_prod", "the details go to the log")
	assert.Contains(t, logs.String(), `"check":"postgres"`)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Body.String())
}
