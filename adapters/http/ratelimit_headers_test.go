package http_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

// Answers under a rate limit say where the client stands (RateLimit-*, the
// IETF draft's names); the fixture's clock stands still, so the budget
// only shrinks.
func TestRateLimitHeaders(t *testing.T) {
	t.Parallel()
	headers := func(rec interface{ Header() http.Header }) []string {
		h := rec.Header()
		return []string{h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset")}
	}
	t.Run("per user", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, withTokens(), withRateLimit(3))
		for _, want := range [][]string{{"3", "2", "1"}, {"3", "1", "1"}, {"3", "0", "1"}} {
			rec := g.doAs(g.token, "", "GET", "/api/stocks/stock1/prices", "")
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, want, headers(rec))
		}
		rec := g.doAs(g.token, "", "POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`)
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		assert.Equal(t, []string{"3", "0", "1"}, headers(rec))
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	})
	t.Run("per address without tokens", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, withRateLimit(2))
		rec := g.doAs("", "10.0.0.1:1000", "GET", "/api/stocks/stock1/prices", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, []string{"2", "1", "1"}, headers(rec))
	})
	t.Run("none without a limit", func(t *testing.T) {
		t.Parallel()
		g := newFixture(t, withTokens())
		rec := g.doAs(g.token, "", "GET", "/api/stocks/stock1/prices", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, []string{"", "", ""}, headers(rec))
	})
}

// brokenLimiter is a limiter whose store is down.
type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string) (ports.RateDecision, error) {
	return ports.RateDecision{}, errors.New("limiter store down")
}

// A limiter that cannot be asked lets requests through (the limit guards
// the service; it must not take it down) and says so in the log.
func TestRateLimiterDownLetsRequestsThrough(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens(), withUserLimiter(brokenLimiter{}))
	for range 3 {
		rec := g.doAs(g.token, "", "GET", "/api/stocks/stock1/prices", "")
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Header().Get("RateLimit-Limit"))
	}
	assert.Contains(t, g.logs.String(), "rate limiter unavailable")
}
