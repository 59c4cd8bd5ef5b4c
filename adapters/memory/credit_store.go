package memory

import (
	"cmp"
	"context"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	user := req.Order.User()
	acc, ok := s.accounts[user]
	if !ok {
		return ports.Outcome{}, ports.ErrUserNotFound
	}
	held := s.positions[user][req.Order.Stock()]
	order, j := acc.Buy(req.Order, &held)
	s.accounts[user] = acc
	if j.Status == domain.Accepted {
		s.hold(user, req.Order.Stock(), held)
		s.pending[order.Key()] = ports.PendingOrder{
			Order: order, CreditLeft: acc.Credit(), IdempotencyKey: req.IdempotencyKey, Fingerprint: req.Fingerprint,
		}
	}
	return ports.Outcome{Order: order, Credit: acc.Credit()}, nil
}

// CreditSale lets the user's account judge the sale against its position,
// under the lock (see Debit for the idempotency fence).
func (s *CreditStore) CreditSale(_ context.Context, req ports.SaleRequest) (ports.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	user := req.Order.User()
	acc, ok := s.accounts[user]
	if !ok {
		return ports.Outcome{}, ports.ErrUserNotFound
	}
	held := s.positions[user][req.Order.Stock()]
	order, j := acc.Sell(req.Order, &held)
	s.accounts[user] = acc
	if j.Status == domain.Accepted {
		s.hold(user, req.Order.Stock(), held)
		s.pending[order.Key()] = ports.PendingOrder{
			Order: order, CreditLeft: acc.Credit(), IdempotencyKey: req.IdempotencyKey, Fingerprint: req.Fingerprint,
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
	out := ports.Portfolio{Credit: acc.Credit(), Holdings: make([]domain.Holding, 0, len(s.positions[user]))}
	for stock, p := range s.positions[user] {
		out.Holdings = append(out.Holdings, domain.Holding{Stock: stock, Position: p})
	}
	slices.SortFunc(out.Holdings, func(a, b domain.Holding) int { return cmp.Compare(a.Stock, b.Stock) })
	return out, nil
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
