package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// IdempotencyStore runs the contract of ports.IdempotencyStore.
func IdempotencyStore(t *testing.T, newStore func(t *testing.T) ports.IdempotencyStore) {
	const ttl = time.Hour
	t.Run("reserve, in flight, complete, replay", func(t *testing.T) {
		s := newStore(t)
		key := uniqueKey("idem")
		out, err := s.Reserve(t.Context(), key, "fp1", ttl)
		require.NoError(t, err)
		require.Nil(t, out)

		_, err = s.Reserve(t.Context(), key, "fp1", ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight)
		_, err = s.Reserve(t.Context(), key, "fp2", ttl)
		require.ErrorIs(t, err, ports.ErrKeyReused)

		o, err := domain.OrderFromStore(42, "k1", "user2", "stock1", domain.Accepted, 1054, 100, time.Date(2026, 11, 26, 9, 0, 0, 123456000, time.UTC))
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), key, "fp1", ports.Outcome{Order: o, Credit: 77}, ttl))

		out, err = s.Reserve(t.Context(), key, "fp1", ttl)
		require.NoError(t, err)
		require.NotNil(t, out)
		assert.Equal(t, o, out.Order)
		assert.Equal(t, int64(77), out.Credit)
		_, err = s.Reserve(t.Context(), key, "fp2", ttl)
		require.ErrorIs(t, err, ports.ErrKeyReused)
	})

	t.Run("release frees the key", func(t *testing.T) {
		s := newStore(t)
		key := uniqueKey("idem")
		_, err := s.Reserve(t.Context(), key, "fp1", ttl)
		require.NoError(t, err)
		require.NoError(t, s.Release(t.Context(), key))
		out, err := s.Reserve(t.Context(), key, "fp2", ttl)
		require.NoError(t, err)
		assert.Nil(t, out)
	})

	t.Run("one of many concurrent reservations wins", func(t *testing.T) {
		s := newStore(t)
		key := uniqueKey("idem")
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				out, err := s.Reserve(t.Context(), key, "fp", ttl)
				if err == nil && out == nil {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), won.Load())
	})
}
