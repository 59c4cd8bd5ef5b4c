package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

func TestGetOrder(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	orders := memory.NewOrderRepository()
	save := func(key, user string, status domain.Status, qty int64, at time.Time) domain.Order {
		t.Helper()
		o, err := domain.NewOrder(key, user, "stock1", status, 100, qty, at)
		require.NoError(t, err)
		saved, err := orders.Save(t.Context(), o)
		require.NoError(t, err)
		return saved
	}
	yesterday := now.Add(-24 * time.Hour)
	mine := save("k1", "user1", domain.Accepted, 1, yesterday)
	smallDenied := save("k2", "user1", domain.Denied, 5, now)
	oldDenied := save("k3", "user1", domain.Denied, 50, yesterday)
	theirs := save("k4", "user2", domain.Accepted, 1, now)

	get, err := app.NewGetOrder(orders, memory.NewManualClock(now), time.UTC)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		order   domain.Order
		viewer  string
		visible bool
	}{
		{"without tokens, any order", smallDenied, "", true},
		{"without tokens, another's", theirs, "", true},
		{"the viewer's accepted order", mine, "user1", true},
		{"another user's order", theirs, "user1", false},
		{"a denied order below 10 shares, as in the listing", smallDenied, "user1", false},
		{"a denied order of another day, as in the listing", oldDenied, "user1", false},
	} {
		got, err := get.Execute(t.Context(), app.GetOrderQuery{ID: tc.order.ID(), VisibleTo: tc.viewer})
		if tc.visible {
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.order, got, tc.name)
			continue
		}
		assert.ErrorIs(t, err, ports.ErrOrderNotFound, tc.name)
	}
	_, err = get.Execute(t.Context(), app.GetOrderQuery{ID: 999})
	assert.ErrorIs(t, err, ports.ErrOrderNotFound)
	_, err = app.NewGetOrder(nil, memory.NewManualClock(now), time.UTC)
	assert.Error(t, err)
}
