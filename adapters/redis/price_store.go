package redis

import (
	"context"
	"fmt"
	"sort"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.PriceStore = (*PriceStore)(nil)

// PriceStore keeps each stock's series as JSON under the stock's name.
type PriceStore struct {
	client rueidis.Client
}

// NewPriceStore returns a store on client.
func NewPriceStore(client rueidis.Client) *PriceStore { return &PriceStore{client: client} }

// Merge reads every stock of the batch in one MGET, merges in Go, and
// writes every stock in one pipelined round of compare-and-set scripts;
// a stock whose value changed meanwhile is read and merged again.
func (s *PriceStore) Merge(ctx context.Context, histories map[string]*domain.PriceHistory) error {
	todo := make([]string, 0, len(histories))
	for stock := range histories {
		todo = append(todo, stock)
	}
	sort.Strings(todo)
	for attempt := 0; len(todo) > 0; attempt++ {
		if attempt == maxCASAttempts {
			return fmt.Errorf("merge prices: %w", errContention)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		olds, err := s.client.Do(ctx, s.client.B().Mget().Key(todo...).Build()).ToArray()
		if err != nil {
			return fmt.Errorf("read prices: %w", translate(err))
		}
		execs := make([]rueidis.LuaExec, len(todo))
		for i, stock := range todo {
			old, err := olds[i].ToString()
			if err != nil && !rueidis.IsRedisNil(err) {
				return fmt.Errorf("read prices of %s: %w", stock, translate(err))
			}
			updated, err := mergeValue(stock, old, histories[stock])
			if err != nil {
				return err
			}
			execs[i] = rueidis.LuaExec{Keys: []string{stock, pendingKey}, Args: []string{old, updated}}
		}
		results := casScript.ExecMulti(ctx, s.client, execs...)
		var again []string
		for i, r := range results {
			ok, err := r.AsInt64()
			if err != nil {
				return fmt.Errorf("write prices of %s: %w", todo[i], translate(err))
			}
			if ok == 0 {
				again = append(again, todo[i])
			}
		}
		todo = again
	}
	return nil
}

// mergeValue folds h into the stored value old.
func mergeValue(stock, old string, h *domain.PriceHistory) (string, error) {
	stored, fields, err := decodeSeries(stock, []byte(old))
	if err != nil {
		return "", err
	}
	merged, err := domain.HistoryFromSeries(stored)
	if err != nil {
		return "", fmt.Errorf("%s: %w", stock, err)
	}
	merged.Absorb(h)
	b, err := encodeSeries(merged.Series(), fields)
	if err != nil {
		return "", fmt.Errorf("encode prices of %s: %w", stock, err)
	}
	return string(b), nil
}

// Series reads the stored series of stock.
func (s *PriceStore) Series(ctx context.Context, stock string) (domain.MinuteSeries, error) {
	raw, err := s.client.Do(ctx, s.client.B().Get().Key(stock).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return domain.NewPriceHistory().Series(), nil
	}
	if err != nil {
		return domain.MinuteSeries{}, fmt.Errorf("read prices of %s: %w", stock, translate(err))
	}
	stored, _, err := decodeSeries(stock, raw)
	if err != nil {
		return domain.MinuteSeries{}, err
	}
	h, err := domain.HistoryFromSeries(stored)
	if err != nil {
		return domain.MinuteSeries{}, fmt.Errorf("%s: %w", stock, err)
	}
	return h.Series(), nil
}

// Latest returns the price of the last minute of stock's series.
func (s *PriceStore) Latest(ctx context.Context, stock string) (int64, bool, error) {
	series, err := s.Series(ctx, stock)
	if err != nil {
		return 0, false, err
	}
	p, ok := series.Latest()
	return p, ok, nil
}
