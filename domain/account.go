package domain

import "fmt"

// Account is a user's credit. Buy is the only way it goes down, and Judge
// never lets it go below zero.
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

// Buy judges order against the credit (see Judge) and, when it is
// accepted, takes its cost off. It returns the judged order and the
// judgement.
func (a *Account) Buy(order BuyOrder) (Order, Judgement) {
	j := Judge(a.credit, order.price, order.quantity)
	a.credit = j.CreditLeft
	return order.Judged(j.Status), j
}
