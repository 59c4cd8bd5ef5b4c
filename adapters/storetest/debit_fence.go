package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

// DebitFence runs the contract of a credit store and an idempotency store
// that live in one store (Redis): a debit with an idempotency key happens
// only while the key is reserved for its order, and Free never frees a key
// whose order was debited. Together they make sure that a key the settler
// freed is never paid twice.
func DebitFence(t *testing.T, newStores func(t *testing.T) (ports.CreditStore, ports.IdempotencyStore)) {
	const ttl = time.Hour
	setup := func(t *testing.T) (ports.CreditStore, ports.IdempotencyStore, string) {
		credits, keys := newStores(t)
		user := uniqueKey("user")
		require.NoError(t, credits.SetCredit(t.Context(), user, 100))
		return credits, keys, user
	}

	t.Run("a reserved key debits and its pending order carries the key", func(t *testing.T) {
		credits, keys, user := setup(t)
		o := buyOrder(t, user, 30, 1)
		r := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: o.Key(), ReservedAt: time.Now()}
		_, err := keys.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		res, err := credits.Debit(t.Context(), ports.DebitRequest{Order: o, IdempotencyKey: r.Key, Fingerprint: "fp"})
		require.NoError(t, err)
		assert.Equal(t, int64(70), res.Credit)
		pending, err := credits.PendingOrders(t.Context())
		require.NoError(t, err)
		got := findPending(pending, o.Key())
		require.NotNil(t, got)
		assert.Equal(t, r.Key, got.IdempotencyKey)
		assert.Equal(t, "fp", got.Fingerprint)

		freed, err := keys.Free(t.Context(), r)
		require.NoError(t, err)
		assert.False(t, freed, "a key whose order is pending was paid: never freed")
		_, err = keys.Reserve(t.Context(), r, ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight)
	})

	t.Run("a key not reserved for the order rolls the debit back", func(t *testing.T) {
		credits, keys, user := setup(t)
		o := buyOrder(t, user, 30, 1)
		other := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: "another-order", ReservedAt: time.Now()}
		_, err := keys.Reserve(t.Context(), other, ttl)
		require.NoError(t, err)
		for _, key := range []string{other.Key, uniqueKey("never-reserved")} {
			_, err = credits.Debit(t.Context(), ports.DebitRequest{Order: o, IdempotencyKey: key, Fingerprint: "fp"})
			require.ErrorIs(t, err, ports.ErrKeyInFlight)
		}

		// The settler freed the key before the debit ran.
		r := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: o.Key(), ReservedAt: time.Now()}
		_, err = keys.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		freed, err := keys.Free(t.Context(), r)
		require.NoError(t, err)
		require.True(t, freed)
		_, err = credits.Debit(t.Context(), ports.DebitRequest{Order: o, IdempotencyKey: r.Key, Fingerprint: "fp"})
		require.ErrorIs(t, err, ports.ErrKeyInFlight)

		c, err := credits.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(100), c, "nothing was debited")
		pending, err := credits.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, o.Key()))
	})
}
