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

// reservation returns a fresh reservation of a fresh key for user.
func reservation(user, fingerprint string, at time.Time) ports.Reservation {
	return ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: fingerprint, OrderKey: uniqueKey("order"), ReservedAt: at}
}

// IdempotencyStore runs the contract of ports.IdempotencyStore. The store's
// clock must be the system clock.
func IdempotencyStore(t *testing.T, newStore func(t *testing.T) ports.IdempotencyStore) {
	const ttl = time.Hour

	t.Run("reserve, in flight, complete, replay", func(t *testing.T) {
		s := newStore(t)
		r := reservation("user2", "fp1", time.Now())
		out, err := s.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		require.Nil(t, out)
		_, err = s.Reserve(t.Context(), r, ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight)
		other := r
		other.Fingerprint = "fp2"
		_, err = s.Reserve(t.Context(), other, ttl)
		require.ErrorIs(t, err, ports.ErrKeyReused)

		o, err := domain.OrderFromStore(42, r.OrderKey, "user2", "stock1", domain.Accepted, 1054, 100, time.Date(2026, 11, 26, 9, 0, 0, 123456000, time.UTC))
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), r.User, r.Key, "fp1", ports.Outcome{Order: o, Credit: 77}, ttl))
		out, err = s.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		require.NotNil(t, out)
		assert.Equal(t, o, out.Order)
		assert.Equal(t, int64(77), out.Credit)
		_, err = s.Reserve(t.Context(), other, ttl)
		require.ErrorIs(t, err, ports.ErrKeyReused)
	})

	t.Run("keys are scoped by user", func(t *testing.T) {
		s := newStore(t)
		r2 := reservation("user2", "fp-of-user2", time.Now())
		out, err := s.Reserve(t.Context(), r2, ttl)
		require.NoError(t, err)
		require.Nil(t, out)
		// user1 with the very same key: neither blocked nor told it exists.
		r1 := r2
		r1.User, r1.Fingerprint = "user1", "fp-of-user1"
		out, err = s.Reserve(t.Context(), r1, ttl)
		require.NoError(t, err)
		require.Nil(t, out, "user1's key is user1's own")

		o, err := domain.OrderFromStore(1, r2.OrderKey, "user2", "stock1", domain.Accepted, 1, 1, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), r2.User, r2.Key, r2.Fingerprint, ports.Outcome{Order: o, Credit: 5}, ttl))
		_, err = s.Reserve(t.Context(), r1, ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight, "user2's outcome is not user1's")
		require.NoError(t, s.Release(t.Context(), r1.User, r1.Key, r1.OrderKey))
		out, err = s.Reserve(t.Context(), r2, ttl)
		require.NoError(t, err)
		require.NotNil(t, out, "releasing user1's key leaves user2's")
	})

	t.Run("release frees the key", func(t *testing.T) {
		s := newStore(t)
		r := reservation("user1", "fp1", time.Now())
		_, err := s.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		require.NoError(t, s.Release(t.Context(), r.User, r.Key, r.OrderKey))
		r.Fingerprint = "fp2"
		out, err := s.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		assert.Nil(t, out)
	})

	t.Run("a late request never finishes a key reserved again by another", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		now := time.Now().Truncate(time.Millisecond)
		late := reservation(user, "fp", now.Add(-time.Minute))
		_, err := s.Reserve(t.Context(), late, ttl)
		require.NoError(t, err)
		freed, err := s.Free(t.Context(), late)
		require.NoError(t, err)
		require.True(t, freed, "the settler gave up on the late request")
		retry := late
		retry.OrderKey, retry.ReservedAt = uniqueKey("order"), now
		out, err := s.Reserve(t.Context(), retry, ttl)
		require.NoError(t, err)
		require.Nil(t, out)

		lateOrder, err := domain.OrderFromStore(1, late.OrderKey, user, "stock1", domain.Denied, 10, 100, now)
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), user, late.Key, "fp", ports.Outcome{Order: lateOrder, Credit: 1}, ttl))
		require.NoError(t, s.Release(t.Context(), user, late.Key, late.OrderKey))
		_, err = s.Reserve(t.Context(), retry, ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight, "the retry's reservation stands")
		stuck, err := s.InFlight(t.Context(), now.Add(time.Second))
		require.NoError(t, err)
		var mine []string
		for _, r := range stuck {
			if r.User == user {
				mine = append(mine, r.OrderKey)
			}
		}
		assert.Equal(t, []string{retry.OrderKey}, mine, "and is still indexed in flight")

		retryOrder, err := domain.OrderFromStore(2, retry.OrderKey, user, "stock1", domain.Accepted, 10, 1, now)
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), user, retry.Key, "fp", ports.Outcome{Order: retryOrder, Credit: 990}, ttl))
		require.NoError(t, s.Complete(t.Context(), user, late.Key, "fp", ports.Outcome{Order: lateOrder, Credit: 1}, ttl))
		require.NoError(t, s.Release(t.Context(), user, late.Key, retry.OrderKey))
		out, err = s.Reserve(t.Context(), late, ttl)
		require.NoError(t, err)
		require.NotNil(t, out, "a completed key is neither overwritten nor released")
		assert.Equal(t, retryOrder, out.Order)
		assert.Equal(t, int64(990), out.Credit)
	})

	t.Run("in flight lists old reservations, and free frees only its own", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		now := time.Now().Truncate(time.Millisecond)
		old := reservation(user, "fp", now.Add(-time.Minute))
		young := reservation(user, "fp", now)
		done := reservation(user, "fp", now.Add(-time.Minute))
		for _, r := range []ports.Reservation{old, young, done} {
			_, err := s.Reserve(t.Context(), r, ttl)
			require.NoError(t, err)
		}
		o, err := domain.OrderFromStore(1, done.OrderKey, user, "stock1", domain.Denied, 1, 1, now)
		require.NoError(t, err)
		require.NoError(t, s.Complete(t.Context(), user, done.Key, "fp", ports.Outcome{Order: o}, ttl))

		stuck, err := s.InFlight(t.Context(), now.Add(-time.Second))
		require.NoError(t, err)
		var mine []ports.Reservation
		for _, r := range stuck {
			if r.User == user {
				mine = append(mine, r)
			}
		}
		require.Len(t, mine, 1, "only the old one in flight")
		assert.Equal(t, old.Key, mine[0].Key)
		assert.Equal(t, old.OrderKey, mine[0].OrderKey)
		assert.Equal(t, old.Fingerprint, mine[0].Fingerprint)
		assert.True(t, old.ReservedAt.Equal(mine[0].ReservedAt), "%v != %v", old.ReservedAt, mine[0].ReservedAt)

		wrong := old
		wrong.OrderKey = "another-order"
		freed, err := s.Free(t.Context(), wrong)
		require.NoError(t, err)
		assert.False(t, freed, "a reservation of another order is left alone")
		freed, err = s.Free(t.Context(), done)
		require.NoError(t, err)
		assert.False(t, freed, "a completed key is never freed")
		_, err = s.Reserve(t.Context(), done, ttl)
		require.NoError(t, err, "it still answers with its outcome")

		freed, err = s.Free(t.Context(), old)
		require.NoError(t, err)
		assert.True(t, freed)
		again := old
		again.Fingerprint = "another-request"
		out, err := s.Reserve(t.Context(), again, ttl)
		require.NoError(t, err)
		assert.Nil(t, out, "a freed key can be used again")
	})

	t.Run("one of many concurrent reservations wins", func(t *testing.T) {
		s := newStore(t)
		r := reservation("user1", "fp", time.Now())
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				out, err := s.Reserve(t.Context(), r, ttl)
				if err == nil && out == nil {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), won.Load())
	})
}
