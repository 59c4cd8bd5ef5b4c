package domain

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// ErrBadPosition reports a position that no run of buys and sales leaves:
// a negative quantity or cost basis, or a cost basis with no shares (a
// sale of every share takes the whole cost basis with it).
var ErrBadPosition = errors.New("a position holds a non-negative quantity and cost basis, and no cost without shares")

// Position is what a user holds of one stock: a number of shares and their
// cost basis, kept by the average-cost rule. A buy of q shares at p adds
// p × q to the cost basis; a sale of q of the Q shares held takes
// floor(costBasis × q / Q) off it, all of it when q = Q, so that what is
// left is never more than its share and a position sold out costs
// nothing. Both figures are exact int64: a buy that would take either
// past 2^63-1 is denied (Bought), never wrapped. (Not to be confused with
// OrderPosition, a place in the order listing.)
type Position struct {
	quantity  int64
	costBasis int64
}

// NewPosition returns the position of quantity shares costing costBasis,
// as a store holds it (see ErrBadPosition).
func NewPosition(quantity, costBasis int64) (Position, error) {
	if quantity < 0 || costBasis < 0 || (quantity == 0 && costBasis != 0) {
		return Position{}, fmt.Errorf("%w: %d shares costing %d", ErrBadPosition, quantity, costBasis)
	}
	return Position{quantity: quantity, costBasis: costBasis}, nil
}

// Quantity is the number of shares held.
func (p Position) Quantity() int64 { return p.quantity }

// CostBasis is what the shares held cost, by the average-cost rule.
func (p Position) CostBasis() int64 { return p.costBasis }

// Empty reports whether no share is held: such a position is not listed
// and not stored.
func (p Position) Empty() bool { return p.quantity == 0 }

// Bought returns the position after buying quantity shares at price. ok is
// false, and the position unchanged, when price or quantity is below 1 or
// the quantity or cost basis would pass 2^63-1.
func (p Position) Bought(price, quantity int64) (after Position, ok bool) {
	cost, ok := tradeValue(price, quantity)
	if !ok || p.quantity > math.MaxInt64-quantity || p.costBasis > math.MaxInt64-cost {
		return p, false
	}
	return Position{quantity: p.quantity + quantity, costBasis: p.costBasis + cost}, true
}

// Sold returns the position after selling quantity of its shares, taking
// floor(costBasis × quantity / Quantity) off the cost basis (all of it
// for the last share). ok is false, and the position unchanged, when
// quantity is below 1 or more than is held.
func (p Position) Sold(quantity int64) (after Position, ok bool) {
	if quantity < 1 || quantity > p.quantity {
		return p, false
	}
	if quantity == p.quantity {
		return Position{}, true
	}
	// costBasis × quantity < 2^126 and, as quantity < Quantity, the high
	// word is below Quantity: Div64 neither overflows nor panics.
	hi, lo := bits.Mul64(uint64(p.costBasis), uint64(quantity))
	taken, _ := bits.Div64(hi, lo, uint64(p.quantity))
	return Position{quantity: p.quantity - quantity, costBasis: p.costBasis - int64(taken)}, true
}

// avgDecimals is the number of decimals of AvgEntryPrice.
const avgDecimals = 4

// AvgEntryPrice is costBasis / quantity as a decimal with four decimals,
// rounded half up ("1054.0000", "3.3333", "0.0001" for 1 / 20000),
// computed exactly in integers. An empty position's is "0.0000".
func (p Position) AvgEntryPrice() string {
	if p.quantity == 0 {
		return "0.0000"
	}
	q, cb := uint64(p.quantity), uint64(p.costBasis)
	whole, rem := cb/q, cb%q
	// rem × 10^4 < q × 2^64, so its high word is below q (see Sold).
	hi, lo := bits.Mul64(rem, 10000)
	frac, fracRem := bits.Div64(hi, lo, q)
	if fracRem >= q-fracRem { // fracRem / q >= 1/2, without 2 × fracRem overflowing
		frac++
	}
	if frac == 10000 {
		// whole < 2^63 - 1 here: whole = 2^63 - 1 needs q = 1, and then
		// rem = 0 and nothing rounds up.
		whole, frac = whole+1, 0
	}
	b := strconv.AppendUint(make([]byte, 0, 24), whole, 10)
	b = append(b, '.')
	digits := strconv.AppendUint(nil, frac, 10)
	for range avgDecimals - len(digits) {
		b = append(b, '0')
	}
	return string(append(b, digits...))
}

// MarketValue is quantity × price: the position at that price, exact.
// Up to (2^63-1)², it can pass int64, so it is a big.Int.
func (p Position) MarketValue(price int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(p.quantity), big.NewInt(price))
}

// UnrealizedPL is MarketValue(price) - CostBasis: what selling every share
// at price would gain (negative: lose) over what they cost, exact.
func (p Position) UnrealizedPL(price int64) *big.Int {
	v := p.MarketValue(price)
	return v.Sub(v, big.NewInt(p.costBasis))
}

// Holding is a position with the stock it is in: one line of a user's
// positions.
type Holding struct {
	Stock    string
	Position Position
}
