package memory

import (
	"context"
	"sync"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.PriceStore = (*PriceStore)(nil)

// PriceStore keeps price histories in memory and tells its feed the minutes
// each merge changes.
type PriceStore struct {
	mu        sync.RWMutex
	histories map[string]*domain.PriceHistory
	feed      *PriceFeed
}

// NewPriceStore returns an empty store with its own feed (see Feed).
func NewPriceStore() *PriceStore {
	return &PriceStore{histories: make(map[string]*domain.PriceHistory), feed: NewPriceFeed()}
}

// Feed is where the store publishes the minutes each merge changes.
func (s *PriceStore) Feed() *PriceFeed { return s.feed }

// Merge folds each history into the stored one.
func (s *PriceStore) Merge(_ context.Context, histories map[string]*domain.PriceHistory) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for stock, h := range histories {
		stored := s.histories[stock]
		if stored == nil {
			stored = domain.NewPriceHistory()
			s.histories[stock] = stored
		}
		if !s.feed.Watching(stock) {
			stored.Absorb(h)
			continue
		}
		before := stored.Series()
		stored.Absorb(h)
		s.feed.Publish(stock, stored.Series().ChangedFrom(before))
	}
	return nil
}

// Series renders the stored history of stock.
func (s *PriceStore) Series(_ context.Context, stock string) (domain.MinuteSeries, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.histories[stock]
	if h == nil {
		return domain.NewPriceHistory().Series(), nil
	}
	return h.Series(), nil
}

// Latest returns the price of the last minute of stock.
func (s *PriceStore) Latest(_ context.Context, stock string) (int64, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.histories[stock]
	if h == nil {
		return 0, false, nil
	}
	p, ok := h.Latest()
	return p, ok, nil
}
