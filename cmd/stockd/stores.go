package main

import (
	"context"
	"fmt"
	"log/slog"

	"stockd/adapters/csv"
	httpapi "stockd/adapters/http"
	"stockd/adapters/memory"
	"stockd/ports"
)

// stores is the set of adapters chosen by the configuration.
type stores struct {
	prices  ports.PriceStore
	credits ports.CreditStore
	orders  ports.OrderRepository
	keys    ports.IdempotencyStore
	clock   ports.Clock
	checks  []httpapi.Check
	closers []func()
}

func (s *stores) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// openStores builds the stores of cfg. longRunning commands start even when
// a server is down (readiness reports it); one-shot commands fail.
func openStores(ctx context.Context, cfg Config, log *slog.Logger, longRunning bool) (*stores, error) {
	st := &stores{clock: memory.SystemClock{}}
	switch cfg.PriceStore {
	case "memory":
		credits := memory.NewCreditStore()
		for _, u := range cfg.SeedUsers {
			if err := credits.SetCredit(ctx, u.User, u.Credit); err != nil {
				return nil, fmt.Errorf("SEED_USERS: %w", err)
			}
		}
		st.prices, st.credits, st.keys = memory.NewPriceStore(), credits, memory.NewIdempotencyStore(st.clock)
	default:
		return nil, fmt.Errorf("PRICE_STORE: %s is not built yet in this version", cfg.PriceStore)
	}
	switch cfg.OrderStore {
	case "memory":
		st.orders = memory.NewOrderRepository()
	default:
		return nil, fmt.Errorf("ORDER_STORE: %s is not built yet in this version", cfg.OrderStore)
	}
	return st, nil
}

func openSource(cfg Config) (ports.PriceSource, error) {
	switch cfg.PriceSource {
	case "csv":
		return csv.NewSource(cfg.PriceCSV, cfg.Stocks), nil
	}
	return nil, fmt.Errorf("PRICE_SOURCE: %s is not built yet in this version", cfg.PriceSource)
}
