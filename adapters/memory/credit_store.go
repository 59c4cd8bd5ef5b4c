package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.CreditStore = (*CreditStore)(nil)

// CreditStore keeps user accounts, their positions and pending orders in
// memory; one mutex makes every debit atomic.
type CreditStore struct {
	mu        sync.Mutex
	accounts  map[string]domain.Account
	positions map[string]map[string]domain.Position // user -> stock -> a position held (never empty)
	pending   map[string]ports.PendingOrder
}

// NewCreditStore returns an empty store.
func NewCreditStore() *CreditStore {
	return &CreditStore{
		accounts:  make(map[string]domain.Account),
		positions: make(map[string]map[string]domain.Position),
		pending:   make(map[string]ports.PendingOrder),
	}
}

// Debit lets the user's account judge the order, under the lock. The
// idempotency reservation lives in another store here: one process holds
// both, and a request outlives the settler's grace period only if it
// stalls, so the fence of Debiter is the Redis adapter's (see there).
func (s *CreditStore) Debit(_ context.Context, req ports.DebitRequest) (ports.Outcome, error) {
	return s.trade(req.Order.User(), req.Order.Stock(), req.IdempotencyKey, req.Fingerprint,
		func(acc *domain.Account, held *domain.Position) (domain.Order, bool) {
			order, j := acc.Buy(req.Order, held)
			return order, j.Status == domain.Accepted
		})
}

// CreditSale lets the user's account judge the sale against its position,
// under the lock (see Debit for the idempotency fence).
func (s *CreditStore) CreditSale(_ context.Context, req ports.SaleRequest) (ports.Outcome, error) {
	return s.trade(req.Order.User(), req.Order.Stock(), req.IdempotencyKey, req.Fingerprint,
		func(acc *domain.Account, held *domain.Position) (domain.Order, bool) {
			order, j := acc.Sell(req.Order, held)
			return order, j.Status == domain.Accepted
		})
}

// trade runs judge on user's account and position in stock under the
// lock, and keeps what an accepted trade changed: the credit, the
// position and the pending record, in one step as the Redis scripts do.
func (s *CreditStore) trade(user, stock, key, fingerprint string, judge func(*domain.Account, *domain.Position) (domain.Order, bool)) (ports.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, ok := s.accounts[user]
	if !ok {
		return ports.Outcome{}, ports.ErrUserNotFound
	}
	held := s.positions[user][stock]
	order, accepted := judge(&acc, &held)
	s.accounts[user] = acc
	if accepted {
		s.hold(user, stock, held)
		s.pending[order.Key()] = ports.PendingOrder{
			Order: order, CreditLeft: acc.Credit(), IdempotencyKey: key, Fingerprint: fingerprint,
		}
	}
	return ports.Outcome{Order: order, Credit: acc.Credit()}, nil
}

// Positions returns user's credit and positions, under the lock.
func (s *CreditStore) Positions(_ context.Context, user string) (ports.Portfolio, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, ok := s.accounts[user]
	if !ok {
		return ports.Portfolio{}, ports.ErrUserNotFound
	}
	return ports.Portfolio{Credit: acc.Credit(), Holdings: s.holdings(user)}, nil
}

// hold sets user's position in stock; an empty one is forgotten, so that
// only positions held are listed. s.mu must be held.
func (s *CreditStore) hold(user, stock string, p domain.Position) {
	if p.Empty() {
		delete(s.positions[user], stock)
		if len(s.positions[user]) == 0 {
			delete(s.positions, user)
		}
		return
	}
	if s.positions[user] == nil {
		s.positions[user] = make(map[string]domain.Position)
	}
	s.positions[user][stock] = p
}

// Credit returns user's credit.
func (s *CreditStore) Credit(_ context.Context, user string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acc, ok := s.accounts[user]
	if !ok {
		return 0, ports.ErrUserNotFound
	}
	return acc.Credit(), nil
}

// SetCredit creates or overwrites user's credit.
func (s *CreditStore) SetCredit(_ context.Context, user string, credit int64) error {
	acc, err := domain.NewAccount(credit)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[user] = acc
	return nil
}

// PendingOrders lists pending orders, oldest first.
func (s *CreditStore) PendingOrders(context.Context) ([]ports.PendingOrder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ports.PendingOrder, 0, len(s.pending))
	for _, p := range s.pending {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ports.PendingOrder) int {
		return cmp.Or(a.Order.CreatedAt().Compare(b.Order.CreatedAt()), cmp.Compare(a.Order.Key(), b.Order.Key()))
	})
	return out, nil
}

// SettlePending forgets user's pending orders with these keys.
func (s *CreditStore) SettlePending(_ context.Context, user string, orderKeys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range orderKeys {
		if p, ok := s.pending[k]; ok && p.Order.User() == user {
			delete(s.pending, k)
		}
	}
	return nil
}

// AllPositions calls each with every user's positions, copied under the
// lock (each runs without it, so it may call the store).
func (s *CreditStore) AllPositions(_ context.Context, each func(user string, holdings []domain.Holding) error) error {
	s.mu.Lock()
	all := make(map[string][]domain.Holding, len(s.positions))
	for user := range s.positions {
		all[user] = s.holdings(user)
	}
	s.mu.Unlock()
	for _, user := range slices.Sorted(maps.Keys(all)) {
		if err := each(user, all[user]); err != nil {
			return err
		}
	}
	return nil
}

// PositionsOf returns user's positions, under the lock.
func (s *CreditStore) PositionsOf(_ context.Context, user string) ([]domain.Holding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holdings(user), nil
}

// SetPositions replaces user's positions if they are still was, under the
// lock.
func (s *CreditStore) SetPositions(_ context.Context, user string, was, holdings []domain.Holding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Equal(s.holdings(user), nonEmpty(was)) {
		return ports.ErrPositionsChanged
	}
	delete(s.positions, user)
	for _, h := range holdings {
		s.hold(user, h.Stock, h.Position)
	}
	return nil
}

// holdings is user's positions in stock name order. s.mu must be held.
func (s *CreditStore) holdings(user string) []domain.Holding {
	out := make([]domain.Holding, 0, len(s.positions[user]))
	for stock, p := range s.positions[user] {
		out = append(out, domain.Holding{Stock: stock, Position: p})
	}
	slices.SortFunc(out, func(a, b domain.Holding) int { return cmp.Compare(a.Stock, b.Stock) })
	return out
}

// nonEmpty is hs without its empty positions, in stock name order: what a
// store holds of them.
func nonEmpty(hs []domain.Holding) []domain.Holding {
	out := make([]domain.Holding, 0, len(hs))
	for _, h := range hs {
		if !h.Position.Empty() {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b domain.Holding) int { return cmp.Compare(a.Stock, b.Stock) })
	return out
}
