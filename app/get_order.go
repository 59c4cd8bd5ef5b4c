package app

import (
	"context"
	"fmt"
	"time"

	"stockd/domain"
	"stockd/ports"
)

// GetOrderQuery asks for the order with ID. VisibleTo, when set (the
// token's user), narrows what may be seen to what that user's listing
// shows; "" (no tokens) shows any order.
type GetOrderQuery struct {
	ID        int64
	VisibleTo string
}

// GetOrder reads one order, the resource a BuyStock answer points to.
type GetOrder struct {
	orders ports.OrderFinder
	clock  ports.Clock
	loc    *time.Location
}

// NewGetOrder wires the use case; loc is the zone that decides "today", as
// for the listing.
func NewGetOrder(orders ports.OrderFinder, clock ports.Clock, loc *time.Location) (*GetOrder, error) {
	if err := requireAll(map[string]any{"order finder": orders, "clock": clock, "time zone": loc}); err != nil {
		return nil, err
	}
	return &GetOrder{orders: orders, clock: clock, loc: loc}, nil
}

// Execute returns the order, or ports.ErrOrderNotFound when there is none
// or the viewer may not see it: an order another user's listing holds is
// not found rather than forbidden, so that ids tell nothing of others.
func (g *GetOrder) Execute(ctx context.Context, q GetOrderQuery) (domain.Order, error) {
	o, err := g.orders.ByID(ctx, q.ID)
	if err != nil {
		return domain.Order{}, fmt.Errorf("get order %d: %w", q.ID, err)
	}
	if q.VisibleTo == "" {
		return o, nil
	}
	// The listing's own rule, one order long.
	listing, err := domain.NewOrderQuery(domain.VisibleAt(g.clock.Now(), g.loc), nil, 1)
	if err != nil {
		return domain.Order{}, err
	}
	if !listing.OfUser(q.VisibleTo).Matches(o) {
		return domain.Order{}, fmt.Errorf("get order %d: %w", q.ID, ports.ErrOrderNotFound)
	}
	return o, nil
}
