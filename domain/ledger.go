package domain

import (
	"errors"
	"fmt"
	"math"
)

// ErrLedgerOverflow reports accepted buys whose shares or cost add up past
// 2^63-1: no store could have accepted them all (Position.Bought denies
// the buy that would), so the orders are not a ledger of any position.
var ErrLedgerOverflow = errors.New("the accepted buys hold more than 2^63-1 shares or cost")

// PositionLedger replays the accepted orders of one user in one stock
// into the position they leave, by Position's average-cost rule (Bought,
// Sold): the position that a store should hold, by the orders alone.
// Its zero value is the ledger of no order.
//
// Orders are applied in creation order (creation time, then ID), which is
// all the order store knows of their sequence. A store judges the trades
// of a user in the order their atomic steps run, and for two trades
// created within moments of each other that can be the other way round.
// A sale can only have been accepted once its shares were held, so a sale
// that finds too few shares waits, and is applied as soon as a later buy
// brings them (in creation order among the sales waiting): it was judged
// after that buy. What still waits at the end was sold beyond every buy:
// Oversold. The quantity never depends on the order (bought minus sold);
// the cost basis can, where the real sequence differed.
type PositionLedger struct {
	position Position
	waiting  []int64 // quantities of the sales waiting for their shares, in creation order
	err      error
}

// Apply replays o, an order of the ledger's user and stock, after those
// applied before it. A denied order changes nothing. After a buy past
// 2^63-1 the ledger is broken (Err) and ignores every later order.
func (l *PositionLedger) Apply(o Order) {
	if o.Status() != Accepted || l.err != nil {
		return
	}
	if o.Side() == SideSell {
		l.waiting = append(l.waiting, o.Quantity())
		l.sellWaiting()
		return
	}
	after, ok := l.position.Bought(o.Price(), o.Quantity())
	if !ok {
		l.err = fmt.Errorf("%w: order %d (%s), a buy of %d at %d onto %d shares costing %d",
			ErrLedgerOverflow, o.ID(), o.Key(), o.Quantity(), o.Price(), l.position.Quantity(), l.position.CostBasis())
		return
	}
	l.position = after
	l.sellWaiting()
}

// sellWaiting applies every waiting sale that the shares now cover, in
// creation order. One pass is enough: a sale only takes shares, so one
// that did not fit does not fit after the others either.
func (l *PositionLedger) sellWaiting() {
	left := l.waiting[:0]
	for _, q := range l.waiting {
		if after, ok := l.position.Sold(q); ok {
			l.position = after
			continue
		}
		left = append(left, q)
	}
	l.waiting = left
}

// Position is the position the orders applied so far leave (its sales
// still waiting not taken off).
func (l PositionLedger) Position() Position { return l.position }

// Oversold is how many shares the sales still waiting sell beyond every
// buy applied (2^63-1 at most): 0 for orders that some sequence of
// judgements could have accepted. A ledger with shares oversold says no
// position; it is a fault of the records that a person has to look at.
func (l PositionLedger) Oversold() int64 {
	var n int64
	for _, q := range l.waiting {
		if n > math.MaxInt64-q {
			return math.MaxInt64
		}
		n += q
	}
	return n
}

// Err is ErrLedgerOverflow, wrapped with the order, once an accepted buy
// took the ledger past 2^63-1; nil otherwise.
func (l PositionLedger) Err() error { return l.err }
