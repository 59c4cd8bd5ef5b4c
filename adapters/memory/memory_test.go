package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/adapters/storetest"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/ports"
)

func TestPriceStoreContract(t *testing.T) {
	storetest.PriceStore(t, func(*testing.T) ports.PriceStore { return memory.NewPriceStore() })
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	storetest.PriceStoreExpiry(t, tokyo, func(t *testing.T, keepDays int) ports.PriceStore {
		s, err := memory.NewPriceStoreKeeping(memory.Retention{Clock: memory.SystemClock{}, Zone: tokyo, KeepDays: keepDays})
		require.NoError(t, err)
		return s
	})
	storetest.PriceStoreUndated(t, func(*testing.T) ports.PriceStore { return memory.NewPriceStore() },
		func(t *testing.T, s ports.PriceStore, stock string, series domain.MinuteSeries) {
			require.NoError(t, s.(*memory.PriceStore).PutUndated(stock, series))
		})
}

// TestPriceStoreForgetsDaysByItsClock: an earlier day is served until the
// start of the day PRICE_HISTORY_DAYS + 1 after it, in the store's zone,
// by the store's clock; then it is neither listed nor served.
func TestPriceStoreForgetsDaysByItsClock(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	d1, d2 := domain.Day(20260302), domain.Day(20260303)
	clock := memory.NewManualClock(time.Date(2026, 3, 3, 9, 0, 0, 0, tokyo))
	s, err := memory.NewPriceStoreKeeping(memory.Retention{Clock: clock, Zone: tokyo, KeepDays: 2})
	require.NoError(t, err)
	b := domain.NewTickBatch()
	b.Add(domaintest.Tick("stock1", d1, 9*3600, 1))
	b.Add(domaintest.Tick("stock1", d2, 9*3600, 2))
	require.NoError(t, s.Merge(t.Context(), b.Histories()))

	expiry := d1.ExpiresAt(2, tokyo) // 2026-03-05 00:00 in Tokyo
	clock.Set(expiry.Add(-time.Nanosecond))
	days, err := s.Days(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Day{d1, d2}, days, "kept to the last instant of its second day after")

	clock.Set(expiry)
	days, err = s.Days(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Day{d2}, days)
	_, err = s.Series(t.Context(), "stock1", d1)
	require.ErrorIs(t, err, ports.ErrDayNotFound)

	// Read in UTC, the same instant is still 2026-03-04: the zone decides.
	utc, err := memory.NewPriceStoreKeeping(memory.Retention{Clock: clock, Zone: time.UTC, KeepDays: 2})
	require.NoError(t, err)
	require.NoError(t, utc.Merge(t.Context(), b.Histories()))
	days, err = utc.Days(t.Context(), "stock1")
	require.NoError(t, err)
	assert.Equal(t, []domain.Day{d1, d2}, days)

	clock.Advance(100 * 24 * time.Hour)
	q, ok, err := s.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	assert.True(t, ok, "the latest day never expires")
	assert.Equal(t, d2, q.Day)

	_, err = memory.NewPriceStoreKeeping(memory.Retention{Clock: clock, KeepDays: 0})
	require.Error(t, err, "PRICE_HISTORY_DAYS is at least 1")
}

func TestCreditStoreContract(t *testing.T) {
	storetest.CreditStore(t, func(*testing.T) ports.CreditStore { return memory.NewCreditStore() })
	storetest.Positions(t, func(*testing.T) ports.CreditStore { return memory.NewCreditStore() })
	storetest.PositionBook(t, func(*testing.T) ports.CreditStore { return memory.NewCreditStore() })
}

func TestOrderRepositoryContract(t *testing.T) {
	storetest.OrderRepository(t, func(*testing.T) ports.OrderRepository { return memory.NewOrderRepository() })
	storetest.Ledger(t, func(*testing.T) ports.OrderRepository { return memory.NewOrderRepository() })
}

func TestIdempotencyStoreContract(t *testing.T) {
	storetest.IdempotencyStore(t, func(*testing.T) ports.IdempotencyStore {
		return memory.NewIdempotencyStore(memory.SystemClock{})
	})
}

func TestTokenStoreContract(t *testing.T) {
	storetest.TokenStore(t, func(*testing.T) ports.TokenStore { return memory.NewTokenStore() })
}

func TestIdempotencyRecordsExpire(t *testing.T) {
	clock := memory.NewManualClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	s := memory.NewIdempotencyStore(clock)
	r := ports.Reservation{User: "u", Key: "k", Fingerprint: "fp", OrderKey: "o1", ReservedAt: clock.Now()}
	_, err := s.Reserve(t.Context(), r, time.Minute)
	require.NoError(t, err)
	r.Fingerprint = "other"
	_, err = s.Reserve(t.Context(), r, time.Minute)
	require.ErrorIs(t, err, ports.ErrKeyReused)
	stuck, err := s.InFlight(t.Context(), clock.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Len(t, stuck, 1)
	clock.Advance(time.Minute)
	stuck, err = s.InFlight(t.Context(), clock.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, stuck, "an expired reservation is not in flight")
	out, err := s.Reserve(t.Context(), r, time.Minute)
	require.NoError(t, err)
	assert.Nil(t, out)
}
