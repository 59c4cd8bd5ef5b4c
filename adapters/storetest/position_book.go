package storetest

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// PositionBook runs the contract of what reconciliation reads and writes
// of a credit store (ports.PositionLister, ports.PositionSetter): every
// user's positions listed, one user's read, and a compare-and-set that
// replaces a user's positions only while they are what was read. The
// store may hold other tests' users: the suite looks at its own.
func PositionBook(t *testing.T, newStore func(t *testing.T) ports.CreditStore) {
	newUser := func(t *testing.T, s ports.CreditStore, credit int64) string {
		t.Helper()
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, credit))
		return user
	}
	setup := func(t *testing.T, credit int64) (ports.CreditStore, string) {
		s := newStore(t)
		return s, newUser(t, s, credit)
	}
	buy := func(t *testing.T, s ports.CreditStore, user, stock string, price, qty int64) domain.Order {
		t.Helper()
		res, err := s.Debit(t.Context(), ports.DebitRequest{Order: buyOf(t, user, stock, price, qty)})
		require.NoError(t, err)
		require.Equal(t, domain.Accepted, res.Order.Status())
		return res.Order
	}
	listed := func(t *testing.T, s ports.CreditStore, users ...string) map[string][]domain.Holding {
		t.Helper()
		mine := map[string]bool{}
		for _, u := range users {
			mine[u] = true
		}
		out := map[string][]domain.Holding{}
		require.NoError(t, s.AllPositions(t.Context(), func(user string, holdings []domain.Holding) error {
			_, twice := out[user]
			assert.False(t, twice, "%s listed twice", user)
			assert.NotEmpty(t, holdings, "%s listed with nothing held", user)
			if mine[user] {
				out[user] = holdings
			}
			return nil
		}))
		return out
	}
	positionsOf := func(t *testing.T, s ports.CreditStore, user string) []domain.Holding {
		t.Helper()
		hs, err := s.PositionsOf(t.Context(), user)
		require.NoError(t, err)
		return hs
	}

	t.Run("every user who holds shares is listed once, positions in stock order", func(t *testing.T) {
		s, holder := setup(t, 1000)
		buy(t, s, holder, "stock2", 100, 2)
		buy(t, s, holder, "stock1", 10, 3)
		buy(t, s, holder, "stock1", 20, 1)
		soldOut := newUser(t, s, 1000)
		buy(t, s, soldOut, "stock1", 10, 2)
		res, err := s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOf(t, soldOut, "stock1", 10, 2)})
		require.NoError(t, err)
		require.Equal(t, domain.Accepted, res.Order.Status())
		idle := newUser(t, s, 1000)
		recordless := uniqueKey("user") // positions with no user record
		require.NoError(t, s.SetPositions(t.Context(), recordless, nil, []domain.Holding{holding(t, "stock3", 5, 0)}))

		want := []domain.Holding{holding(t, "stock1", 4, 50), holding(t, "stock2", 2, 200)}
		assert.Equal(t, map[string][]domain.Holding{
			holder:     want,
			recordless: {holding(t, "stock3", 5, 0)},
		}, listed(t, s, holder, soldOut, idle, recordless), "a user sold out or who never bought is not listed")
		assert.Equal(t, want, positionsOf(t, s, holder))
		assert.Empty(t, positionsOf(t, s, soldOut))
		assert.Empty(t, positionsOf(t, s, idle))
		assert.Empty(t, positionsOf(t, s, uniqueKey("user")), "an unknown user holds nothing, and that is no error")
		assert.Equal(t, []domain.Holding{holding(t, "stock3", 5, 0)}, positionsOf(t, s, recordless))
	})

	t.Run("an error of each stops the listing and is returned", func(t *testing.T) {
		s, user := setup(t, 1000)
		buy(t, s, user, "stock1", 1, 1)
		calls := 0
		err := s.AllPositions(t.Context(), func(string, []domain.Holding) error {
			calls++
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		assert.Equal(t, 1, calls)
	})

	t.Run("set replaces the positions read, and only them", func(t *testing.T) {
		s, user := setup(t, 1000)
		o := buy(t, s, user, "stock1", 10, 3)
		buy(t, s, user, "stock2", 5, 2)
		was := positionsOf(t, s, user)
		require.NoError(t, s.SetPositions(t.Context(), user, was, []domain.Holding{
			holding(t, "stock3", 7, 700),
			holding(t, "stock1", 2, 21),
			holding(t, "stock2", 0, 0), // empty: not stored
		}))
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 2, 21), holding(t, "stock3", 7, 700)}, positionsOf(t, s, user))
		p, err := s.Positions(t.Context(), user)
		require.NoError(t, err)
		assert.Equal(t, int64(1000-30-10), p.Credit, "the credit is left as it is")
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		assert.NotNil(t, findPending(pending, o.Key()), "and so are the pending orders")

		require.NoError(t, s.SetPositions(t.Context(), user, positionsOf(t, s, user), nil))
		assert.Empty(t, positionsOf(t, s, user))
		assert.Empty(t, listed(t, s, user), "a user set to nothing is not listed")
	})

	t.Run("set refuses positions that are no longer what was read", func(t *testing.T) {
		s, user := setup(t, 1000)
		buy(t, s, user, "stock1", 10, 3)
		was := positionsOf(t, s, user)
		buy(t, s, user, "stock1", 10, 1) // a trade comes between
		now := positionsOf(t, s, user)
		for name, stale := range map[string][]domain.Holding{
			"a position changed":        was,
			"a position not read":       nil,
			"a position no longer held": append(now[:len(now):len(now)], holding(t, "stock2", 1, 1)),
		} {
			err := s.SetPositions(t.Context(), user, stale, []domain.Holding{holding(t, "stock1", 1, 1)})
			require.ErrorIs(t, err, ports.ErrPositionsChanged, name)
			assert.Equal(t, []domain.Holding{holding(t, "stock1", 4, 40)}, positionsOf(t, s, user), "%s: nothing written", name)
		}
		other := uniqueKey("user")
		err := s.SetPositions(t.Context(), other, []domain.Holding{holding(t, "stock1", 1, 1)}, nil)
		require.ErrorIs(t, err, ports.ErrPositionsChanged, "a user who holds nothing holds nothing read")
	})

	t.Run("trades build on the positions set, exactly past 2^53", func(t *testing.T) {
		s, user := setup(t, 0)
		require.NoError(t, s.SetPositions(t.Context(), user, nil, []domain.Holding{
			holding(t, "stock1", 1<<53+1, math.MaxInt64),
		}))
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 1<<53+1, math.MaxInt64)}, positionsOf(t, s, user))
		res, err := s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOf(t, user, "stock1", 1, 1<<52)})
		require.NoError(t, err)
		require.Equal(t, domain.Accepted, res.Order.Status())
		// The cost taken is floor(cost × 2^52 / (2^53+1)), as the domain
		// computes it: no double could.
		after, ok := holding(t, "stock1", 1<<53+1, math.MaxInt64).Position.Sold(1 << 52)
		require.True(t, ok)
		assert.Equal(t, []domain.Holding{{Stock: "stock1", Position: after}}, positionsOf(t, s, user))
	})

	t.Run("a market's positions are set in one step", func(t *testing.T) {
		s, user := setup(t, 0)
		var many []domain.Holding
		for i := range 1500 {
			many = append(many, holding(t, fmt.Sprintf("stock%04d", i), int64(i+1), int64(i)))
		}
		require.NoError(t, s.SetPositions(t.Context(), user, nil, many))
		assert.Equal(t, many, positionsOf(t, s, user))
		assert.Equal(t, map[string][]domain.Holding{user: many}, listed(t, s, user))
		require.NoError(t, s.SetPositions(t.Context(), user, many, many[:1]))
		assert.Equal(t, many[:1], positionsOf(t, s, user))
	})

	t.Run("20 concurrent sets from the same read: exactly one wins", func(t *testing.T) {
		s, user := setup(t, 1000)
		buy(t, s, user, "stock1", 10, 3)
		was := positionsOf(t, s, user)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := []int64{}
		errs := make(chan error, 20)
		for i := range int64(20) {
			wg.Go(func() {
				err := s.SetPositions(t.Context(), user, was, []domain.Holding{holding(t, "stock1", 100+i, 0)})
				switch {
				case err == nil:
					mu.Lock()
					won = append(won, 100+i)
					mu.Unlock()
				case !errors.Is(err, ports.ErrPositionsChanged):
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, won, 1)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", won[0], 0)}, positionsOf(t, s, user))
	})
}
