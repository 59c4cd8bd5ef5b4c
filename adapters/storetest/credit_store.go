package storetest

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// buyOrder prices a buy of user for the suites.
func buyOrder(t *testing.T, user string, price, qty int64) domain.BuyOrder {
	t.Helper()
	return buyOf(t, user, "stock1", price, qty)
}

// CreditStore runs the contract of ports.CreditStore.
func CreditStore(t *testing.T, newStore func(t *testing.T) ports.CreditStore) {
	debit := func(t *testing.T, s ports.CreditStore, o domain.BuyOrder) (ports.Outcome, error) {
		return s.Debit(t.Context(), ports.DebitRequest{Order: o})
	}

	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		_, err := s.Credit(t.Context(), user)
		require.ErrorIs(t, err, ports.ErrUserNotFound)
		_, err = debit(t, s, buyOrder(t, user, 1, 1))
		require.ErrorIs(t, err, ports.ErrUserNotFound)
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		for _, p := range pending {
			assert.NotEqual(t, user, p.Order.User(), "nothing is written for an unknown user")
		}
	})

	t.Run("set, read, overwrite", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 150000000))
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(150000000), c)
		require.NoError(t, s.SetCredit(t.Context(), user, 9223372036854775807))
		c, err = s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(9223372036854775807), c, "credit is exact up to int64")
		require.ErrorIs(t, s.SetCredit(t.Context(), user, -1), domain.ErrBadCredit)
	})

	t.Run("debit stores credit and pending order together", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		o := buyOrder(t, user, 30, 1)
		res, err := debit(t, s, o)
		require.NoError(t, err)
		assert.Equal(t, o.Judged(domain.Accepted), res.Order)
		assert.Equal(t, int64(70), res.Credit)
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(70), c)

		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		got := findPending(pending, o.Key())
		require.NotNil(t, got, "the pending order is stored with its debit")
		assert.Equal(t, res.Order, got.Order)
		assert.Equal(t, int64(70), got.CreditLeft)
		assert.Empty(t, got.IdempotencyKey)

		require.NoError(t, s.SettlePending(t.Context(), user, o.Key()))
		require.NoError(t, s.SettlePending(t.Context(), user, o.Key()), "settling twice is fine")
		pending, err = s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, o.Key()))
	})

	t.Run("settling is batched per user and leaves the others", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		var keys []string
		for range 3 {
			o := buyOrder(t, user, 10, 1)
			_, err := debit(t, s, o)
			require.NoError(t, err)
			keys = append(keys, o.Key())
		}
		require.NoError(t, s.SettlePending(t.Context(), user, keys[0], keys[2], "no-such-order"))
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, keys[0]))
		assert.NotNil(t, findPending(pending, keys[1]))
		assert.Nil(t, findPending(pending, keys[2]))
	})

	t.Run("a denied order writes nothing", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		for _, o := range []domain.BuyOrder{
			buyOrder(t, user, 101, 1),
			buyOrder(t, user, math.MaxInt64, 2), // the product overflows int64
			buyOrder(t, user, 1<<32, 1<<32),     // ... and would wrap to 0
		} {
			res, err := debit(t, s, o)
			require.NoError(t, err)
			assert.Equal(t, o.Judged(domain.Denied), res.Order)
			assert.Equal(t, int64(100), res.Credit)
			pending, err := s.PendingOrders(t.Context())
			require.NoError(t, err)
			assert.Nil(t, findPending(pending, o.Key()))
		}
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(100), c)
	})

	t.Run("debits are exact past 2^53 and up to int64", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, math.MaxInt64))
		res, err := debit(t, s, buyOrder(t, user, 3, 1<<53+1)) // 27021597764222979, odd past 2^53
		require.NoError(t, err)
		assert.Equal(t, domain.Accepted, res.Order.Status())
		assert.Equal(t, int64(math.MaxInt64-3*(1<<53+1)), res.Credit)
		res, err = debit(t, s, buyOrder(t, user, 1, math.MaxInt64-3*(1<<53+1)))
		require.NoError(t, err)
		assert.Equal(t, domain.Accepted, res.Order.Status(), "the whole credit, to the unit")
		assert.Zero(t, res.Credit)
	})

	t.Run("50 concurrent debits of a credit covering 10", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 10*1054))
		var wg sync.WaitGroup
		var mu sync.Mutex
		accepted, keys := 0, []string{}
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				o := buyOrder(t, user, 1054, 1)
				res, err := debit(t, s, o)
				if err != nil {
					errs <- err
					return
				}
				if res.Order.Status() == domain.Accepted {
					mu.Lock()
					accepted++
					keys = append(keys, o.Key())
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, 10, accepted)
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(0), c)
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		for _, k := range keys {
			assert.NotNil(t, findPending(pending, k), "every accepted debit has its pending order")
		}
	})
}

func findPending(ps []ports.PendingOrder, key string) *ports.PendingOrder {
	for _, p := range ps {
		if p.Order.Key() == key {
			return &p
		}
	}
	return nil
}
