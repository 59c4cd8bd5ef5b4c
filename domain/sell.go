package domain

import "time"

// Sell is a request to sell quantity shares of stock for user, checked
// before anything is read or written.
type Sell struct{ trade }

// NewSell checks a request to sell, as NewBuy checks a buy.
func NewSell(user, stock string, quantity int64) (Sell, error) {
	t, err := newTrade(user, stock, quantity)
	if err != nil {
		return Sell{}, err
	}
	return Sell{t}, nil
}

// AtPrice prices the sale: the order to judge, identified by key, at the
// unit price, created at createdAt (cut to CreatedAtPrecision).
func (s Sell) AtPrice(key string, price int64, createdAt time.Time) (SellOrder, error) {
	if _, err := NewSell(s.user, s.stock, s.quantity); err != nil {
		return SellOrder{}, err // the zero Sell
	}
	p, err := newPricing(key, s.trade, price, createdAt)
	if err != nil {
		return SellOrder{}, err
	}
	return SellOrder{Sell: s, pricing: p}, nil
}

// SellOrder is a priced sale waiting for its verdict (see Account.Sell).
type SellOrder struct {
	Sell
	pricing
}

// Judged is the order with its verdict. Only JudgeSale decides a verdict:
// this is for stores that translate it (a Redis script) and for tests.
func (o SellOrder) Judged(status Status) Order { return o.judged(o.trade, SideSell, status) }
