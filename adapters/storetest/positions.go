package storetest

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// buyOf prices a buy of stock for the suites.
func buyOf(t *testing.T, user, stock string, price, qty int64) domain.BuyOrder {
	t.Helper()
	b, err := domain.NewBuy(user, stock, qty)
	require.NoError(t, err)
	o, err := b.AtPrice(uniqueKey("order"), price, time.Now())
	require.NoError(t, err)
	return o
}

// saleOf prices a sale of stock for the suites.
func saleOf(t *testing.T, user, stock string, price, qty int64) domain.SellOrder {
	t.Helper()
	s, err := domain.NewSell(user, stock, qty)
	require.NoError(t, err)
	o, err := s.AtPrice(uniqueKey("order"), price, time.Now())
	require.NoError(t, err)
	return o
}

// holding is a line of a portfolio, for the suites' expectations.
func holding(t *testing.T, stock string, quantity, costBasis int64) domain.Holding {
	t.Helper()
	p, err := domain.NewPosition(quantity, costBasis)
	require.NoError(t, err)
	return domain.Holding{Stock: stock, Position: p}
}

// Positions runs the contract of a credit store's positions: a buy adds
// to the position of its stock and a sale takes from it, in the same
// atomic step as the credit, by the domain's rules (domain.JudgeBuy,
// domain.JudgeSale), and Positions reads credit and positions together.
func Positions(t *testing.T, newStore func(t *testing.T) ports.CreditStore) {
	setup := func(t *testing.T, credit int64) (ports.CreditStore, string) {
		s := newStore(t)
		user := uniqueKey("user")
		require.NoError(t, s.SetCredit(t.Context(), user, credit))
		return s, user
	}
	buy := func(t *testing.T, s ports.CreditStore, o domain.BuyOrder) ports.Outcome {
		t.Helper()
		res, err := s.Debit(t.Context(), ports.DebitRequest{Order: o})
		require.NoError(t, err)
		return res
	}
	sell := func(t *testing.T, s ports.CreditStore, o domain.SellOrder) ports.Outcome {
		t.Helper()
		res, err := s.CreditSale(t.Context(), ports.SaleRequest{Order: o})
		require.NoError(t, err)
		return res
	}
	portfolio := func(t *testing.T, s ports.CreditStore, user string) ports.Portfolio {
		t.Helper()
		p, err := s.Positions(t.Context(), user)
		require.NoError(t, err)
		return p
	}
	pendingOf := func(t *testing.T, s ports.CreditStore, key string) *ports.PendingOrder {
		t.Helper()
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		return findPending(pending, key)
	}

	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		user := uniqueKey("user")
		_, err := s.Positions(t.Context(), user)
		require.ErrorIs(t, err, ports.ErrUserNotFound)
		o := saleOf(t, user, "stock1", 1, 1)
		_, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: o})
		require.ErrorIs(t, err, ports.ErrUserNotFound)
		assert.Nil(t, pendingOf(t, s, o.Key()))
	})

	t.Run("a user with no shares holds nothing", func(t *testing.T) {
		s, user := setup(t, 150)
		p := portfolio(t, s, user)
		assert.Equal(t, int64(150), p.Credit)
		assert.Empty(t, p.Holdings)
	})

	t.Run("buys add to the position of their stock, listed in name order", func(t *testing.T) {
		s, user := setup(t, 1000)
		buy(t, s, buyOf(t, user, "stock2", 100, 2))
		buy(t, s, buyOf(t, user, "stock1", 10, 3))
		res := buy(t, s, buyOf(t, user, "stock1", 20, 1))
		assert.Equal(t, int64(1000-200-30-20), res.Credit)
		denied := buyOf(t, user, "stock3", 1000, 1)
		assert.Equal(t, domain.Denied, buy(t, s, denied).Order.Status())
		p := portfolio(t, s, user)
		assert.Equal(t, int64(750), p.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 4, 50), holding(t, "stock2", 2, 200)}, p.Holdings,
			"a denied buy holds nothing")
	})

	t.Run("sales take shares and cost and credit the proceeds, with their pending order", func(t *testing.T) {
		s, user := setup(t, 100)
		buy(t, s, buyOf(t, user, "stock1", 4, 1))
		buy(t, s, buyOf(t, user, "stock1", 3, 2)) // 3 shares costing 10
		o := saleOf(t, user, "stock1", 7, 1)
		res := sell(t, s, o)
		assert.Equal(t, o.Judged(domain.Accepted), res.Order)
		assert.Equal(t, domain.SideSell, res.Order.Side())
		assert.Equal(t, int64(100-10+7), res.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 2, 7)}, portfolio(t, s, user).Holdings, "floor(10 × 1 / 3) taken")
		got := pendingOf(t, s, o.Key())
		require.NotNil(t, got, "the pending order is stored with its credit")
		assert.Equal(t, res.Order, got.Order)
		assert.Equal(t, domain.SideSell, got.Order.Side(), "the settler records a sale as a sale")
		assert.Equal(t, res.Credit, got.CreditLeft)

		last := saleOf(t, user, "stock1", 1, 2)
		res = sell(t, s, last)
		assert.Equal(t, domain.Accepted, res.Order.Status())
		p := portfolio(t, s, user)
		assert.Equal(t, int64(99), p.Credit)
		assert.Empty(t, p.Holdings, "the last share takes the whole cost basis, and a position sold out is not listed")
		assert.NotNil(t, pendingOf(t, s, last.Key()))

		require.NoError(t, s.SettlePending(t.Context(), user, o.Key(), last.Key()))
		assert.Nil(t, pendingOf(t, s, o.Key()))
		assert.Nil(t, pendingOf(t, s, last.Key()))
	})

	t.Run("a sale beyond what is held is denied and writes nothing", func(t *testing.T) {
		s, user := setup(t, 100)
		buy(t, s, buyOf(t, user, "stock1", 10, 3))
		for _, o := range []domain.SellOrder{
			saleOf(t, user, "stock1", 10, 4),
			saleOf(t, user, "stock2", 10, 1),                        // never held
			saleOf(t, user, "stock1", math.MaxInt64, math.MaxInt64), // and the proceeds overflow
		} {
			res := sell(t, s, o)
			assert.Equal(t, o.Judged(domain.Denied), res.Order)
			assert.Equal(t, int64(70), res.Credit)
			assert.Nil(t, pendingOf(t, s, o.Key()), "a denied sale leaves no pending order")
		}
		p := portfolio(t, s, user)
		assert.Equal(t, int64(70), p.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 3, 30)}, p.Holdings)
	})

	t.Run("a sale whose proceeds take the credit past 2^63-1 is denied", func(t *testing.T) {
		s, user := setup(t, 100)
		buy(t, s, buyOf(t, user, "stock1", 1, 10))
		require.NoError(t, s.SetCredit(t.Context(), user, math.MaxInt64-5))
		o := saleOf(t, user, "stock1", 1, 6)
		res := sell(t, s, o)
		assert.Equal(t, domain.Denied, res.Order.Status())
		assert.Equal(t, int64(math.MaxInt64-5), res.Credit)
		res = sell(t, s, saleOf(t, user, "stock1", 1, 5))
		assert.Equal(t, domain.Accepted, res.Order.Status(), "to 2^63-1 exactly")
		assert.Equal(t, int64(math.MaxInt64), res.Credit)
		p := portfolio(t, s, user)
		assert.Equal(t, int64(math.MaxInt64), p.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 5, 5)}, p.Holdings)
	})

	t.Run("a buy that takes quantity or cost basis past 2^63-1 is denied", func(t *testing.T) {
		s, user := setup(t, math.MaxInt64)
		res := buy(t, s, buyOf(t, user, "stock1", 1, math.MaxInt64))
		assert.Equal(t, domain.Accepted, res.Order.Status())
		assert.Zero(t, res.Credit)
		res = buy(t, s, buyOf(t, user, "stock2", 1, 1))
		assert.Equal(t, domain.Denied, res.Order.Status(), "no credit left")

		require.NoError(t, s.SetCredit(t.Context(), user, math.MaxInt64))
		res = buy(t, s, buyOf(t, user, "stock1", 1, 1))
		assert.Equal(t, domain.Denied, res.Order.Status(), "2^63 shares")
		assert.Equal(t, int64(math.MaxInt64), res.Credit)
		res = buy(t, s, buyOf(t, user, "stock2", math.MaxInt64, 1))
		assert.Equal(t, domain.Accepted, res.Order.Status(), "another stock is another position")
		require.NoError(t, s.SetCredit(t.Context(), user, math.MaxInt64))
		denied := buyOf(t, user, "stock2", 1, 1)
		res = buy(t, s, denied)
		assert.Equal(t, domain.Denied, res.Order.Status(), "a cost basis of 2^63")
		assert.Equal(t, int64(math.MaxInt64), res.Credit)
		assert.Nil(t, pendingOf(t, s, denied.Key()))

		p := portfolio(t, s, user)
		assert.Equal(t, int64(math.MaxInt64), p.Credit)
		assert.Equal(t, []domain.Holding{
			holding(t, "stock1", math.MaxInt64, math.MaxInt64),
			holding(t, "stock2", 1, math.MaxInt64),
		}, p.Holdings)
	})

	t.Run("positions are exact past 2^53", func(t *testing.T) {
		s, user := setup(t, math.MaxInt64)
		buy(t, s, buyOf(t, user, "stock1", 3, 1<<53+1)) // 2^53+1 shares costing 27021597764222979
		buy(t, s, buyOf(t, user, "stock1", 5, 2))
		sell(t, s, saleOf(t, user, "stock1", 1, 1<<52))
		p := portfolio(t, s, user)
		assert.Equal(t, int64(math.MaxInt64-27021597764222979-10+1<<52), p.Credit)
		// floor(27021597764222989 × 2^52 / (2^53+3)) = 13510798882111489
		// taken (in doubles: ...488).
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 1<<52+3, 13510798882111500)}, p.Holdings)
	})

	t.Run("seeding the credit keeps the positions", func(t *testing.T) {
		s, user := setup(t, 100)
		buy(t, s, buyOf(t, user, "stock1", 10, 2))
		require.NoError(t, s.SetCredit(t.Context(), user, 5))
		p := portfolio(t, s, user)
		assert.Equal(t, int64(5), p.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 2, 20)}, p.Holdings)
	})

	t.Run("50 concurrent sales of 10 shares", func(t *testing.T) {
		s, user := setup(t, 10*1054)
		buy(t, s, buyOf(t, user, "stock1", 1054, 10))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var keys []string
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				o := saleOf(t, user, "stock1", 1124, 1)
				res, err := s.CreditSale(t.Context(), ports.SaleRequest{Order: o})
				if err != nil {
					errs <- err
					return
				}
				if res.Order.Status() == domain.Accepted {
					mu.Lock()
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
		assert.Len(t, keys, 10, "exactly the shares held are sold")
		p := portfolio(t, s, user)
		assert.Equal(t, int64(10*1124), p.Credit)
		assert.Empty(t, p.Holdings)
		pending, err := s.PendingOrders(t.Context())
		require.NoError(t, err)
		for _, k := range keys {
			assert.NotNil(t, findPending(pending, k), "every accepted sale has its pending order")
		}
	})

	t.Run("concurrent buys and sales of one user lose no update", func(t *testing.T) {
		// 50 shares at 7 and credit for everything: each of 50 sales
		// finds a share (at most 50 are sold) and each of 50 buys of
		// stock1 and 20 of stock2 finds credit, whatever the order, so
		// all are accepted and the books are known. Every share costs 7,
		// so floor(cost × 1 / Q) is exactly 7 and the cost basis stays
		// 7 × quantity in any order.
		s, user := setup(t, 1000+350)
		buy(t, s, buyOf(t, user, "stock1", 7, 50))
		var wg sync.WaitGroup
		errs := make(chan error, 120)
		judged := func(res ports.Outcome, err error) {
			if err == nil && res.Order.Status() != domain.Accepted {
				err = assert.AnError
			}
			if err != nil {
				errs <- err
			}
		}
		for i := range 120 {
			wg.Go(func() {
				switch {
				case i%12 < 5:
					judged(s.Debit(t.Context(), ports.DebitRequest{Order: buyOf(t, user, "stock1", 7, 1)}))
				case i%12 < 10:
					judged(s.CreditSale(t.Context(), ports.SaleRequest{Order: saleOf(t, user, "stock1", 7, 1)}))
				default:
					judged(s.Debit(t.Context(), ports.DebitRequest{Order: buyOf(t, user, "stock2", 1, 1)}))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "every trade is accepted")
		}
		p := portfolio(t, s, user)
		assert.Equal(t, int64(1000-20), p.Credit)
		assert.Equal(t, []domain.Holding{holding(t, "stock1", 50, 350), holding(t, "stock2", 20, 20)}, p.Holdings)
	})
}
