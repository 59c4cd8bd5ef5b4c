package http_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokensGuardTheAPI(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens())
	buy := func(user string) string { return `{"user":"` + user + `","stockname":"stock1","quantity":1}` }

	for name, token := range map[string]string{"missing": "", "unknown": "not-a-token"} {
		rec := g.doAs(token, "", "POST", "/api/buy-stock", buy("user1"))
		require.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assertProblem(t, rec, http.StatusUnauthorized, "unauthenticated")
		assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
		require.Equal(t, http.StatusUnauthorized, g.doAs(token, "", "GET", "/api/orders", "").Code, name)
		require.Equal(t, http.StatusUnauthorized, g.doAs(token, "", "GET", "/api/stocks/stock1/prices", "").Code, name)
		require.Equal(t, http.StatusUnauthorized, g.doAs(token, "", "GET", "/api/users/user1", "").Code, name)
	}
	// The same answer whether the user exists or not.
	a := g.doAs("", "", "POST", "/api/buy-stock", buy("nobody"))
	b := g.doAs("", "", "POST", "/api/buy-stock", buy("user1"))
	assert.Equal(t, a.Code, b.Code)
	assert.Equal(t, decode[map[string]any](t, a)["detail"], decode[map[string]any](t, b)["detail"])

	rec := g.doAs(g.token, "", "POST", "/api/buy-stock", buy("user2"))
	require.Equal(t, http.StatusForbidden, rec.Code, "user1's token buying for user2")
	assertProblem(t, rec, http.StatusForbidden, "forbidden")
	rec = g.doAs(g.token, "", "POST", "/api/buy-stock", buy("nobody"))
	require.Equal(t, http.StatusForbidden, rec.Code, "a 403 too for a user that does not exist")

	g.assertUnchanged(t) // refused calls change nothing

	rec = g.doAs(g.token, "", "POST", "/api/buy-stock", buy("user1"))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Equal(t, http.StatusOK, g.doAs(g.token, "", "GET", "/api/orders", "").Code)
	require.Equal(t, http.StatusOK, g.doAs("", "", "GET", "/healthz", "").Code, "operations need no token")
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens())
	for _, tt := range []struct {
		header string
		status int
	}{
		{"Bearer " + g.token, 200},
		{"bearer " + g.token, 200},
		{"BEARER " + g.token, 200},
		{"Bearer   " + g.token + " ", 200},
		{g.token, 401},
		{"Basic " + g.token, 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Bearer" + g.token, 401},
		{"Token " + g.token, 401},
	} {
		req := httptest.NewRequest("GET", "/api/orders", nil)
		req.Header.Set("Authorization", tt.header)
		rec := g.send(req)
		assert.Equal(t, tt.status, rec.Code, "%q", tt.header)
	}
}

func TestTokensSeeTheirOwnUserOnly(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens())
	require.Equal(t, http.StatusCreated, g.doAs(g.token, "", "POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":10}`).Code)
	require.Equal(t, http.StatusCreated, g.doAs(g.token2, "", "POST", "/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":10}`).Code)

	assert.Equal(t, []string{"user1"}, listedUsers(t, g.doAs(g.token, "", "GET", "/api/orders", "")))
	assert.Equal(t, []string{"user2"}, listedUsers(t, g.doAs(g.token2, "", "GET", "/api/orders", "")))
	assert.Equal(t, []string{"user1"}, listedUsers(t, g.doAs(g.token, "", "GET", "/api/orders?user=user1", "")))
	rec := g.doAs(g.token, "", "GET", "/api/orders?user=user2", "")
	require.Equal(t, http.StatusForbidden, rec.Code, "another user's orders")
	assertProblem(t, rec, http.StatusForbidden, "forbidden")

	rec = g.doAs(g.token, "", "GET", "/api/users/user1", "")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"user":"user1","credit":8900}`, rec.Body.String())
	for _, other := range []string{"user2", "nobody", "stock1"} {
		rec := g.doAs(g.token, "", "GET", "/api/users/"+other, "")
		require.Equal(t, http.StatusForbidden, rec.Code, "%s: whether it exists or not", other)
		assertProblem(t, rec, http.StatusForbidden, "forbidden")
	}
}

func TestRateLimitPerUserAndPerAddress(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens(), withRateLimit(3))
	codes := func(token, addr string) []int {
		var out []int
		for range 5 {
			out = append(out, g.doAs(token, addr, "GET", "/api/stocks/stock1/prices", "").Code)
		}
		return out
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, codes(g.token, "10.0.0.1:1000"))
	assert.Equal(t, []int{429, 429, 429, 429, 429}, codes(g.token, "10.0.0.2:1000"), "the user's budget, whatever the address")
	assert.Equal(t, []int{401, 401, 401, 429, 429}, codes("", "10.0.0.3:1000"), "guesses are limited per address")
	assert.Equal(t, []int{401, 401, 401, 429, 429}, codes("", "10.0.0.4:1000"))

	rec := g.doAs(g.token, "", "GET", "/api/orders", "")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assertProblem(t, rec, http.StatusTooManyRequests, "rate-limited")
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))

	// A forged X-Forwarded-For does not buy a new budget.
	req := httptest.NewRequest("GET", "/api/stocks/stock1/prices", nil)
	req.RemoteAddr = "10.0.0.3:1000"
	req.Header.Set("X-Forwarded-For", "192.0.2.99")
	rec = httptest.NewRecorder()
	g.handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
}

// The limiter comes before the token store: a flood of bad tokens costs
// the store no more lookups than the address's budget, and a valid token
// is looked up once, then answered from memory.
func TestGuardSparesTheTokenStore(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens(), withRateLimit(3))
	for range 50 {
		g.doAs("forged-token", "10.0.0.9:1000", "GET", "/api/orders", "")
	}
	assert.Equal(t, int64(3), g.tokens.lookups.Load(), "only the address's budget reached the store")

	g.tokens.lookups.Store(0)
	for range 3 {
		require.Equal(t, http.StatusOK, g.doAs(g.token, "10.0.0.8:1000", "GET", "/api/orders", "").Code)
	}
	assert.Equal(t, int64(1), g.tokens.lookups.Load(), "a valid token is remembered")

	g.tokens.lookups.Store(0)
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, g.doAs("another-forged-token", "10.0.0.7:1000", "GET", "/api/orders", "").Code)
	}
	assert.Equal(t, int64(2), g.tokens.lookups.Load(), "a bad token is not remembered")

	g.tokens.lookups.Store(0)
	for _, header := range []string{"", g.token, "Basic x"} {
		req := httptest.NewRequest("GET", "/api/orders", nil)
		req.Header.Set("Authorization", header)
		req.RemoteAddr = "10.0.0.6:1000"
		require.Equal(t, http.StatusUnauthorized, g.send(req).Code)
	}
	assert.Equal(t, int64(0), g.tokens.lookups.Load(), "no scheme, no lookup")
}
