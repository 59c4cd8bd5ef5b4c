package domain

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// trade is what a buy and a sale ask alike: who trades how many shares of
// what.
type trade struct {
	user     string
	stock    string
	quantity int64
}

// newTrade checks a request to trade: a user name of the contract (see
// ValidateUserName), a stock name, a quantity of at least 1.
func newTrade(user, stock string, quantity int64) (trade, error) {
	if err := ValidateUserName(user); err != nil {
		return trade{}, err
	}
	if stock == "" {
		return trade{}, fmt.Errorf("%w: empty name", ErrUnknownStock)
	}
	if quantity < 1 {
		return trade{}, ErrBadQuantity
	}
	return trade{user: user, stock: stock, quantity: quantity}, nil
}

// User is who trades.
func (t trade) User() string { return t.user }

// Stock is what is traded.
func (t trade) Stock() string { return t.stock }

// Quantity is how many shares.
func (t trade) Quantity() int64 { return t.quantity }

// pricing is what pricing a trade adds: the order's key, its unit price
// and when it was made.
type pricing struct {
	key       string
	price     int64
	createdAt time.Time
}

// newPricing checks the price of t. It accepts a trade whose user name
// is only non-empty (NewOrder rebuilds orders other tools wrote).
func newPricing(key string, t trade, price int64, createdAt time.Time) (pricing, error) {
	switch {
	case key == "":
		return pricing{}, errors.New("order key must not be empty")
	case t.stock == "":
		return pricing{}, fmt.Errorf("%w: empty name", ErrUnknownStock)
	case price <= 0:
		return pricing{}, fmt.Errorf("%w: %d", ErrBadPrice, price)
	case t.quantity <= 0:
		return pricing{}, ErrBadQuantity
	case createdAt.IsZero():
		return pricing{}, errors.New("order creation time must be set")
	}
	return pricing{key: key, price: price, createdAt: createdAt.Truncate(CreatedAtPrecision).UTC()}, nil
}

// Key identifies the order across stores and retries.
func (p pricing) Key() string { return p.key }

// Price is the unit price the order is judged at.
func (p pricing) Price() int64 { return p.price }

func (p pricing) judged(t trade, side Side, status Status) Order {
	return Order{
		key: p.key, user: t.user, stock: t.stock, side: side, status: status,
		price: p.price, quantity: t.quantity, createdAt: p.createdAt,
	}
}

// TradeJudgement is the outcome of weighing a buy or a sale against a
// user's credit and position in the stock.
type TradeJudgement struct {
	Status Status
	// Amount is price × quantity, the cost of a buy or the proceeds of a
	// sale; meaningful only when accepted.
	Amount     int64
	CreditLeft int64    // the credit after the order
	Position   Position // the position after the order
}

// JudgeBuy accepts a buy of quantity at price when credit covers its cost
// (Judge) and the position held can take its shares and cost
// (Position.Bought: neither may pass 2^63-1). A denied buy leaves credit
// and position as they were.
func JudgeBuy(credit int64, held Position, price, quantity int64) TradeJudgement {
	j := Judge(credit, price, quantity)
	after, ok := held.Bought(price, quantity)
	if j.Status != Accepted || !ok {
		return TradeJudgement{Status: Denied, CreditLeft: credit, Position: held}
	}
	return TradeJudgement{Status: Accepted, Amount: j.Cost, CreditLeft: j.CreditLeft, Position: after}
}

// JudgeSale accepts a sale of quantity at price when the position held
// has at least quantity shares and the proceeds, price × quantity, keep
// the credit within 2^63-1 (computed exactly, as Judge computes a cost:
// proceeds beyond int64 are beyond every credit's room). An accepted sale
// takes its shares off the position (Position.Sold); a denied one leaves
// credit and position as they were.
func JudgeSale(credit int64, held Position, price, quantity int64) TradeJudgement {
	proceeds, valued := tradeValue(price, quantity)
	after, sold := held.Sold(quantity)
	if !valued || !sold || credit < 0 || credit > math.MaxInt64-proceeds {
		return TradeJudgement{Status: Denied, CreditLeft: credit, Position: held}
	}
	return TradeJudgement{Status: Accepted, Amount: proceeds, CreditLeft: credit + proceeds, Position: after}
}
