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
		var held domain.Position
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
			got, j := a.Buy(o, &held)
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
			if j.Position != held {
				t.Fatalf("judgement's position %+v, held %+v", j.Position, held)
			}
		}
	}
	// Both outcomes were exercised, each many times.
	if accepted < 1000 || denied < 1000 {
		t.Fatalf("%d accepted, %d denied: the draws miss a case", accepted, denied)
	}
}

func TestNewSell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, stock string
		qty         int64
		want        error
	}{
		{"user1", "stock1", 1, nil},
		{"", "stock1", 1, domain.ErrBadUser},
		{"stockd:positions:{x}", "stock1", 1, domain.ErrBadUser},
		{"user1", "", 1, domain.ErrUnknownStock},
		{"user1", "stock1", 0, domain.ErrBadQuantity},
		{"user1", "stock1", -1, domain.ErrBadQuantity},
	}
	for _, tt := range tests {
		_, err := domain.NewSell(tt.user, tt.stock, tt.qty)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("NewSell(%q, %q, %d) = %v, want %v", tt.user, tt.stock, tt.qty, err, tt.want)
		}
	}
	s, err := domain.NewSell("user1", "stock1", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		key   string
		price int64
		at    time.Time
	}{{"", 1, t0}, {"k", 0, t0}, {"k", -1, t0}, {"k", 1, time.Time{}}} {
		if _, err := s.AtPrice(bad.key, bad.price, bad.at); err == nil {
			t.Errorf("At(%q, %d, %v) accepted", bad.key, bad.price, bad.at)
		}
	}
	if _, err := (domain.Sell{}).AtPrice("k", 1, t0); !errors.Is(err, domain.ErrBadUser) {
		t.Errorf("the zero Sell priced: %v", err)
	}
	o, err := s.AtPrice("k", 1054, t0.Add(1234*time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	got := o.Judged(domain.Accepted)
	if got.Side() != domain.SideSell || got.Key() != "k" || got.User() != "user1" || got.Stock() != "stock1" ||
		got.Price() != 1054 || got.Quantity() != 3 || !got.CreatedAt().Equal(t0.Add(time.Microsecond)) || got.Status() != domain.Accepted {
		t.Errorf("judged sale = %+v", got)
	}
}

func TestJudgeBuy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		credit            int64
		heldQty, heldCost int64
		price, qty        int64
		want              domain.Status
		wantLeft          int64
		wantQty, wantCost int64
	}{
		{"covered", 1000, 0, 0, 10, 100, domain.Accepted, 0, 100, 1000},
		{"one short", 999, 5, 50, 10, 100, domain.Denied, 999, 5, 50},
		{"adds to the position", 150000000, 100, 105400, 1124, 50, domain.Accepted, 150000000 - 56200, 150, 161600},
		{"quantity to 2^63-1", maxInt, maxInt - 1, 0, 1, 1, domain.Accepted, maxInt - 1, maxInt, 1},
		{"quantity past 2^63-1 though covered", maxInt, maxInt, maxInt - 1, 1, 1, domain.Denied, maxInt, maxInt, maxInt - 1},
		{"cost basis to 2^63-1", maxInt, 1, maxInt - 7, 7, 1, domain.Accepted, maxInt - 7, 2, maxInt},
		{"cost basis past 2^63-1 though covered", maxInt, 1, maxInt - 7, 8, 1, domain.Denied, maxInt, 1, maxInt - 7},
		{"cost past int64", maxInt, 0, 0, 2, maxInt/2 + 1, domain.Denied, maxInt, 0, 0},
		{"zero quantity", 10, 0, 0, 1, 0, domain.Denied, 10, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := domain.JudgeBuy(tt.credit, mustPosition(t, tt.heldQty, tt.heldCost), tt.price, tt.qty)
			want := mustPosition(t, tt.wantQty, tt.wantCost)
			if j.Status != tt.want || j.CreditLeft != tt.wantLeft || j.Position != want {
				t.Fatalf("JudgeBuy = %+v, want %s leaving %d and %+v", j, tt.want, tt.wantLeft, want)
			}
			if j.Status == domain.Accepted && j.Amount != tt.price*tt.qty {
				t.Fatalf("amount %d, want %d", j.Amount, tt.price*tt.qty)
			}
		})
	}
}

func TestJudgeSale(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		credit            int64
		heldQty, heldCost int64
		price, qty        int64
		want              domain.Status
		wantLeft          int64
		wantQty, wantCost int64
	}{
		{"every share", 0, 100, 105400, 1124, 100, domain.Accepted, 112400, 0, 0},
		{"part, at a loss", 10, 3, 10, 1, 1, domain.Accepted, 11, 2, 7},
		{"one beyond what is held", 10, 3, 10, 1, 4, domain.Denied, 10, 3, 10},
		{"nothing held", 10, 0, 0, 1, 1, domain.Denied, 10, 0, 0},
		{"credit to 2^63-1 exactly", maxInt - 10, 5, 5, 2, 5, domain.Accepted, maxInt, 0, 0},
		{"credit one past 2^63-1", maxInt - 10, 11, 11, 1, 11, domain.Denied, maxInt - 10, 11, 11},
		{"credit past 2^63-1 from max", maxInt, 1, 1, 1, 1, domain.Denied, maxInt, 1, 1},
		{"proceeds past int64", 0, maxInt, maxInt, 2, maxInt/2 + 1, domain.Denied, 0, maxInt, maxInt},
		{"proceeds that wrap to 0", 0, 1 << 33, 1 << 33, 1 << 32, 1 << 32, domain.Denied, 0, 1 << 33, 1 << 33},
		{"proceeds of 2^63-1 on zero credit", 0, maxInt, 1, 1, maxInt, domain.Accepted, maxInt, 0, 0},
		{"zero quantity", 10, 3, 10, 1, 0, domain.Denied, 10, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := domain.JudgeSale(tt.credit, mustPosition(t, tt.heldQty, tt.heldCost), tt.price, tt.qty)
			want := mustPosition(t, tt.wantQty, tt.wantCost)
			if j.Status != tt.want || j.CreditLeft != tt.wantLeft || j.Position != want {
				t.Fatalf("JudgeSale = %+v, want %s leaving %d and %+v", j, tt.want, tt.wantLeft, want)
			}
			if j.Status == domain.Accepted && j.Amount != tt.price*tt.qty {
				t.Fatalf("amount %d, want %d", j.Amount, tt.price*tt.qty)
			}
		})
	}
}

// TestAccountTradesKeepExactBooks: over runs of random buys and sales of a
// few stocks by one user, the account and its positions agree with books
// kept in math/big: credit = start - accepted buys' cost + accepted sales'
// proceeds, within [0, 2^63-1]; each quantity = bought - sold >= 0, with
// the cost basis of the average-cost rule; a sale is accepted exactly when
// the shares are held and the credit has room, a buy exactly when the
// credit covers it and the position has room. Every kind of denial comes
// up, many times.
func TestAccountTradesKeepExactBooks(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	max := big.NewInt(maxInt)
	stocks := []string{"stock1", "stock2", "stock3"}
	type books struct{ bought, sold, qty, cost *big.Int }
	var counts [6]int // buys and sales accepted, buys denied by credit and by position, sales by holding and by credit
	magnitude := func() int64 { return 1 + r.Int64N(maxInt)>>r.IntN(63) }
	for run := range 2000 {
		start := r.Int64N(maxInt) >> r.IntN(63)
		if run%4 == 0 {
			start = maxInt - r.Int64N(1000)
		}
		a, err := domain.NewAccount(start)
		if err != nil {
			t.Fatal(err)
		}
		credit := big.NewInt(start)
		held := map[string]*domain.Position{}
		kept := map[string]books{}
		for _, s := range stocks {
			// Some runs start from a position near the limits (one kept
			// from earlier trades): a buy can then pass 2^63-1 in either
			// figure.
			var q, c int64
			if r.IntN(4) == 0 {
				q = maxInt - r.Int64N(1000)
				c = maxInt - r.Int64N(maxInt)>>r.IntN(63)
			}
			p := mustPosition(t, q, c)
			held[s] = &p
			kept[s] = books{big.NewInt(q), new(big.Int), big.NewInt(q), big.NewInt(c)}
		}
		for range 30 {
			stock := stocks[r.IntN(len(stocks))]
			k := kept[stock]
			price, qty := magnitude(), magnitude()
			if r.IntN(3) == 0 {
				price = 1 + r.Int64N(10)
			}
			amount := new(big.Int).Mul(big.NewInt(price), big.NewInt(qty))
			if r.IntN(2) == 0 {
				b, err := domain.NewBuy("user1", stock, qty)
				if err != nil {
					t.Fatal(err)
				}
				o, err := b.AtPrice("k", price, t0)
				if err != nil {
					t.Fatal(err)
				}
				covered := amount.Cmp(credit) <= 0
				room := new(big.Int).Add(k.qty, big.NewInt(qty)).Cmp(max) <= 0 && new(big.Int).Add(k.cost, amount).Cmp(max) <= 0
				got, j := a.Buy(o, held[stock])
				switch {
				case covered && room:
					counts[0]++
					credit.Sub(credit, amount)
					k.bought.Add(k.bought, big.NewInt(qty))
					k.qty.Add(k.qty, big.NewInt(qty))
					k.cost.Add(k.cost, amount)
				case !covered:
					counts[2]++
				default:
					counts[3]++
				}
				if want := status(covered && room); got.Status() != want || j.Status != want || got.Side() != domain.SideBuy {
					t.Fatalf("buy %d×%d of %s: %s (%s), want %s", price, qty, stock, got.Status(), got.Side(), want)
				}
			} else {
				if r.IntN(2) == 0 && k.qty.Sign() > 0 {
					qty = 1 + r.Int64N(k.qty.Int64()) // within what is held
					amount.Mul(big.NewInt(price), big.NewInt(qty))
				}
				s, err := domain.NewSell("user1", stock, qty)
				if err != nil {
					t.Fatal(err)
				}
				o, err := s.AtPrice("k", price, t0)
				if err != nil {
					t.Fatal(err)
				}
				holds := k.qty.Cmp(big.NewInt(qty)) >= 0
				room := new(big.Int).Add(credit, amount).Cmp(max) <= 0
				got, j := a.Sell(o, held[stock])
				switch {
				case holds && room:
					counts[1]++
					credit.Add(credit, amount)
					taken := new(big.Int).Mul(k.cost, big.NewInt(qty))
					k.cost.Sub(k.cost, taken.Quo(taken, k.qty))
					k.sold.Add(k.sold, big.NewInt(qty))
					k.qty.Sub(k.qty, big.NewInt(qty))
				case !holds:
					counts[4]++
				default:
					counts[5]++
				}
				if want := status(holds && room); got.Status() != want || j.Status != want || got.Side() != domain.SideSell {
					t.Fatalf("sale %d×%d of %s: %s (%s), want %s", price, qty, stock, got.Status(), got.Side(), want)
				}
			}
			if !credit.IsInt64() || a.Credit() != credit.Int64() || a.Credit() < 0 {
				t.Fatalf("credit %d, want %s", a.Credit(), credit)
			}
			for _, s := range stocks {
				p, k := held[s], kept[s]
				net := new(big.Int).Sub(k.bought, k.sold)
				if p.Quantity() < 0 || big.NewInt(p.Quantity()).Cmp(net) != 0 || big.NewInt(p.CostBasis()).Cmp(k.cost) != 0 {
					t.Fatalf("%s: position %+v, want %s shares (%s bought, %s sold) costing %s", s, *p, net, k.bought, k.sold, k.cost)
				}
			}
		}
	}
	for i, n := range counts {
		if n < 500 {
			t.Fatalf("case %d came up %d times (%v): the draws miss a case", i, n, counts)
		}
	}
}

func status(accepted bool) domain.Status {
	if accepted {
		return domain.Accepted
	}
	return domain.Denied
}
