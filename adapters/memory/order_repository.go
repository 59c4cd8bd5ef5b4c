package memory

import (
	"context"
	"slices"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.OrderRepository = (*OrderRepository)(nil)

// OrderRepository keeps orders in memory, in listing order, so that a page
// is a binary search and a scan.
type OrderRepository struct {
	mu     sync.RWMutex
	sorted []domain.Order // listing order: newest first
	byKey  map[string]domain.Order
	nextID int64
}

// NewOrderRepository returns an empty repository.
func NewOrderRepository() *OrderRepository {
	return &OrderRepository{byKey: make(map[string]domain.Order), nextID: 1}
}

// Save stores o with the next ID, once per key.
func (r *OrderRepository) Save(_ context.Context, o domain.Order) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if stored, ok := r.byKey[o.Key()]; ok {
		return stored, nil
	}
	o = o.WithID(r.nextID)
	r.nextID++
	r.byKey[o.Key()] = o
	i, _ := slices.BinarySearchFunc(r.sorted, o, domain.ListingLess)
	r.sorted = slices.Insert(r.sorted, i, o)
	return o, nil
}

// List applies the domain's rule directly.
func (r *OrderRepository) List(_ context.Context, q domain.OrderQuery) ([]domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	start := 0
	if q.After != nil {
		after := *q.After
		start, _ = slices.BinarySearchFunc(r.sorted, after, func(o domain.Order, p domain.OrderPosition) int {
			if o.Position().Before(p) || o.Position() == p {
				return -1
			}
			return 1
		})
	}
	out := make([]domain.Order, 0, min(q.Limit, 64))
	for _, o := range r.sorted[start:] {
		if len(out) == q.Limit {
			break
		}
		if q.Matches(o) {
			out = append(out, o)
		}
	}
	return out, nil
}
