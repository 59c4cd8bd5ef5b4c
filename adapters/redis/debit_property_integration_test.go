//go:build integration

package redis_test

import (
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// debitCase is one credit, price and quantity to judge.
type debitCase struct{ credit, price, qty int64 }

// debitCases mixes the values where doubles and int64 part ways: past
// 2^53, near 2^63-1, and products on either side of the overflow boundary.
func debitCases(r *rand.Rand, n int) []debitCase {
	const max = math.MaxInt64
	edge := func() int64 {
		switch r.IntN(6) {
		case 0:
			return 1 + r.Int64N(1000)
		case 1:
			return 1<<53 - 2 + r.Int64N(5) // around 2^53
		case 2:
			return max - r.Int64N(1000) // near 2^63-1
		default:
			return 1 + r.Int64N(max)>>r.IntN(63) // every magnitude
		}
	}
	cases := []debitCase{
		{max, 1, max}, {max, max, 1}, {max - 1, 1, max}, {max, 2, max/2 + 1}, {max, 1 << 32, 1 << 32},
		{max, 3, 3074457345618258602}, {max, 3, 3074457345618258603}, {1 << 53, 1 << 26, 1 << 27},
		{1<<53 + 1, 1, 1<<53 + 1}, {1<<53 + 1, 1, 1 << 53}, {0, 1, 1}, {9999999, 10000000, 1},
	}
	for len(cases) < n {
		c := debitCase{credit: edge() - 1, price: edge(), qty: edge()}
		if r.IntN(3) == 0 {
			// On the boundary: a credit of exactly the product, or one less.
			hi, lo := mulFits(c.price, c.qty)
			if hi {
				c.credit = lo - r.Int64N(2)
			}
		}
		cases = append(cases, c)
	}
	return cases
}

func mulFits(a, b int64) (bool, int64) {
	if a > math.MaxInt64/b {
		return false, 0
	}
	return true, a * b
}

// TestDebitScriptAgreesWithJudge: the debit script is a translation of
// domain.Judge; on thousands of random cases, on a real server, it accepts,
// denies and leaves credit exactly as Judge does. Concurrent calls are
// pipelined by rueidis.
func TestDebitScriptAgreesWithJudge(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	s := redis.NewCreditStore(c)
	cases := debitCases(rand.New(rand.NewPCG(81, 82)), 5000)
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, len(cases))
	for range 32 {
		wg.Go(func() {
			for i := range next {
				tc := cases[i]
				if tc.credit < 0 {
					tc.credit = 0
				}
				user := "u" + strconv.Itoa(i)
				if err := s.SetCredit(t.Context(), user, tc.credit); err != nil {
					errs <- err
					continue
				}
				b, err := domain.NewBuy(user, "stock1", tc.qty)
				if err != nil {
					errs <- err
					continue
				}
				o, err := b.AtPrice("k"+strconv.Itoa(i), tc.price, time.Now())
				if err != nil {
					errs <- err
					continue
				}
				res, err := s.Debit(t.Context(), ports.DebitRequest{Order: o})
				if err != nil {
					errs <- err
					continue
				}
				want := domain.Judge(tc.credit, tc.price, tc.qty)
				if res.Order.Status() != want.Status || res.Credit != want.CreditLeft {
					errs <- &mismatch{tc, res.Order.Status(), res.Credit, want}
					continue
				}
				stored, err := s.Credit(t.Context(), user)
				if err != nil {
					errs <- err
				} else if stored != want.CreditLeft {
					errs <- &mismatch{tc, res.Order.Status(), stored, want}
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
}

type mismatch struct {
	c      debitCase
	status domain.Status
	credit int64
	want   domain.Judgement
}

func (m *mismatch) Error() string {
	return "credit " + strconv.FormatInt(m.c.credit, 10) + ", price " + strconv.FormatInt(m.c.price, 10) +
		", quantity " + strconv.FormatInt(m.c.qty, 10) + ": script " + string(m.status) + " leaving " +
		strconv.FormatInt(m.credit, 10) + ", Judge " + string(m.want.Status) + " leaving " + strconv.FormatInt(m.want.CreditLeft, 10)
}
