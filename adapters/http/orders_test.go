package http_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuyLocationLeadsToTheOrder: a 201 names the order's own resource,
// and GET on it returns the order of the body.
func TestBuyLocationLeadsToTheOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":3}`)
	require.Equal(t, http.StatusCreated, rec.Code)
	buy := decode[map[string]any](t, rec)
	order := buy["order"].(map[string]any)
	loc := rec.Header().Get("Location")
	assert.Regexp(t, `^/api/orders/[1-9][0-9]*$`, loc)
	assert.Equal(t, "/api/orders/"+jsonNumber(order["id"]), loc)

	got := f.do(t, http.MethodGet, loc, "")
	require.Equal(t, http.StatusOK, got.Code, got.Body.String())
	assert.Equal(t, order, decode[map[string]any](t, got), "the same order as in the 201")

	for _, target := range []string{"/api/orders/999", "/api/orders/0", "/api/orders/-1", "/api/orders/+1", "/api/orders/abc", "/api/orders/99999999999999999999"} {
		rec := f.do(t, http.MethodGet, target, "")
		require.Equal(t, http.StatusNotFound, rec.Code, target)
		assertProblem(t, rec, http.StatusNotFound, "unknown-order")
	}
}

func jsonNumber(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }

// TestGetOrderWithTokensFollowsTheListing: with tokens, another user's
// order is 404, and so is one of the user's own that the listing hides
// (a denied order below 10 shares); the user's visible orders are 200.
func TestGetOrderWithTokensFollowsTheListing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withTokens())
	buy := func(token, body string) string {
		t.Helper()
		rec := f.doAs(token, "", http.MethodPost, "/api/buy-stock", body)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		return rec.Header().Get("Location")
	}
	mine := buy(f.token, `{"user":"user1","stockname":"stock1","quantity":3}`)
	theirs := buy(f.token2, `{"user":"user2","stockname":"stock1","quantity":3}`)
	f.setCredit(t, "user1", 0)
	hidden := buy(f.token, `{"user":"user1","stockname":"stock1","quantity":5}`) // denied, below 10 shares

	assert.Equal(t, http.StatusOK, f.doAs(f.token, "", http.MethodGet, mine, "").Code)
	assert.Equal(t, http.StatusOK, f.doAs(f.token2, "", http.MethodGet, theirs, "").Code)
	for _, tc := range []struct{ token, target string }{{f.token, theirs}, {f.token2, mine}, {f.token, hidden}} {
		rec := f.doAs(tc.token, "", http.MethodGet, tc.target, "")
		require.Equal(t, http.StatusNotFound, rec.Code, tc.target)
		assertProblem(t, rec, http.StatusNotFound, "unknown-order")
	}
	assert.Equal(t, http.StatusUnauthorized, f.doAs("", "", http.MethodGet, mine, "").Code)
}

// TestListingSendsALinkToTheNextPage: every page but the last has an RFC
// 8288 Link with rel="next", which keeps limit and user and leads to the
// page the next cursor gives.
func TestListingSendsALinkToTheNextPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for range 5 {
		require.Equal(t, http.StatusCreated, f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`).Code)
	}
	link := regexp.MustCompile(`^<([^>]+)>; rel="next"$`)
	target, seen := "/api/orders?limit=2&user=user1", 0
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 3)
		rec := f.do(t, http.MethodGet, target, "")
		require.Equal(t, http.StatusOK, rec.Code)
		page := decode[ordersPage](t, rec)
		seen += len(page.Results)
		if page.Next == nil {
			assert.Empty(t, rec.Header().Get("Link"), "the last page links nowhere")
			break
		}
		m := link.FindStringSubmatch(rec.Header().Get("Link"))
		require.NotNil(t, m, rec.Header().Get("Link"))
		u, err := url.Parse(m[1])
		require.NoError(t, err)
		assert.Equal(t, "/api/orders", u.Path)
		assert.Equal(t, url.Values{"limit": {"2"}, "user": {"user1"}, "cursor": {*page.Next}}, u.Query())
		target = m[1]
	}
	assert.Equal(t, 5, seen)
}

type ordersPage struct {
	Results []map[string]any `json:"results"`
	Next    *string          `json:"next"`
}

// Pages are written in pooled buffers: pages of every size served at once
// must each get their own body, the same as when served alone. (Under
// -race, a buffer given back before its page was written is also a race.)
func TestConcurrentPagesEachGetTheirOwnBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for i := range 30 {
		user := []string{"user1", "user2"}[i%2]
		body := fmt.Sprintf(`{"user":%q,"stockname":"stock1","quantity":%d}`, user, 1+i%7)
		require.Equal(t, http.StatusCreated, f.do(t, http.MethodPost, "/api/buy-stock", body).Code)
	}
	targets := []string{"/api/orders", "/api/orders?limit=1", "/api/orders?limit=7&user=user2", "/api/orders?limit=30", "/api/orders?user=user1"}
	want := map[string]string{}
	for _, target := range targets {
		rec := f.do(t, http.MethodGet, target, "")
		require.Equal(t, http.StatusOK, rec.Code)
		want[target] = rec.Body.String()
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				target := targets[(g+i)%len(targets)]
				rec := f.do(t, http.MethodGet, target, "")
				assert.Equal(t, want[target], rec.Body.String(), target)
			}
		})
	}
	wg.Wait()
}
