package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"stockd/adapters/csv"
	httpapi "stockd/adapters/http"
	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/adapters/postgres"
	"stockd/adapters/redis"
	"stockd/ports"
)

// stores is the set of adapters chosen by the configuration.
type stores struct {
	prices  ports.PriceStore
	credits ports.CreditStore
	orders  ports.OrderRepository
	keys    ports.IdempotencyStore
	tokens  ports.TokenStore
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
	fail := func(err error) (*stores, error) {
		st.close()
		return nil, err
	}
	switch cfg.PriceStore {
	case "memory":
		credits := memory.NewCreditStore()
		for _, u := range cfg.SeedUsers {
			if err := credits.SetCredit(ctx, u.User, u.Credit); err != nil {
				return nil, fmt.Errorf("SEED_USERS: %w", err)
			}
		}
		st.prices, st.credits, st.keys = memory.NewPriceStore(), credits, memory.NewIdempotencyStore(st.clock)
		st.tokens = memory.NewTokenStore()
	case "redis":
		client, err := redis.Open(strings.Split(cfg.RedisAddr, ","))
		if client == nil {
			return fail(fmt.Errorf("REDIS_ADDR: %w", err))
		}
		st.closers = append(st.closers, client.Close)
		if err != nil {
			if !longRunning {
				return fail(err)
			}
			log.Warn("redis is unavailable; starting anyway and retrying", "addr", cfg.RedisAddr, "error", err)
		}
		st.prices, st.credits, st.keys = redis.NewPriceStore(client), redis.NewCreditStore(client), redis.NewIdempotencyStore(client)
		st.tokens = redis.NewTokenStore(client)
		st.checks = append(st.checks, httpapi.Check{Name: "redis", Ping: func(ctx context.Context) error { return redis.Ping(ctx, client) }})
	}
	switch cfg.OrderStore {
	case "memory":
		st.orders = memory.NewOrderRepository()
	case "postgres":
		pool, err := postgres.Open(cfg.DatabaseURL)
		if err != nil {
			return fail(err)
		}
		st.closers = append(st.closers, pool.Close)
		st.orders = postgres.NewOrderRepository(pool)
		// A schema that is behind is refused when the server answers; when
		// it does not, the service starts and readiness keeps asking.
		switch err := postgres.CheckSchema(ctx, pool); {
		case errors.Is(err, postgres.ErrSchemaBehind):
			return fail(fmt.Errorf("DATABASE_URL: %w", err))
		case err != nil && !longRunning:
			return fail(err)
		case err != nil:
			log.Warn("postgres is unavailable; starting anyway and retrying", "error", err)
		}
		st.checks = append(st.checks, httpapi.Check{Name: "postgres", Ping: func(ctx context.Context) error {
			if err := postgres.Ping(ctx, pool); err != nil {
				return err
			}
			return postgres.CheckSchema(ctx, pool)
		}})
	}
	return st, nil
}

// openSource builds the price source of cfg; the Kafka consumer is closed
// with st and reports to readiness.
func openSource(cfg Config, st *stores, log *slog.Logger, reg prometheus.Registerer) (ports.PriceSource, error) {
	if cfg.PriceSource == "csv" {
		return csv.NewSource(cfg.PriceCSV, cfg.Stocks), nil
	}
	src, err := kafka.NewSource(kafka.SourceConfig{
		Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup,
		Stocks: cfg.Stocks, Logger: log, Registry: reg,
	})
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, src.Close)
	st.checks = append(st.checks, httpapi.Check{Name: "kafka", Ping: src.Ping})
	return src, nil
}
