package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplaysAreNotCountedAsOrders is issue 17 item 3: each replay of an
// Idempotency-Key added to stockd_orders_total, so that the metric said 7
// while the table held 4 rows. Replays are counted apart.
func TestReplaysAreNotCountedAsOrders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := `{"user":"user2","stockname":"stock1","quantity":1}`
	for range 3 {
		rec := f.do(t, http.MethodPost, "/api/buy-stock", body, "Idempotency-Key", "abc")
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	rec := f.do(t, http.MethodPost, "/api/buy-stock", body)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Len(t, f.stored(), 2)

	metrics := f.do(t, http.MethodGet, "/metrics", "").Body.String()
	assert.Contains(t, metrics, `stockd_orders_total{status="accepted"} 2`, "as many as the table holds")
	assert.Contains(t, metrics, `stockd_orders_total{status="denied"} 0`)
	assert.Contains(t, metrics, "stockd_idempotent_replays_total 2")
}
