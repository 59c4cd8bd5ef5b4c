package memory

import "stockd/domain"

// PutUndated stores series under stock as its latest series with no day,
// as a store that predates days would hold it: only for running the
// undated cases of the price store contract on this store too.
func (s *PriceStore) PutUndated(stock string, series domain.MinuteSeries) error {
	h, err := domain.HistoryFromSeries(series)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stocks[stock] = domain.LoadStockDays(0, h, nil)
	return nil
}
