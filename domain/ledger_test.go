package domain_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"stockd/domain"
)

// ledgerOrder is an order of user1 in stock1 for the ledger tests: side
// "buy" or "sell", accepted unless status says otherwise.
func ledgerOrder(t *testing.T, side domain.Side, price, quantity int64, status ...domain.Status) domain.Order {
	t.Helper()
	st := domain.Accepted
	if len(status) > 0 {
		st = status[0]
	}
	o, err := domain.OrderFromStore(1, "k", "user1", "stock1", st, price, quantity, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	if err == nil {
		o, err = o.WithSide(side)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPositionLedger(t *testing.T) {
	t.Parallel()
	buy := func(price, quantity int64) func(*testing.T) domain.Order {
		return func(t *testing.T) domain.Order { return ledgerOrder(t, domain.SideBuy, price, quantity) }
	}
	sell := func(price, quantity int64) func(*testing.T) domain.Order {
		return func(t *testing.T) domain.Order { return ledgerOrder(t, domain.SideSell, price, quantity) }
	}
	denied := func(side domain.Side, quantity int64) func(*testing.T) domain.Order {
		return func(t *testing.T) domain.Order { return ledgerOrder(t, side, 1, quantity, domain.Denied) }
	}
	tests := []struct {
		name           string
		orders         []func(*testing.T) domain.Order
		quantity, cost int64
		oversold       int64
		broken         bool
	}{
		{name: "no order, no position"},
		{name: "buys add price × quantity", orders: []func(*testing.T) domain.Order{buy(1054, 100), buy(1124, 50)},
			quantity: 150, cost: 161600},
		{name: "a sale takes floor(cost × q / Q)", orders: []func(*testing.T) domain.Order{buy(4, 1), buy(3, 2), sell(7, 1)},
			quantity: 2, cost: 7},
		{name: "the last share takes the whole cost", orders: []func(*testing.T) domain.Order{buy(4, 1), buy(3, 2), sell(7, 1), sell(1, 2)}},
		{name: "denied orders change nothing", orders: []func(*testing.T) domain.Order{buy(10, 3), denied(domain.SideBuy, 5), denied(domain.SideSell, 3)},
			quantity: 3, cost: 30},
		{name: "a sale created before its buy waits for the shares",
			orders:   []func(*testing.T) domain.Order{buy(10, 2), sell(50, 5), buy(20, 4)},
			quantity: 1, cost: 100 - 100*5/6},
		{name: "waiting sales go in creation order, each as soon as it fits",
			orders:   []func(*testing.T) domain.Order{sell(1, 3), sell(1, 1), buy(10, 2), buy(10, 2)},
			quantity: 0, cost: 0},
		{name: "a sale beyond every buy is oversold",
			orders:   []func(*testing.T) domain.Order{buy(10, 3), sell(1, 2), sell(1, 4)},
			quantity: 1, cost: 10, oversold: 4},
		{name: "buys past 2^63-1 break the ledger",
			orders:   []func(*testing.T) domain.Order{buy(1, math.MaxInt64), buy(1, 1), sell(1, math.MaxInt64)},
			quantity: math.MaxInt64, cost: math.MaxInt64, broken: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l domain.PositionLedger
			for _, o := range tt.orders {
				l.Apply(o(t))
			}
			if got := l.Position(); got != mustPosition(t, tt.quantity, tt.cost) {
				t.Errorf("position = %d costing %d, want %d costing %d", got.Quantity(), got.CostBasis(), tt.quantity, tt.cost)
			}
			if got := l.Oversold(); got != tt.oversold {
				t.Errorf("oversold = %d, want %d", got, tt.oversold)
			}
			if broken := errors.Is(l.Err(), domain.ErrLedgerOverflow); broken != tt.broken || (!broken && l.Err() != nil) {
				t.Errorf("err = %v, want broken %v", l.Err(), tt.broken)
			}
		})
	}
}

// TestPositionLedgerAgreesWithTheJudges: a ledger of the orders that
// JudgeBuy and JudgeSale accepted, in the order they judged them, holds
// what the judges left.
func TestPositionLedgerAgreesWithTheJudges(t *testing.T) {
	t.Parallel()
	var held domain.Position
	var l domain.PositionLedger
	credit := int64(1 << 40)
	for i := range int64(2000) {
		price, quantity := 1+i*7919%1000, 1+i*104729%50
		var j domain.TradeJudgement
		side := domain.SideBuy
		if i%3 == 2 {
			side = domain.SideSell
			j = domain.JudgeSale(credit, held, price, quantity)
		} else {
			j = domain.JudgeBuy(credit, held, price, quantity)
		}
		credit, held = j.CreditLeft, j.Position
		l.Apply(ledgerOrder(t, side, price, quantity, j.Status))
	}
	if l.Position() != held || l.Oversold() != 0 || l.Err() != nil {
		t.Errorf("ledger %+v (oversold %d, %v), judges %+v", l.Position(), l.Oversold(), l.Err(), held)
	}
}
