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

// CreditStore keeps user credit and pending orders in memory; one mutex
// makes every update atomic.
type CreditStore struct {
	mu      sync.Mutex
	credit  map[string]int64
	pending map[string]ports.PendingOrder
}

// NewCreditStore returns an empty store.
func NewCreditStore() *CreditStore {
	return &CreditStore{credit: make(map[string]int64), pending: make(map[string]ports.PendingOrder)}
}

// UpdateCredit applies decide under the lock.
func (s *CreditStore) UpdateCredit(_ context.Context, user string, decide func(int64) (ports.CreditChange, error)) (ports.CreditChange, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	credit, ok := s.credit[user]
	if !ok {
		return ports.CreditChange{}, ports.ErrUserNotFound
	}
	change, err := decide(credit)
	if err != nil {
		return ports.CreditChange{}, err
	}
	if change.Credit < 0 {
		return ports.CreditChange{}, domain.ErrBadCredit
	}
	s.credit[user] = change.Credit
	if change.Pending != nil {
		s.pending[change.Pending.Order.Key()] = *change.Pending
	}
	return change, nil
}

// Credit returns user's credit.
func (s *CreditStore) Credit(_ context.Context, user string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	credit, ok := s.credit[user]
	if !ok {
		return 0, ports.ErrUserNotFound
	}
	return credit, nil
}

// SetCredit creates or overwrites user's credit.
func (s *CreditStore) SetCredit(_ context.Context, user string, credit int64) error {
	if credit < 0 {
		return domain.ErrBadCredit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credit[user] = credit
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

// SettlePending forgets a pending order.
func (s *CreditStore) SettlePending(_ context.Context, orderKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, orderKey)
	return nil
}
