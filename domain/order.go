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
	ErrBadUser     = errors.New("user name must not be empty")
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
	hi, lo := bits.Mul64(uint64(price), uint64(quantity))
	if price <= 0 || quantity <= 0 || credit < 0 || hi != 0 || lo > math.MaxInt64 || int64(lo) > credit {
		return Judgement{Status: Denied, CreditLeft: credit}
	}
	return Judgement{Status: Accepted, Cost: int64(lo), CreditLeft: credit - int64(lo)}
}

// Order is a judged buy order.
type Order struct {
	id        int64
	key       string
	user      string
	stock     string
	status    Status
	price     int64
	quantity  int64
	createdAt time.Time
}

// NewOrder builds a freshly judged order, not yet stored (its ID is 0). key
// identifies it across stores and retries; createdAt is cut to
// CreatedAtPrecision.
func NewOrder(key, user, stock string, status Status, price, quantity int64, createdAt time.Time) (Order, error) {
	switch {
	case key == "":
		return Order{}, errors.New("order key must not be empty")
	case user == "":
		return Order{}, ErrBadUser
	case stock == "":
		return Order{}, fmt.Errorf("%w: empty name", ErrUnknownStock)
	case status != Accepted && status != Denied:
		return Order{}, fmt.Errorf("unknown order status %q", status)
	case price <= 0:
		return Order{}, fmt.Errorf("%w: %d", ErrBadPrice, price)
	case quantity <= 0:
		return Order{}, ErrBadQuantity
	case createdAt.IsZero():
		return Order{}, errors.New("order creation time must be set")
	}
	return Order{
		key: key, user: user, stock: stock, status: status,
		price: price, quantity: quantity,
		createdAt: createdAt.Truncate(CreatedAtPrecision).UTC(),
	}, nil
}

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

// WithID returns o as stored under id.
func (o Order) WithID(id int64) Order { o.id = id; return o }

// ID is the store's identifier, 0 before the order is stored.
func (o Order) ID() int64 { return o.id }

// Key identifies the order across stores and retries.
func (o Order) Key() string { return o.key }

// User is who placed the order.
func (o Order) User() string { return o.user }

// Stock is what was bought.
func (o Order) Stock() string { return o.stock }

// Status is the verdict.
func (o Order) Status() Status { return o.status }

// Price is the unit price the order was judged at.
func (o Order) Price() int64 { return o.price }

// Quantity is the number of shares asked for.
func (o Order) Quantity() int64 { return o.quantity }

// CreatedAt is when the order was judged, in UTC.
func (o Order) CreatedAt() time.Time { return o.createdAt }
