package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
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

// SaleFence runs the contract of DebitFence for sales: a sale with an
// idempotency key is credited only while the key is reserved for its
// order, and Free never frees a key whose sale was credited, so that a
// key the settler freed is never sold twice.
func SaleFence(t *testing.T, newStores func(t *testing.T) (ports.CreditStore, ports.IdempotencyStore)) {
	const ttl = time.Hour
	setup := func(t *testing.T) (ports.CreditStore, ports.IdempotencyStore, string) {
		credits, keys := newStores(t)
		user := uniqueKey("user")
		require.NoError(t, credits.SetCredit(t.Context(), user, 100))
		res, err := credits.Debit(t.Context(), ports.DebitRequest{Order: buyOf(t, user, "stock1", 10, 5)})
		require.NoError(t, err)
		require.Equal(t, int64(50), res.Credit, "5 shares held, 50 left")
		return credits, keys, user
	}
	held := func(t *testing.T, credits ports.CreditStore, user string) ports.Portfolio {
		t.Helper()
		p, err := credits.Positions(t.Context(), user)
		require.NoError(t, err)
		return p
	}

	t.Run("a reserved key sells and its pending order carries the key", func(t *testing.T) {
		credits, keys, user := setup(t)
		o := saleOf(t, user, "stock1", 12, 2)
		r := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: o.Key(), ReservedAt: time.Now()}
		_, err := keys.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		res, err := credits.CreditSale(t.Context(), ports.SaleRequest{Order: o, IdempotencyKey: r.Key, Fingerprint: "fp"})
		require.NoError(t, err)
		assert.Equal(t, domain.Accepted, res.Order.Status())
		assert.Equal(t, int64(74), res.Credit)
		pending, err := credits.PendingOrders(t.Context())
		require.NoError(t, err)
		got := findPending(pending, o.Key())
		require.NotNil(t, got)
		assert.Equal(t, r.Key, got.IdempotencyKey)
		assert.Equal(t, "fp", got.Fingerprint)
		assert.Equal(t, domain.SideSell, got.Order.Side())

		freed, err := keys.Free(t.Context(), r)
		require.NoError(t, err)
		assert.False(t, freed, "a key whose sale is pending was paid out: never freed")
		_, err = keys.Reserve(t.Context(), r, ttl)
		require.ErrorIs(t, err, ports.ErrKeyInFlight)

		// Completed with its outcome, the key replays the sale.
		require.NoError(t, keys.Complete(t.Context(), user, r.Key, "fp", res, ttl))
		replay, err := keys.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		require.NotNil(t, replay)
		assert.Equal(t, res, *replay, "the replay is the sale, side and all")
	})

	t.Run("a key not reserved for the sale writes nothing", func(t *testing.T) {
		credits, keys, user := setup(t)
		o := saleOf(t, user, "stock1", 12, 2)
		other := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: "another-order", ReservedAt: time.Now()}
		_, err := keys.Reserve(t.Context(), other, ttl)
		require.NoError(t, err)
		for _, key := range []string{other.Key, uniqueKey("never-reserved")} {
			_, err = credits.CreditSale(t.Context(), ports.SaleRequest{Order: o, IdempotencyKey: key, Fingerprint: "fp"})
			require.ErrorIs(t, err, ports.ErrKeyInFlight)
		}

		// The settler freed the key before the sale ran.
		r := ports.Reservation{User: user, Key: uniqueKey("idem"), Fingerprint: "fp", OrderKey: o.Key(), ReservedAt: time.Now()}
		_, err = keys.Reserve(t.Context(), r, ttl)
		require.NoError(t, err)
		freed, err := keys.Free(t.Context(), r)
		require.NoError(t, err)
		require.True(t, freed)
		_, err = credits.CreditSale(t.Context(), ports.SaleRequest{Order: o, IdempotencyKey: r.Key, Fingerprint: "fp"})
		require.ErrorIs(t, err, ports.ErrKeyInFlight)

		p := held(t, credits, user)
		assert.Equal(t, int64(50), p.Credit, "nothing was credited")
		require.Len(t, p.Holdings, 1)
		assert.Equal(t, int64(5), p.Holdings[0].Position.Quantity(), "no share was taken")
		pending, err := credits.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, o.Key()))
	})
}
