package domain_test

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"stockd/domain"
)

const maxInt = math.MaxInt64

func mustPosition(t *testing.T, quantity, costBasis int64) domain.Position {
	t.Helper()
	p, err := domain.NewPosition(quantity, costBasis)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewPosition(t *testing.T) {
	t.Parallel()
	tests := []struct {
		quantity, costBasis int64
		ok                  bool
	}{
		{0, 0, true},
		{1, 1054, true},
		{maxInt, maxInt, true},
		{5, 0, true}, // shares that cost nothing (a repair from orders may say so)
		{0, 1, false},
		{-1, 0, false},
		{1, -1, false},
		{math.MinInt64, math.MinInt64, false},
	}
	for _, tt := range tests {
		p, err := domain.NewPosition(tt.quantity, tt.costBasis)
		if tt.ok && (err != nil || p.Quantity() != tt.quantity || p.CostBasis() != tt.costBasis) {
			t.Errorf("NewPosition(%d, %d) = %+v, %v", tt.quantity, tt.costBasis, p, err)
		}
		if !tt.ok && !errors.Is(err, domain.ErrBadPosition) {
			t.Errorf("NewPosition(%d, %d) = %v, want ErrBadPosition", tt.quantity, tt.costBasis, err)
		}
	}
	if !(domain.Position{}).Empty() || mustPosition(t, 1, 1).Empty() {
		t.Error("Empty is not quantity == 0")
	}
}

func TestPositionBought(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		quantity, costBasis int64 // held
		price, buy          int64
		ok                  bool
		wantQty, wantCost   int64
	}{
		{"first buy", 0, 0, 1054, 100, true, 100, 105400},
		{"adds at its own price", 100, 105400, 1124, 50, true, 150, 161600},
		{"quantity to 2^63-1 exactly", maxInt - 5, maxInt - 5, 1, 5, true, maxInt, maxInt},
		{"quantity one past 2^63-1", maxInt - 5, 0, 1, 6, false, maxInt - 5, 0},
		{"quantity past 2^63-1 from max", maxInt, maxInt, 1, 1, false, maxInt, maxInt},
		{"cost basis to 2^63-1 exactly", 1, maxInt - 10, 5, 2, true, 3, maxInt},
		{"cost basis one past 2^63-1", 1, maxInt - 10, 11, 1, false, 1, maxInt - 10},
		{"cost of the buy past int64", 0, 0, 2, maxInt/2 + 1, false, 0, 0},
		{"cost that wraps to 0", 0, 0, 1 << 32, 1 << 32, false, 0, 0},
		{"price 0", 1, 1, 0, 1, false, 1, 1},
		{"quantity 0", 1, 1, 1, 0, false, 1, 1},
		{"negative quantity", 10, 10, 1, -5, false, 10, 10},
		{"negative price", 10, 10, -1, -5, false, 10, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := mustPosition(t, tt.quantity, tt.costBasis).Bought(tt.price, tt.buy)
			if ok != tt.ok || got.Quantity() != tt.wantQty || got.CostBasis() != tt.wantCost {
				t.Fatalf("Bought(%d, %d) = %+v, %v; want (%d, %d), %v", tt.price, tt.buy, got, ok, tt.wantQty, tt.wantCost, tt.ok)
			}
		})
	}
}

func TestPositionSold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                string
		quantity, costBasis int64
		sell                int64
		ok                  bool
		wantQty, wantCost   int64
	}{
		{"every share takes the whole cost", 3, 10, 3, true, 0, 0},
		{"one of three takes floor(10/3)", 3, 10, 1, true, 2, 7},
		{"two of three take floor(20/3)", 3, 10, 2, true, 1, 4},
		{"an exact share", 100, 105400, 40, true, 60, 63240},
		{"past 2^64 in the product", maxInt, maxInt, maxInt - 1, true, 1, 1},
		{"a third of 2^63-1", 3, maxInt, 1, true, 2, maxInt - 3074457345618258602},
		{"cost below the shares", maxInt, 1, maxInt - 1, true, 1, 1},
		{"free shares", 5, 0, 2, true, 3, 0},
		{"one beyond what is held", 3, 10, 4, false, 3, 10},
		{"nothing held", 0, 0, 1, false, 0, 0},
		{"quantity 0", 3, 10, 0, false, 3, 10},
		{"negative quantity", 3, 10, -1, false, 3, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := mustPosition(t, tt.quantity, tt.costBasis).Sold(tt.sell)
			if ok != tt.ok || got.Quantity() != tt.wantQty || got.CostBasis() != tt.wantCost {
				t.Fatalf("Sold(%d) of (%d, %d) = %+v, %v; want (%d, %d), %v", tt.sell, tt.quantity, tt.costBasis, got, ok, tt.wantQty, tt.wantCost, tt.ok)
			}
		})
	}
}

func TestAvgEntryPrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		quantity, costBasis int64
		want                string
	}{
		{0, 0, "0.0000"},
		{100, 105400, "1054.0000"},
		{3, 10, "3.3333"},
		{3, 20, "6.6667"},
		{8, 1, "0.1250"},
		{20000, 1, "0.0001"},                           // 0.00005: half rounds up
		{20000, 140001, "7.0001"},                      // 7.00005
		{200000, 9, "0.0000"},                          // 0.000045
		{2000000, 99, "0.0000"},                        // 0.0000495, just below half
		{20000, 19999, "1.0000"},                       // 0.99995 carries into the whole part
		{20000, 39999, "2.0000"},                       // 1.99995
		{1, maxInt, "9223372036854775807.0000"},        // the largest average
		{maxInt, maxInt, "1.0000"},                     // the largest quantity
		{maxInt, 1, "0.0000"},                          // the smallest share
		{2, maxInt, "4611686018427387903.5000"},        // halves of an odd maximum
		{3, maxInt, "3074457345618258602.3333"},        // and thirds
		{maxInt, maxInt - 1, "1.0000"},                 // 0.99999999999999999989...
		{maxInt - 1, maxInt, "1.0000"},                 // 1.0000000000000000001...
		{7, 5, "0.7143"},                               // 0.714285...
		{16, 1, "0.0625"},                              // exact in four places
		{32, 1, "0.0313"},                              // 0.03125: half up
		{1 << 62, 1 << 61, "0.5000"},                   // past 2^53 on both sides
		{3, 9007199254740993, "3002399751580331.0000"}, // 2^53+1, an odd multiple of 3
	}
	for _, tt := range tests {
		if got := mustPosition(t, tt.quantity, tt.costBasis).AvgEntryPrice(); got != tt.want {
			t.Errorf("AvgEntryPrice of (%d, %d) = %s, want %s", tt.quantity, tt.costBasis, got, tt.want)
		}
	}
}

// avgByRat is AvgEntryPrice by math/big: costBasis / quantity rounded half
// up to four decimals, as floor((costBasis × 10^4 × 2 + quantity) /
// (quantity × 2)).
func avgByRat(quantity, costBasis int64) string {
	n := new(big.Int).Mul(big.NewInt(costBasis), big.NewInt(20000))
	n.Add(n, big.NewInt(quantity))
	d := new(big.Int).Mul(big.NewInt(quantity), big.NewInt(2))
	n.Quo(n, d)
	r := new(big.Rat).SetFrac(n, big.NewInt(10000))
	return r.FloatString(4)
}

// TestAvgEntryPriceAgreesWithBigArithmetic on every magnitude.
func TestAvgEntryPriceAgreesWithBigArithmetic(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	for range 100000 {
		q := 1 + r.Int64N(maxInt)>>r.IntN(63)
		cb := r.Int64N(maxInt) >> r.IntN(63)
		if r.IntN(4) == 0 {
			// A half on the nose: cost basis / q = k + 1/2 × 10^-4.
			q = 20000 * (1 + r.Int64N(1000))
			cb = r.Int64N(maxInt/q)*q + q/20000
		}
		if got, want := mustPosition(t, q, cb).AvgEntryPrice(), avgByRat(q, cb); got != want {
			t.Fatalf("AvgEntryPrice of (%d, %d) = %s, want %s", q, cb, got, want)
		}
	}
}

func TestMarketValueAndUnrealizedPL(t *testing.T) {
	t.Parallel()
	p := mustPosition(t, 100, 105400)
	if v, pl := p.MarketValue(1124), p.UnrealizedPL(1124); v.Int64() != 112400 || pl.Int64() != 7000 {
		t.Errorf("at 1124: value %s, P&L %s; want 112400, 7000", v, pl)
	}
	if pl := p.UnrealizedPL(1000); pl.Int64() != -5400 {
		t.Errorf("at 1000: P&L %s, want -5400", pl)
	}
	big := mustPosition(t, maxInt, 1)
	if v, pl := big.MarketValue(maxInt), big.UnrealizedPL(maxInt); v.String() != "85070591730234615847396907784232501249" ||
		pl.String() != "85070591730234615847396907784232501248" {
		t.Errorf("(2^63-1)²: value %s, P&L %s", v, pl)
	}
	if v := (domain.Position{}).MarketValue(1054); v.Sign() != 0 {
		t.Errorf("nothing held is worth %s", v)
	}
}

// TestPositionKeepsItsBooks: over runs of random buys and sales, a
// position's quantity is the accepted buys less the accepted sales, never
// below zero; its cost basis follows the average-cost rule; a sale beyond
// what is held and a buy past int64 are refused and change nothing. The
// oracle is math/big on running totals, not the position's own arithmetic.
func TestPositionKeepsItsBooks(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	max := big.NewInt(maxInt)
	var bought, sold, refused int
	for range 3000 {
		p := domain.Position{}
		qty, cost := new(big.Int), new(big.Int) // what the position must hold
		bought1, sold1 := new(big.Int), new(big.Int)
		for range 20 {
			n := 1 + r.Int64N(maxInt)>>r.IntN(63)
			if r.IntN(2) == 0 {
				price := 1 + r.Int64N(maxInt)>>r.IntN(63)
				c := new(big.Int).Mul(big.NewInt(price), big.NewInt(n))
				newQty := new(big.Int).Add(qty, big.NewInt(n))
				newCost := new(big.Int).Add(cost, c)
				fits := newQty.Cmp(max) <= 0 && newCost.Cmp(max) <= 0
				after, ok := p.Bought(price, n)
				if ok != fits {
					t.Fatalf("Bought(%d, %d) of %+v: ok %v, want %v", price, n, p, ok, fits)
				}
				if ok {
					qty, cost = newQty, newCost
					bought1.Add(bought1, big.NewInt(n))
					bought++
				} else {
					refused++
				}
				p = after
			} else {
				if r.IntN(2) == 0 && qty.Sign() > 0 {
					n = 1 + r.Int64N(qty.Int64()) // within what is held
				}
				held := qty.Cmp(big.NewInt(n)) >= 0
				after, ok := p.Sold(n)
				if ok != held {
					t.Fatalf("Sold(%d) of %+v: ok %v, want %v", n, p, ok, held)
				}
				if ok {
					taken := new(big.Int).Mul(cost, big.NewInt(n))
					taken.Quo(taken, qty)
					cost.Sub(cost, taken)
					qty.Sub(qty, big.NewInt(n))
					sold1.Add(sold1, big.NewInt(n))
					sold++
				} else {
					refused++
				}
				p = after
			}
			if p.Quantity() < 0 || big.NewInt(p.Quantity()).Cmp(qty) != 0 || big.NewInt(p.CostBasis()).Cmp(cost) != 0 {
				t.Fatalf("position %+v, want (%s, %s)", p, qty, cost)
			}
			if net := new(big.Int).Sub(bought1, sold1); net.Cmp(qty) != 0 {
				t.Fatalf("quantity %s, but %s bought and %s sold", qty, bought1, sold1)
			}
			if p.Empty() && p.CostBasis() != 0 {
				t.Fatalf("no shares costing %d", p.CostBasis())
			}
		}
	}
	if bought < 10000 || sold < 10000 || refused < 10000 {
		t.Fatalf("%d bought, %d sold, %d refused: the draws miss a case", bought, sold, refused)
	}
}
