package domain

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// Status is the verdict on an order. Deny is a result, not an error.
type Status string

// The two verdicts an order can get.
const (
	Accepted Status = "accepted"
	Denied   Status = "denied"
)

// ParseStatus reads a stored status.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case Accepted, Denied:
		return Status(s), nil
	}
	return "", fmt.Errorf("unknown order status %q", s)
}

// Errors of order input. Callers map them to their own words (HTTP 422).
var (
	ErrBadQuantity = errors.New("quantity must be at least 1")
	ErrBadUser     = errors.New("bad user name")
	ErrBadCredit   = errors.New("credit must be a non-negative integer")
)

// CreatedAtPrecision is the resolution of order creation times. PostgreSQL's
// timestamptz keeps microseconds, so every store agrees on it.
const CreatedAtPrecision = time.Microsecond

// Judgement is the outcome of weighing an order against a credit.
type Judgement struct {
	Status     Status
	Cost       int64 // price × quantity; meaningful only when accepted
	CreditLeft int64 // the credit after the order
}

// Judge accepts an order when credit covers price × quantity, computed
// exactly: a product beyond int64 is larger than any credit, so it is denied
// and never wraps around into an accept.
func Judge(credit, price, quantity int64) Judgement {
	cost, ok := tradeValue(price, quantity)
	if !ok || credit < 0 || cost > credit {
		return Judgement{Status: Denied, CreditLeft: credit}
	}
	return Judgement{Status: Accepted, Cost: cost, CreditLeft: credit - cost}
}

// tradeValue is price × quantity, exact: ok is false when either is below
// 1 or the product passes 2^63-1 (then it is beyond every credit, cost
// basis and room for proceeds). The one place a trade's value is made.
func tradeValue(price, quantity int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(price), uint64(quantity))
	if price < 1 || quantity < 1 || hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

// Order is a judged order, a buy or a sale (its Side).
type Order struct {
	id        int64
	key       string
	user      string
	stock     string
	side      Side
	status    Status
	price     int64
	quantity  int64
	createdAt time.Time
}

// NewOrder builds a freshly judged buy order, not yet stored (its ID is
// 0); WithSide makes it a sale. key identifies it across stores and
// retries; createdAt is cut to CreatedAtPrecision. The user name is only
// required to be non-empty: the stricter rule of ValidateUserName is for
// new buys, and a row written by another tool is still an order. An order
// is a buy unless it says otherwise, as a row of the orders table written
// before sales existed is.
func NewOrder(key, user, stock string, status Status, price, quantity int64, createdAt time.Time) (Order, error) {
	if status != Accepted && status != Denied {
		return Order{}, fmt.Errorf("unknown order status %q", status)
	}
	if user == "" {
		return Order{}, fmt.Errorf("%w: empty", ErrBadUser)
	}
	b, err := newBuyOrder(key, Buy{trade{user: user, stock: stock, quantity: quantity}}, price, createdAt)
	if err != nil {
		return Order{}, err
	}
	return b.Judged(status), nil
}

// Buy is a request to buy quantity shares of stock for user, checked
// before anything is read or written.
type Buy struct{ trade }

// NewBuy checks a request to buy: a user name of the contract (see
// ValidateUserName), a stock name, a quantity of at least 1.
func NewBuy(user, stock string, quantity int64) (Buy, error) {
	t, err := newTrade(user, stock, quantity)
	if err != nil {
		return Buy{}, err
	}
	return Buy{t}, nil
}

// AtPrice prices the buy: the order to judge, identified by key, at the
// unit price, created at createdAt (cut to CreatedAtPrecision).
func (b Buy) AtPrice(key string, price int64, createdAt time.Time) (BuyOrder, error) {
	if _, err := NewBuy(b.user, b.stock, b.quantity); err != nil {
		return BuyOrder{}, err // the zero Buy
	}
	return newBuyOrder(key, b, price, createdAt)
}

func newBuyOrder(key string, b Buy, price int64, createdAt time.Time) (BuyOrder, error) {
	p, err := newPricing(key, b.trade, price, createdAt)
	if err != nil {
		return BuyOrder{}, err
	}
	return BuyOrder{Buy: b, pricing: p}, nil
}

// BuyOrder is a priced buy waiting for its verdict (see Account.Buy).
type BuyOrder struct {
	Buy
	pricing
}

// Judged is the order with its verdict. Only JudgeBuy decides a verdict:
// this is for stores that translate it (a Redis script) and for tests.
func (o BuyOrder) Judged(status Status) Order { return o.judged(o.trade, SideBuy, status) }

// OrderFromStore rebuilds an order loaded from a store, with its ID.
func OrderFromStore(id int64, key, user, stock string, status Status, price, quantity int64, createdAt time.Time) (Order, error) {
	if id <= 0 {
		return Order{}, fmt.Errorf("stored order has id %d", id)
	}
	o, err := NewOrder(key, user, stock, status, price, quantity, createdAt)
	if err != nil {
		return Order{}, fmt.Errorf("stored order %d: %w", id, err)
	}
	o.id = id
	return o, nil
}

// WithSide returns o as an order of side: a stored sale is rebuilt by
// NewOrder or OrderFromStore, then WithSide(SideSell).
func (o Order) WithSide(side Side) (Order, error) {
	if _, err := ParseSide(string(side)); err != nil {
		return Order{}, err
	}
	o.side = side
	return o, nil
}

// WithID returns o as stored under id.
func (o Order) WithID(id int64) Order { o.id = id; return o }

// ID is the store's identifier, 0 before the order is stored.
func (o Order) ID() int64 { return o.id }

// Key identifies the order across stores and retries.
func (o Order) Key() string { return o.key }

// User is who placed the order.
func (o Order) User() string { return o.user }

// Stock is what was bought or sold.
func (o Order) Stock() string { return o.stock }

// Side says whether the order buys or sells.
func (o Order) Side() Side { return o.side }

// Status is the verdict.
func (o Order) Status() Status { return o.status }

// Price is the unit price the order was judged at.
func (o Order) Price() int64 { return o.price }

// Quantity is the number of shares asked for.
func (o Order) Quantity() int64 { return o.quantity }

// CreatedAt is when the order was judged, in UTC.
func (o Order) CreatedAt() time.Time { return o.createdAt }
