package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.OrderRepository = (*OrderRepository)(nil)

// OrderRepository keeps orders in memory, oldest first (the listing order
// reversed), so that a new order, usually the newest, is an append, and a
// page is a binary search and a scan backwards.
type OrderRepository struct {
	mu      sync.RWMutex
	sorted  []domain.Order // reversed listing order: newest last
	byKey   map[string]domain.Order
	byID    map[int64]domain.Order
	forgone map[string]bool // keys no denied order may be stored under (Forgo)
	nextID  int64
}

// NewOrderRepository returns an empty repository.
func NewOrderRepository() *OrderRepository {
	return &OrderRepository{byKey: make(map[string]domain.Order), byID: make(map[int64]domain.Order), forgone: make(map[string]bool), nextID: 1}
}

// Save stores o with the next ID, once per key.
func (r *OrderRepository) Save(_ context.Context, o domain.Order) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if stored, ok := r.byKey[o.Key()]; ok {
		return stored, nil
	}
	if o.Status() == domain.Denied && r.forgone[o.Key()] {
		return domain.Order{}, fmt.Errorf("save order %s: %w", o.Key(), ports.ErrOrderForgone)
	}
	o = o.WithID(r.nextID)
	r.nextID++
	r.byKey[o.Key()] = o
	r.byID[o.ID()] = o
	i, _ := slices.BinarySearchFunc(r.sorted, o, oldestFirst)
	r.sorted = slices.Insert(r.sorted, i, o)
	return o, nil
}

func oldestFirst(a, b domain.Order) int { return domain.ListingLess(b, a) }

// List applies the domain's rule directly.
func (r *OrderRepository) List(_ context.Context, q domain.OrderQuery) ([]domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	// end is one past the newest order listed after the cursor: the first
	// index whose order is listed before the cursor, or at it.
	end := len(r.sorted)
	if after, ok := q.After(); ok {
		end, _ = slices.BinarySearchFunc(r.sorted, after, func(o domain.Order, p domain.OrderPosition) int {
			if after.Before(o.Position()) {
				return -1
			}
			return 1
		})
	}
	out := make([]domain.Order, 0, min(q.Limit(), 64))
	for i := end - 1; i >= 0 && len(out) < q.Limit(); i-- {
		if q.Matches(r.sorted[i]) {
			out = append(out, r.sorted[i])
		}
	}
	return out, nil
}

// ByKey returns the order saved under key.
func (r *OrderRepository) ByKey(_ context.Context, key string) (domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	o, ok := r.byKey[key]
	if !ok {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	return o, nil
}

// Forgo returns the order saved under key, or refuses denied orders under
// key from now on; one lock makes it one step with Save.
func (r *OrderRepository) Forgo(_ context.Context, key string) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o, ok := r.byKey[key]; ok {
		return o, nil
	}
	r.forgone[key] = true
	return domain.Order{}, ports.ErrOrderNotFound
}

// ByID returns the order with id.
func (r *OrderRepository) ByID(_ context.Context, id int64) (domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	o, ok := r.byID[id]
	if !ok {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	return o, nil
}
