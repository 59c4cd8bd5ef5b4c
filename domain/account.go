package domain

import "fmt"

// Account is a user's credit. A buy takes from it and a sale adds to it,
// and the judges never let it go below zero or past 2^63-1. The user's
// positions are kept beside it, one per stock, by whoever holds the
// account (a store): Buy and Sell change the one of the order's stock.
type Account struct {
	credit int64
}

// NewAccount returns an account holding credit, which must not be
// negative.
func NewAccount(credit int64) (Account, error) {
	if credit < 0 {
		return Account{}, fmt.Errorf("%w: %d", ErrBadCredit, credit)
	}
	return Account{credit: credit}, nil
}

// Credit is what the account holds.
func (a Account) Credit() int64 { return a.credit }

// Buy judges order against the credit and held, the user's position in
// the order's stock (see JudgeBuy), and when it is accepted, takes its
// cost off the credit and adds its shares and cost to *held. It returns
// the judged order and the judgement.
func (a *Account) Buy(order BuyOrder, held *Position) (Order, TradeJudgement) {
	j := JudgeBuy(a.credit, *held, order.price, order.quantity)
	a.credit, *held = j.CreditLeft, j.Position
	return order.Judged(j.Status), j
}

// Sell judges order against held, the user's position in the order's
// stock, and the credit (see JudgeSale), and when it is accepted, adds
// its proceeds to the credit and takes its shares off *held. It returns
// the judged order and the judgement.
func (a *Account) Sell(order SellOrder, held *Position) (Order, TradeJudgement) {
	j := JudgeSale(a.credit, *held, order.price, order.quantity)
	a.credit, *held = j.CreditLeft, j.Position
	return order.Judged(j.Status), j
}
