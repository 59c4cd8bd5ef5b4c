//go:build integration

package redis_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// tradeCase is a buy or a sale to judge against a credit and a position.
type tradeCase struct {
	sell              bool
	credit            int64
	heldQty, heldCost int64
	price, qty        int64
}

func (c tradeCase) String() string {
	side := "buy"
	if c.sell {
		side = "sale"
	}
	return fmt.Sprintf("%s of %d at %d, credit %d, holding %d costing %d", side, c.qty, c.price, c.credit, c.heldQty, c.heldCost)
}

// tradeCases mixes the values where doubles and int64 part ways (past
// 2^53, near 2^63-1), the 15-digit edge of the scripts' fast paths, and
// the boundaries of every denial: a cost one past the credit, a position
// one past 2^63-1 in quantity or cost basis, a sale one share beyond the
// holding, proceeds one past the credit's room.
func tradeCases(r *rand.Rand, n int) []tradeCase {
	const max = math.MaxInt64
	edge := func() int64 {
		switch r.IntN(7) {
		case 0:
			return 1 + r.Int64N(1000)
		case 1:
			return 1<<53 - 2 + r.Int64N(5) // around 2^53
		case 2:
			return max - r.Int64N(1000) // near 2^63-1
		case 3:
			return 999999999999990 + r.Int64N(20) // around 10^15
		default:
			return 1 + r.Int64N(max)>>r.IntN(63) // every magnitude
		}
	}
	cases := []tradeCase{
		{false, max, 0, 0, 1, max}, {false, max, max, max, 1, 1}, {false, max, 1, max - 1, 1, 1}, {false, max, 1, max - 1, 2, 1},
		{false, max, max - 1, 1, 1, 1}, {false, max, max - 1, 1, 1, 2},
		{true, 0, max, max, 1, max}, {true, max, 1, 1, 1, 1}, {true, max - 1, 1, 1, 1, 1}, {true, 0, 1 << 33, 1 << 33, 1 << 32, 1 << 32},
		{true, 0, max, max, max, max - 1}, {true, 0, 3, max, 1, 1}, {true, 0, 1<<53 + 3, 27021597764222989, 1, 1 << 52},
		{true, 0, 999999999999999, 999999999999999, 1, 999999999999998}, {true, 0, 1000000000000000, 999999999999999, 1, 1},
	}
	// Sales whose cost × quantity is odd, past 2^53 and one below a
	// multiple of the holding, so that a double would round it up to the
	// multiple and take one more from the cost basis than floor does:
	// cost = k × held + 1 and quantity = held - 1.
	for held := int64(100); held < 180; held += 2 { // held - 1 odd
		for k := (int64(1)<<53)/(held*(held-1)) + 1; ; k++ {
			cost := k*held + 1
			if n := cost * (held - 1); n%2 == 1 && (n+1)%4 == 0 {
				cases = append(cases, tradeCase{true, 0, held, cost, 1, held - 1})
				break
			}
		}
	}
	for len(cases) < n {
		c := tradeCase{sell: r.IntN(2) == 0, credit: edge() - 1, price: edge(), qty: edge()}
		if r.IntN(3) == 0 {
			c.price = 1 + r.Int64N(1000) // a price that leaves room
		}
		if r.IntN(4) > 0 {
			c.heldQty = edge()
			c.heldCost = edge() - 1
		}
		if c.sell && r.IntN(2) == 0 && c.heldQty > 0 {
			c.qty = c.heldQty - r.Int64N(2) // the whole holding, or one share less
			if c.qty == 0 {
				c.qty = 1
			}
		}
		if r.IntN(3) == 0 {
			// On a boundary: the cost or the proceeds exactly at (or one
			// past) the credit or its room, the position at its room.
			if fits, amount := mulFits(c.price, c.qty); fits {
				switch {
				case !c.sell:
					c.credit = amount - r.Int64N(2)
					if r.IntN(2) == 0 && amount <= max-1 {
						c.heldCost = max - amount + 1 - r.Int64N(2)
						c.heldQty = 1 + r.Int64N(c.heldCost)
					}
				default:
					c.credit = max - amount + r.Int64N(2) - 1
				}
			}
		}
		if r.IntN(6) == 0 {
			// Past the fast paths' edge: two operands of 16 digits
			// together, whose product can pass 2^53 (below 10^16).
			digits := 1 + r.IntN(15)
			a, b := ofDigits(r, digits), ofDigits(r, 16-digits)
			switch {
			case c.sell && r.IntN(2) == 0: // in cost × quantity
				c.heldCost, c.qty = a, b
				c.heldQty = b + 1 + r.Int64N(b)
				c.price = 1 + r.Int64N(3)
			case c.sell: // in the proceeds
				c.price, c.qty = a, b
				c.heldQty = b + r.Int64N(b)
			default: // in the cost
				c.price, c.qty = a, b
			}
		}
		if c.credit < 0 {
			c.credit = 0
		}
		if c.heldQty == 0 {
			c.heldCost = 0
		}
		cases = append(cases, c)
	}
	return cases
}

// ofDigits returns a random number of n decimal digits.
func ofDigits(r *rand.Rand, n int) int64 {
	lo := int64(1)
	for range n - 1 {
		lo *= 10
	}
	return lo + r.Int64N(9*lo)
}

// TestTradeScriptsAgreeWithTheDomain: the debit and sale scripts are
// translations of domain.JudgeBuy and domain.JudgeSale; on thousands of
// random cases, on a real server, each accepts and denies as the domain
// does and leaves credit and position exactly as it says. The position is
// written in the contract's layout (stockd:positions:{user}, stock ->
// "quantity:cost_basis") and read back through Positions. Concurrent
// calls are pipelined by rueidis.
func TestTradeScriptsAgreeWithTheDomain(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	cases := tradeCases(rand.New(rand.NewPCG(83, 84)), 8000)
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, len(cases))
	var mu sync.Mutex
	seen := map[string]int{}
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if err := runTradeCase(t, c, s, i, cases[i], &mu, seen); err != nil {
					errs <- fmt.Errorf("%v: %w", cases[i], err)
				}
			}
		})
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, outcome := range []string{"buy accepted", "buy denied", "sale accepted", "sale denied", "sold out"} {
		require.Greater(t, seen[outcome], 200, "%s: the draws miss a case (%v)", outcome, seen)
	}
}

func runTradeCase(t *testing.T, c rueidis.Client, s *redis.CreditStore, i int, tc tradeCase, mu *sync.Mutex, seen map[string]int) error {
	user := "t" + strconv.Itoa(i)
	held, err := domain.NewPosition(tc.heldQty, tc.heldCost)
	if err != nil {
		return err
	}
	if err := s.SetCredit(t.Context(), user, tc.credit); err != nil {
		return err
	}
	if !held.Empty() {
		value := strconv.FormatInt(tc.heldQty, 10) + ":" + strconv.FormatInt(tc.heldCost, 10)
		if err := c.Do(t.Context(), c.B().Hset().Key("stockd:positions:{"+user+"}").FieldValue().FieldValue("stock1", value).Build()).Error(); err != nil {
			return err
		}
	}
	var res ports.Outcome
	var want domain.TradeJudgement
	side := "buy"
	if tc.sell {
		side = "sale"
		sale, err := domain.NewSell(user, "stock1", tc.qty)
		if err != nil {
			return err
		}
		o, err := sale.AtPrice("k"+strconv.Itoa(i), tc.price, time.Now())
		if err != nil {
			return err
		}
		if res, err = s.CreditSale(t.Context(), ports.SaleRequest{Order: o}); err != nil {
			return err
		}
		want = domain.JudgeSale(tc.credit, held, tc.price, tc.qty)
	} else {
		b, err := domain.NewBuy(user, "stock1", tc.qty)
		if err != nil {
			return err
		}
		o, err := b.AtPrice("k"+strconv.Itoa(i), tc.price, time.Now())
		if err != nil {
			return err
		}
		if res, err = s.Debit(t.Context(), ports.DebitRequest{Order: o}); err != nil {
			return err
		}
		want = domain.JudgeBuy(tc.credit, held, tc.price, tc.qty)
	}
	if res.Order.Status() != want.Status || res.Credit != want.CreditLeft {
		return fmt.Errorf("script %s leaving %d, domain %s leaving %d", res.Order.Status(), res.Credit, want.Status, want.CreditLeft)
	}
	p, err := s.Positions(t.Context(), user)
	if err != nil {
		return err
	}
	var got domain.Position
	if len(p.Holdings) == 1 && p.Holdings[0].Stock == "stock1" {
		got = p.Holdings[0].Position
	} else if len(p.Holdings) != 0 {
		return fmt.Errorf("holdings %+v", p.Holdings)
	}
	if p.Credit != want.CreditLeft || got != want.Position {
		return fmt.Errorf("stored credit %d and position %+v, domain %d and %+v", p.Credit, got, want.CreditLeft, want.Position)
	}
	mu.Lock()
	seen[side+" "+string(want.Status)]++
	if tc.sell && want.Status == domain.Accepted && want.Position.Empty() {
		seen["sold out"]++
	}
	mu.Unlock()
	return nil
}
