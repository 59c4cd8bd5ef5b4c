package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// Ledger runs the contract of ports.LedgerReader on an order repository:
// the accepted orders, everyone's or one user's, by user, stock, creation
// time and ID. newStore must return an empty repository.
func Ledger(t *testing.T, newStore func(t *testing.T) ports.OrderRepository) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	save := func(t *testing.T, r ports.OrderRepository, o domain.Order) domain.Order {
		t.Helper()
		saved, err := r.Save(t.Context(), o)
		require.NoError(t, err)
		return saved
	}
	sale := func(t *testing.T, o domain.Order) domain.Order {
		t.Helper()
		s, err := o.WithSide(domain.SideSell)
		require.NoError(t, err)
		return s
	}
	ledger := func(t *testing.T, r ports.OrderRepository, user string) []domain.Order {
		t.Helper()
		var out []domain.Order
		require.NoError(t, r.AcceptedOrders(t.Context(), user, func(o domain.Order) error {
			out = append(out, o)
			return nil
		}))
		return out
	}

	t.Run("accepted orders by user, stock, creation time and id", func(t *testing.T) {
		r := newStore(t)
		// Names ordered by bytes, as Go orders them: "B" before "a",
		// which a linguistic collation would put the other way round.
		upper, lower := "B"+uniqueKey("user"), "a"+uniqueKey("user")
		late := save(t, r, newOrder(lower, "stock1", domain.Accepted, 12, 1, at.Add(time.Minute)))
		tieFirst := save(t, r, newOrder(lower, "stock1", domain.Accepted, 10, 2, at))
		tieSecond := save(t, r, sale(t, newOrder(lower, "stock1", domain.Accepted, 11, 1, at)))
		save(t, r, newOrder(lower, "stock1", domain.Denied, 10, 50, at))
		other := save(t, r, newOrder(lower, "stock0", domain.Accepted, 9, 3, at.Add(time.Hour)))
		first := save(t, r, newOrder(upper, "stock2", domain.Accepted, 5, 5, at.Add(2*time.Hour)))
		save(t, r, sale(t, newOrder(upper, "stock2", domain.Denied, 5, 9, at)))

		assert.Equal(t, []domain.Order{first, other, tieFirst, tieSecond, late}, ledger(t, r, ""),
			"denied orders are not in the ledger; sales are, as sales")
		assert.Equal(t, []domain.Order{other, tieFirst, tieSecond, late}, ledger(t, r, lower))
		assert.Equal(t, []domain.Order{first}, ledger(t, r, upper))
		assert.Empty(t, ledger(t, r, uniqueKey("user")))
	})

	t.Run("an empty repository has an empty ledger", func(t *testing.T) {
		assert.Empty(t, ledger(t, newStore(t), ""))
	})

	t.Run("an error of each stops the reading and is returned", func(t *testing.T) {
		r := newStore(t)
		user := uniqueKey("user")
		for i := range 3 {
			save(t, r, newOrder(user, "stock1", domain.Accepted, 10, 1, at.Add(time.Duration(i)*time.Second)))
		}
		calls := 0
		err := r.AcceptedOrders(t.Context(), "", func(domain.Order) error {
			calls++
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		assert.Equal(t, 1, calls)
	})
}
