package domain_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"stockd/domain"
)

func TestNewAccountRefusesNegativeCredit(t *testing.T) {
	t.Parallel()
	if _, err := domain.NewAccount(-1); !errors.Is(err, domain.ErrBadCredit) {
		t.Fatalf("NewAccount(-1) = %v, want ErrBadCredit", err)
	}
	a, err := domain.NewAccount(math.MaxInt64)
	if err != nil || a.Credit() != math.MaxInt64 {
		t.Fatalf("NewAccount(max) = %v, %v", a, err)
	}
}

func TestNewBuy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, stock string
		qty         int64
		want        error
	}{
		{"user1", "stock1", 1, nil},
		{"", "stock1", 1, domain.ErrBadUser},
		{"stockd:idem:x", "stock1", 1, domain.ErrBadUser},
		{"user1", "", 1, domain.ErrUnknownStock},
		{"user1", "stock1", 0, domain.ErrBadQuantity},
		{"user1", "stock1", -1, domain.ErrBadQuantity},
	}
	for _, tt := range tests {
		_, err := domain.NewBuy(tt.user, tt.stock, tt.qty)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("NewBuy(%q, %q, %d) = %v, want %v", tt.user, tt.stock, tt.qty, err, tt.want)
		}
	}
	b, err := domain.NewBuy("user1", "stock1", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		key   string
		price int64
		at    time.Time
	}{{"", 1, t0}, {"k", 0, t0}, {"k", -1, t0}, {"k", 1, time.Time{}}} {
		if _, err := b.AtPrice(bad.key, bad.price, bad.at); err == nil {
			t.Errorf("At(%q, %d, %v) accepted", bad.key, bad.price, bad.at)
		}
	}
	if _, err := (domain.Buy{}).AtPrice("k", 1, t0); !errors.Is(err, domain.ErrBadUser) {
		t.Errorf("the zero Buy priced: %v", err)
	}
}

// TestAccountBuyKeepsExactBooks: over runs of random buys, an account
// accepts exactly the orders its credit covers and takes exactly their
// cost, never going below zero. The oracle is math/big arithmetic on the
// account's own running balance, not Judge, which Buy itself calls.
func TestAccountBuyKeepsExactBooks(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var accepted, denied int
	for range 2000 {
		start := r.Int64N(math.MaxInt64) >> r.IntN(63)
		a, err := domain.NewAccount(start)
		if err != nil {
			t.Fatal(err)
		}
		balance := big.NewInt(start) // what the account must hold
		for range 10 {
			price := 1 + r.Int64N(math.MaxInt64)>>r.IntN(63)
			qty := 1 + r.Int64N(math.MaxInt64)>>r.IntN(63)
			b, err := domain.NewBuy("user1", "stock1", qty)
			if err != nil {
				t.Fatal(err)
			}
			o, err := b.AtPrice("k", price, t0)
			if err != nil {
				t.Fatal(err)
			}
			cost := new(big.Int).Mul(big.NewInt(price), big.NewInt(qty))
			covered := cost.Cmp(balance) <= 0
			before := a.Credit()
			got, j := a.Buy(o)
			wantStatus := domain.Denied
			if covered {
				wantStatus = domain.Accepted
				balance.Sub(balance, cost)
				accepted++
			} else {
				denied++
			}
			if got.Status() != wantStatus || j.Status != wantStatus || !balance.IsInt64() || a.Credit() != balance.Int64() || j.CreditLeft != a.Credit() {
				t.Fatalf("Buy(%d×%d) on %d: order %s, judgement %+v, credit %d; want %s leaving %s",
					price, qty, before, got.Status(), j, a.Credit(), wantStatus, balance)
			}
			if got.Key() != "k" || got.User() != "user1" || got.Stock() != "stock1" || got.Price() != price || got.Quantity() != qty || !got.CreatedAt().Equal(t0) {
				t.Fatalf("judged order lost a field: %+v", got)
			}
		}
	}
	// Both outcomes were exercised, each many times.
	if accepted < 1000 || denied < 1000 {
		t.Fatalf("%d accepted, %d denied: the draws miss a case", accepted, denied)
	}
}
