package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"stockd/ports"
)

// SettlePendingOrders finishes accepted orders whose debit is stored but
// whose recording was interrupted (a crash, an order store outage): it
// records each one (idempotently, by order key), completes its idempotency
// record, then forgets it. Money never leaves a credit without its order.
type SettlePendingOrders struct {
	credits ports.CreditStore
	orders  ports.OrderRepository
	keys    ports.IdempotencyStore
	clock   ports.Clock
	grace   time.Duration
}

// NewSettlePendingOrders wires the settler. Orders younger than grace are
// left to the request that is still recording them.
func NewSettlePendingOrders(credits ports.CreditStore, orders ports.OrderRepository, keys ports.IdempotencyStore, clock ports.Clock, grace time.Duration) (*SettlePendingOrders, error) {
	if err := requireAll(map[string]any{"credit store": credits, "order repository": orders, "idempotency store": keys, "clock": clock}); err != nil {
		return nil, err
	}
	return &SettlePendingOrders{credits: credits, orders: orders, keys: keys, clock: clock, grace: grace}, nil
}

// Execute settles every pending order older than the grace period and
// returns how many it settled.
func (s *SettlePendingOrders) Execute(ctx context.Context) (int, error) {
	pending, err := s.credits.PendingOrders(ctx)
	if err != nil {
		return 0, fmt.Errorf("list pending orders: %w", err)
	}
	cutoff := s.clock.Now().Add(-s.grace)
	settled := 0
	var errs []error
	for _, p := range pending {
		if p.Order.CreatedAt().After(cutoff) {
			continue
		}
		saved, err := s.orders.Save(ctx, p.Order)
		if err != nil {
			errs = append(errs, fmt.Errorf("record pending order %s: %w", p.Order.Key(), err))
			continue
		}
		if p.IdempotencyKey != "" {
			out := ports.Outcome{Order: saved, Credit: p.CreditLeft}
			if err := s.keys.Complete(ctx, p.IdempotencyKey, p.Fingerprint, out, idempotencyTTL); err != nil {
				errs = append(errs, fmt.Errorf("complete idempotency key of order %s: %w", p.Order.Key(), err))
				continue
			}
		}
		if err := s.credits.SettlePending(ctx, p.Order.Key()); err != nil {
			errs = append(errs, fmt.Errorf("settle order %s: %w", p.Order.Key(), err))
			continue
		}
		settled++
	}
	return settled, errors.Join(errs...)
}
