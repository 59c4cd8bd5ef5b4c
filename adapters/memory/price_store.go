package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"stockd/domain"
	"stockd/internal/pricefeed"
	"stockd/ports"
)

var _ ports.PriceStore = (*PriceStore)(nil)

// PriceStore keeps every stock's series by trading day in memory, by the
// domain's rule of days (domain.StockDays), and tells its feed the minutes
// each merge changes in a stock's latest day.
type PriceStore struct {
	mu        sync.RWMutex
	stocks    map[string]*domain.StockDays
	feed      *pricefeed.Hub
	retention Retention
}

// Retention is how long a store keeps an earlier day: KeepDays
// (PRICE_HISTORY_DAYS) full days after it ends, judged in Zone by Clock.
// The zero Retention keeps every day.
type Retention struct {
	Clock    ports.Clock
	Zone     *time.Location
	KeepDays int
}

// NewPriceStore returns an empty store that keeps every day, with its own
// feed (see Feed).
func NewPriceStore() *PriceStore {
	return &PriceStore{stocks: make(map[string]*domain.StockDays), feed: pricefeed.NewHub()}
}

// NewPriceStoreKeeping returns an empty store that forgets an earlier day
// as r says: a day past keeping is neither listed nor served, a late tick
// for it is dropped, and the next merge of its stock frees it. The latest
// day is always kept.
func NewPriceStoreKeeping(r Retention) (*PriceStore, error) {
	if r.Clock == nil || r.KeepDays < 1 {
		return nil, fmt.Errorf("memory: retention needs a clock and at least one day, got %d", r.KeepDays)
	}
	if r.Zone == nil {
		r.Zone = time.UTC
	}
	s := NewPriceStore()
	s.retention = r
	return s, nil
}

// Feed is where the store publishes the minutes each merge changes.
func (s *PriceStore) Feed() *pricefeed.Hub { return s.feed }

// oldest is the earliest earlier day kept now (zero: every day).
func (s *PriceStore) oldest() domain.Day {
	r := s.retention
	if r.Clock == nil {
		return 0
	}
	return domain.OldestKept(domain.DayOf(r.Clock.Now().In(r.Zone)), r.KeepDays)
}

// Merge folds each stock's histories by day into its stored days, under
// one lock: a merge is atomic for every stock of it.
func (s *PriceStore) Merge(_ context.Context, histories map[string]domain.DayHistories) error {
	oldest := s.oldest()
	s.mu.Lock()
	defer s.mu.Unlock()
	for stock, days := range histories {
		stored := s.stocks[stock]
		if stored == nil {
			stored = domain.NewStockDays()
			s.stocks[stock] = stored
		}
		stored.Expire(oldest)
		if !s.feed.Watching(stock) {
			stored.Merge(days, oldest)
			continue
		}
		before, _ := stored.Series(0)
		if m := stored.Merge(days, oldest); m.LatestChanged {
			after, _ := stored.Series(0)
			s.feed.Publish(stock, domain.LatestChange(before, after))
		}
	}
	return nil
}

// Series renders stock's series of day (its latest day for zero).
func (s *PriceStore) Series(_ context.Context, stock string, day domain.Day) (domain.MinuteSeries, error) {
	oldest := s.oldest()
	s.mu.RLock()
	defer s.mu.RUnlock()
	stored := s.stocks[stock]
	if stored == nil {
		stored = domain.NewStockDays()
	}
	if !day.IsZero() && day != stored.Latest() && day < oldest {
		return domain.MinuteSeries{}, fmt.Errorf("%w: %s of %s", ports.ErrDayNotFound, day, stock)
	}
	series, ok := stored.Series(day)
	if !ok {
		return domain.MinuteSeries{}, fmt.Errorf("%w: %s of %s", ports.ErrDayNotFound, day, stock)
	}
	return series, nil
}

// Days lists the days kept of stock, ascending.
func (s *PriceStore) Days(_ context.Context, stock string) ([]domain.Day, error) {
	oldest := s.oldest()
	s.mu.RLock()
	defer s.mu.RUnlock()
	stored := s.stocks[stock]
	if stored == nil {
		return []domain.Day{}, nil
	}
	days := stored.Days()
	kept := days[:0]
	for _, d := range days {
		if d >= oldest || d == stored.Latest() {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

// Latest returns the last close of stock's latest day.
func (s *PriceStore) Latest(_ context.Context, stock string) (domain.Quote, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	stored := s.stocks[stock]
	if stored == nil {
		return domain.Quote{}, false, nil
	}
	q, ok := stored.Quote()
	return q, ok, nil
}

// LatestQuotes returns the quote of each of stocks (see
// ports.QuotesReader), all as of one moment.
func (s *PriceStore) LatestQuotes(_ context.Context, stocks []string) ([]domain.Quote, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	quotes := make([]domain.Quote, len(stocks))
	for i, stock := range stocks {
		if stored := s.stocks[stock]; stored != nil {
			quotes[i], _ = stored.Quote()
		}
	}
	return quotes, nil
}
