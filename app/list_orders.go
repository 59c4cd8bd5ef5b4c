package app

import (
	"context"
	"fmt"
	"time"

	"stockd/domain"
	"stockd/ports"
)

// Cursor marks where a page of the listing ends. It keeps the instant the
// first page was read, so that every page judges "today" the same way.
type Cursor struct {
	AsOf  time.Time
	After domain.OrderPosition
}

// ListOrdersQuery asks for a page; Cursor is nil for the first page. User
// narrows the listing to one user's orders ("" for everyone's), Side to
// one side's ("" for both).
type ListOrdersQuery struct {
	Limit  int
	Cursor *Cursor
	User   string
	Side   domain.Side
}

// OrdersPage is a page of the listing and the cursor of the next, nil on
// the last page.
type OrdersPage struct {
	Orders []domain.Order
	Next   *Cursor
}

// ListOrders lists the visible orders, newest first.
type ListOrders struct {
	orders ports.OrderLister
	clock  ports.Clock
	loc    *time.Location
}

// NewListOrders wires the use case; loc is the zone that decides "today".
func NewListOrders(orders ports.OrderLister, clock ports.Clock, loc *time.Location) (*ListOrders, error) {
	if err := requireAll(map[string]any{"order repository": orders, "clock": clock, "time zone": loc}); err != nil {
		return nil, err
	}
	return &ListOrders{orders: orders, clock: clock, loc: loc}, nil
}

// Execute returns one page.
func (l *ListOrders) Execute(ctx context.Context, q ListOrdersQuery) (OrdersPage, error) {
	if err := domain.ValidatePageSize(q.Limit); err != nil {
		return OrdersPage{}, err
	}
	asOf := l.clock.Now()
	var after *domain.OrderPosition
	if q.Cursor != nil {
		asOf, after = q.Cursor.AsOf, &q.Cursor.After
	}
	// One more than asked tells whether a next page exists.
	query, err := domain.NewOrderQuery(domain.VisibleAt(asOf, l.loc), after, q.Limit+1)
	if err != nil {
		return OrdersPage{}, err
	}
	orders, err := l.orders.List(ctx, query.OfUser(q.User).OfSide(q.Side))
	if err != nil {
		return OrdersPage{}, fmt.Errorf("list orders: %w", err)
	}
	page := OrdersPage{Orders: orders}
	if len(orders) > q.Limit {
		page.Orders = orders[:q.Limit]
		page.Next = &Cursor{AsOf: asOf, After: page.Orders[q.Limit-1].Position()}
	}
	return page, nil
}
