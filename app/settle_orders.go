package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"stockd/domain"
	"stockd/ports"
)

// SettlePendingOrders finishes accepted orders whose debit is stored but
// whose recording was interrupted (a crash, an order store outage): it
// records each one (idempotently, by order key), completes its idempotency
// record, then forgets it. Money never leaves a credit without its order.
// It also finishes the idempotency keys that no request will finish
// (FreeStuckKeys).
type SettlePendingOrders struct {
	credits ports.PendingLedger
	orders  ports.OrderRecorder
	keys    ports.KeySettler
	clock   ports.Clock
	grace   time.Duration
	log     *slog.Logger
}

// NewSettlePendingOrders wires the settler. Orders and reservations younger
// than grace are left to the request that is still working on them. Of
// credits it reads the pending orders and, to complete a key whose request
// lost its outcome, a user's credit. log hears of each round's work and
// failures (nil: silent).
func NewSettlePendingOrders(credits ports.PendingLedger, orders ports.OrderRecorder, keys ports.KeySettler, clock ports.Clock, grace time.Duration, log *slog.Logger) (*SettlePendingOrders, error) {
	if err := requireAll(map[string]any{"credit store": credits, "order repository": orders, "idempotency store": keys, "clock": clock}); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SettlePendingOrders{credits: credits, orders: orders, keys: keys, clock: clock, grace: grace, log: log}, nil
}

// Run settles at once and then every interval until ctx ends, when it
// returns nil. A failed round (an outage) is logged and tried again at the
// next tick: the work is idempotent and nothing is lost by waiting.
func (s *SettlePendingOrders) Run(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.round(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *SettlePendingOrders) round(ctx context.Context) {
	n, err := s.Execute(ctx)
	if n > 0 {
		s.log.Info("pending orders recorded", "orders", n)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("settling pending orders", "error", err)
	}
	freed, err := s.FreeStuckKeys(ctx)
	if freed > 0 {
		s.log.Info("stuck idempotency keys freed", "keys", freed)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("freeing stuck idempotency keys", "error", err)
	}
}

// Execute settles every pending order older than the grace period and
// returns how many it settled. The records of one user are forgotten in
// one batch at the end.
func (s *SettlePendingOrders) Execute(ctx context.Context) (int, error) {
	pending, err := s.credits.PendingOrders(ctx)
	if err != nil {
		return 0, fmt.Errorf("list pending orders: %w", err)
	}
	cutoff := s.clock.Now().Add(-s.grace)
	done := map[string][]string{} // user -> order keys recorded and completed
	var users []string
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
			if err := s.keys.Complete(ctx, p.Order.User(), p.IdempotencyKey, p.Fingerprint, out, idempotencyTTL); err != nil {
				errs = append(errs, fmt.Errorf("complete idempotency key of order %s: %w", p.Order.Key(), err))
				continue
			}
		}
		user := p.Order.User()
		if done[user] == nil {
			users = append(users, user)
		}
		done[user] = append(done[user], p.Order.Key())
	}
	settled := 0
	for _, user := range users {
		if err := s.credits.SettlePending(ctx, user, done[user]...); err != nil {
			errs = append(errs, fmt.Errorf("settle orders of %s: %w", user, err))
			continue
		}
		settled += len(done[user])
	}
	return settled, errors.Join(errs...)
}

// forgoTimeout bounds the wait of one Forgo behind a save that holds the
// same order key (a statement blocked on a lock): the key is then tried
// again next round instead of holding up the others. Liveness only: the
// fence does not depend on it.
const forgoTimeout = 10 * time.Second

// FreeStuckKeys finishes the idempotency keys reserved before the grace
// period whose request lost track of them, and returns how many it freed.
// A key with a pending order is left to Execute. A key whose order was
// recorded (a denied order, or one whose save reported a failure but
// committed) is completed with that order. A key with neither paid nothing
// and recorded nothing, and is freed so that it does not answer "in
// progress" until it expires.
//
// "Neither" must stay true after the key is freed, or a retry would record
// a second order for the key. The grace period cannot promise it: the
// request may be alive but stalled (a table lock, a held network, SIGSTOP)
// for any time and then finish. So two fences close both ways it could:
//   - Its debit: the debit runs only while the key is still reserved for
//     its order key, and Free frees only a key with no pending debit, in
//     one atomic step each in the credit store (see debit.lua, free.lua).
//     A freed key is never debited, and a debited key is never freed.
//   - Its denied order: Forgo claims the order key in the order store
//     before the key is freed; an INSERT of that order after the claim
//     stores nothing, and one before it is found by Forgo (which waits for
//     it) and completes the key instead.
//
// Both are decided by the store (one script, one unique index), not by a
// clock, so they hold whichever process stalls, for however long: a
// settler stalled between Forgo and Free frees a key nobody can record
// under any more, and one stalled before Forgo finds out afresh. Settlers
// in several processes repeat the same idempotent steps.
func (s *SettlePendingOrders) FreeStuckKeys(ctx context.Context) (int, error) {
	stuck, err := s.keys.InFlight(ctx, s.clock.Now().Add(-s.grace))
	if err != nil {
		return 0, fmt.Errorf("list reserved idempotency keys: %w", err)
	}
	if len(stuck) == 0 {
		return 0, nil
	}
	pending, err := s.credits.PendingOrders(ctx)
	if err != nil {
		return 0, fmt.Errorf("list pending orders: %w", err)
	}
	debited := make(map[string]bool, len(pending))
	for _, p := range pending {
		debited[p.Order.Key()] = true
	}
	freed, completed := 0, 0
	var errs []error
	for _, r := range stuck {
		if debited[r.OrderKey] {
			continue
		}
		fctx, cancel := context.WithTimeout(ctx, forgoTimeout)
		order, err := s.orders.Forgo(fctx, r.OrderKey)
		cancel()
		if err == nil {
			if err := s.complete(ctx, r, order); err != nil {
				errs = append(errs, err)
				continue
			}
			completed++
			continue
		}
		if !errors.Is(err, ports.ErrOrderNotFound) {
			errs = append(errs, fmt.Errorf("look up order %s: %w", r.OrderKey, err))
			continue
		}
		ok, err := s.keys.Free(ctx, r)
		if err != nil {
			errs = append(errs, fmt.Errorf("free idempotency key of order %s: %w", r.OrderKey, err))
			continue
		}
		if ok {
			freed++
		}
	}
	if completed > 0 {
		s.log.Info("stuck idempotency keys completed from their recorded orders", "keys", completed)
	}
	return freed, errors.Join(errs...)
}

// complete records order as the outcome of r's key. The credit left after
// the order was never stored (a denied order writes none, and an accepted
// one's pending record is gone), so the user's current credit stands in
// for it: the best available, and what a retry would see next anyway.
func (s *SettlePendingOrders) complete(ctx context.Context, r ports.Reservation, order domain.Order) error {
	credit, err := s.credits.Credit(ctx, r.User)
	if err != nil {
		return fmt.Errorf("read credit of %s for order %s: %w", r.User, r.OrderKey, err)
	}
	out := ports.Outcome{Order: order, Credit: credit}
	if err := s.keys.Complete(ctx, r.User, r.Key, r.Fingerprint, out, idempotencyTTL); err != nil {
		return fmt.Errorf("complete idempotency key of order %s: %w", r.OrderKey, err)
	}
	return nil
}
