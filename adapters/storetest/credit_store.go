package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// CreditStore runs the contract of ports.CreditStore.
func CreditStore(t *testing.T, newStore func(t *testing.T) ports.CreditStore) {
	debit := func(cost int64, pending *ports.PendingOrder) func(int64) (ports.CreditChange, error) {
		return func(credit int64) (ports.CreditChange, error) {
			if credit < cost {
				return ports.CreditChange{Credit: credit}, nil
			}
			return ports.CreditChange{Credit: credit - cost, Pending: pending}, nil
		}
	}
	pendingFor := func(user string, cost int64) *ports.PendingOrder {
		o := newOrder(user, "stock1", domain.Accepted, cost, 1, time.Now())
		return &ports.PendingOrder{Order: o, CreditLeft: 0, IdempotencyKey: "idem-" + o.Key(), Fingerprint: "fp"}
	}

	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		_, err := s.Credit(t.Context(), user)
		require.ErrorIs(t, err, ports.ErrUserNotFound)
		_, err = s.UpdateCredit(t.Context(), user, debit(1, nil))
		require.ErrorIs(t, err, ports.ErrUserNotFound)
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
		require.Error(t, s.SetCredit(t.Context(), user, -1))
	})

	t.Run("debit stores credit and pending order together", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		p := pendingFor(user, 30)
		change, err := s.UpdateCredit(t.Context(), user, debit(30, p))
		require.NoError(t, err)
		assert.Equal(t, int64(70), change.Credit)
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(70), c)

		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		got := findPending(pending, p.Order.Key())
		require.NotNil(t, got, "the pending order is stored with its debit")
		assert.Equal(t, p.Order, got.Order)
		assert.Equal(t, p.IdempotencyKey, got.IdempotencyKey)
		assert.Equal(t, p.Fingerprint, got.Fingerprint)

		require.NoError(t, s.SettlePending(t.Context(), p.Order.Key()))
		require.NoError(t, s.SettlePending(t.Context(), p.Order.Key()), "settling twice is fine")
		pending, err = s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, p.Order.Key()))
	})

	t.Run("an error in decide writes nothing", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, 100))
		boom := errors.New("boom")
		p := pendingFor(user, 10)
		_, err := s.UpdateCredit(t.Context(), user, func(int64) (ports.CreditChange, error) {
			return ports.CreditChange{Credit: 0, Pending: p}, boom
		})
		require.ErrorIs(t, err, boom)
		c, err := s.Credit(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(100), c)
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.Nil(t, findPending(pending, p.Order.Key()))
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
				p := pendingFor(user, 1054)
				change, err := s.UpdateCredit(t.Context(), user, debit(1054, p))
				if err != nil {
					errs <- err
					return
				}
				if change.Pending != nil {
					mu.Lock()
					accepted++
					keys = append(keys, p.Order.Key())
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
