package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/adapters/storetest"
	"stockd/ports"
)

func TestPriceStoreContract(t *testing.T) {
	storetest.PriceStore(t, func(*testing.T) ports.PriceStore { return memory.NewPriceStore() })
}

func TestCreditStoreContract(t *testing.T) {
	storetest.CreditStore(t, func(*testing.T) ports.CreditStore { return memory.NewCreditStore() })
}

func TestOrderRepositoryContract(t *testing.T) {
	storetest.OrderRepository(t, func(*testing.T) ports.OrderRepository { return memory.NewOrderRepository() })
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
