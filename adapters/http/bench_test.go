package http_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkBuyStock is one buy through the whole handler (every
// middleware, the use case, the memory stores) without a network: what the
// HTTP layer, the JSON and the domain cost a buy in-process. Its
// allocations are exact; `make loadtest` measures the same over TCP.
func BenchmarkBuyStock(b *testing.B) {
	f := newFixture(b)
	f.setCredit(b, "user1", math.MaxInt64/2)
	body := `{"user":"user1","stockname":"stock1","quantity":1}`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("buy: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkOrdersPage is one page of 100 orders through the whole
// handler on the memory order repository.
func BenchmarkOrdersPage(b *testing.B) {
	f := newFixture(b)
	f.setCredit(b, "user1", math.MaxInt64/2)
	for i := range 300 {
		req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", strings.NewReader(`{"user":"user1","stockname":"stock1","quantity":`+strconv.Itoa(1+i%20)+`}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("buy: %d %s", rec.Code, rec.Body)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/orders?limit=100", nil))
		if rec.Code != http.StatusOK || rec.Body.Len() < 100*100 {
			b.Fatalf("page: %d, %d bytes", rec.Code, rec.Body.Len())
		}
	}
}
