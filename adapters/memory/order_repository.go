package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.OrderRepository = (*OrderRepository)(nil)

// OrderRepository keeps orders in memory: each once, by ID (IDs are 1, 2,
// 3... in saving order), with the listing order as IDs, oldest first (the
// listing order reversed), so that a new order, usually the newest, is an
// append, and a page is a binary search and a scan backwards. Only the
// orders themselves hold pointers: with hundreds of thousands of orders,
// copies of them in the indexes were what the garbage collector scanned
// and what an insert moved under the lock (the p99 of BuyStock on memory
// stores).
type OrderRepository struct {
	mu      sync.RWMutex
	orders  []domain.Order   // orders[id-1] is the order with that ID
	sorted  []int64          // IDs in reversed listing order: newest last
	byKey   map[string]int64 // order key -> ID
	forgone map[string]bool  // keys no denied order may be stored under (Forgo)
}

// NewOrderRepository returns an empty repository.
func NewOrderRepository() *OrderRepository {
	return &OrderRepository{byKey: make(map[string]int64), forgone: make(map[string]bool)}
}

// Save stores o with the next ID, once per key.
func (r *OrderRepository) Save(_ context.Context, o domain.Order) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.byKey[o.Key()]; ok {
		return r.orders[id-1], nil
	}
	if o.Status() == domain.Denied && r.forgone[o.Key()] {
		return domain.Order{}, fmt.Errorf("save order %s: %w", o.Key(), ports.ErrOrderForgone)
	}
	o = o.WithID(int64(len(r.orders)) + 1)
	r.orders = append(r.orders, o)
	r.byKey[o.Key()] = o.ID()
	i, _ := slices.BinarySearchFunc(r.sorted, o, func(id int64, o domain.Order) int {
		return domain.ListingLess(o, r.orders[id-1])
	})
	r.sorted = slices.Insert(r.sorted, i, o.ID())
	return o, nil
}

// List applies the domain's rule directly.
func (r *OrderRepository) List(_ context.Context, q domain.OrderQuery) ([]domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	// end is one past the newest order listed after the cursor: the first
	// index whose order is listed before the cursor, or at it.
	end := len(r.sorted)
	if after, ok := q.After(); ok {
		end, _ = slices.BinarySearchFunc(r.sorted, after, func(id int64, p domain.OrderPosition) int {
			if after.Before(r.orders[id-1].Position()) {
				return -1
			}
			return 1
		})
	}
	out := make([]domain.Order, 0, min(q.Limit(), 64))
	for i := end - 1; i >= 0 && len(out) < q.Limit(); i-- {
		if o := r.orders[r.sorted[i]-1]; q.Matches(o) {
			out = append(out, o)
		}
	}
	return out, nil
}

// ByKey returns the order saved under key.
func (r *OrderRepository) ByKey(_ context.Context, key string) (domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, ok := r.byKey[key]
	if !ok {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	return r.orders[id-1], nil
}

// Forgo returns the order saved under key, or refuses denied orders under
// key from now on; one lock makes it one step with Save.
func (r *OrderRepository) Forgo(_ context.Context, key string) (domain.Order, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.byKey[key]; ok {
		return r.orders[id-1], nil
	}
	r.forgone[key] = true
	return domain.Order{}, ports.ErrOrderNotFound
}

// ByID returns the order with id.
func (r *OrderRepository) ByID(_ context.Context, id int64) (domain.Order, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if id < 1 || id > int64(len(r.orders)) {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	return r.orders[id-1], nil
}

// AcceptedOrders copies the accepted orders (of user, if given) under the
// lock and calls each with them in ledger order, without it.
func (r *OrderRepository) AcceptedOrders(_ context.Context, user string, each func(domain.Order) error) error {
	r.mu.RLock()
	var ledger []domain.Order
	for _, o := range r.orders {
		if o.Status() == domain.Accepted && (user == "" || o.User() == user) {
			ledger = append(ledger, o)
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(ledger, func(a, b domain.Order) int {
		return cmp.Or(cmp.Compare(a.User(), b.User()), cmp.Compare(a.Stock(), b.Stock()),
			a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(a.ID(), b.ID()))
	})
	for _, o := range ledger {
		if err := each(o); err != nil {
			return err
		}
	}
	return nil
}
