package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"stockd/adapters/csv"
	httpapi "stockd/adapters/http"
	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/adapters/postgres"
	"stockd/adapters/redis"
	"stockd/app"
	"stockd/internal/config"
	"stockd/ports"
)

// stores is the set of adapters chosen by the configuration.
type stores struct {
	prices ports.PriceStore
	feed   ports.PriceFeed
	// runFeed holds the feed's subscription while the API serves; nil
	// when the feed needs no worker (memory).
	runFeed func(context.Context) error
	credits ports.CreditStore
	// buyPending forgets a bought order's pending record once it is
	// recorded: the credit store itself, or on Redis one that gathers the
	// forgets of concurrent buys into one round (redis.LaterSettler).
	buyPending ports.PendingSettler
	orders     ports.OrderRepository
	keys       ports.IdempotencyStore
	tokens     ports.TokenStore
	clock      ports.Clock
	// newRateLimiter builds the per-user rate limit every API process on
	// the store shares (in this process alone on memory).
	newRateLimiter func(limit int) (ports.RateLimiter, error)
	checks         []httpapi.Check
	closers        []func()
	// cursorSecret fetches the secret that authenticates paging cursors
	// from the order store, which every API process on it shares.
	cursorSecret func(context.Context) ([]byte, error)
}

func (s *stores) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// errMemoryStore refuses a command whose whole work would be kept in a
// memory store that ends with the command.
var errMemoryStore = errors.New("PRICE_STORE=memory keeps nothing after this command ends; set PRICE_STORE=redis")

// openForWrite opens the price store of a one-shot command that writes to
// it (seed-users, token), which must outlive the command. The order store
// is not opened: such a command neither reads nor waits for it.
func openForWrite(ctx context.Context, cfg config.Config, log *slog.Logger, command string) (*stores, error) {
	if cfg.PriceStore == config.PriceStoreMemory {
		return nil, fmt.Errorf("%s: %w", command, errMemoryStore)
	}
	return openStores(ctx, cfg, log, uses{}, nil)
}

// uses is what a command needs of the stores. A command opens, checks and
// waits for those alone, so that it never fails on a store it does not
// touch: seed-users and the updater must not refuse a database that
// `stockd migrate` has not reached yet (compose starts them side by side).
type uses struct {
	// orders opens the order store beside the price store (the API).
	orders bool
	// longRunning starts even when a server is down (readiness reports
	// it); a one-shot command fails instead.
	longRunning bool
}

// openStores builds the price store of cfg and, when u says so, its order
// store, traced by tp (nil: not traced).
func openStores(ctx context.Context, cfg config.Config, log *slog.Logger, u uses, tp trace.TracerProvider) (*stores, error) {
	st := &stores{clock: memory.SystemClock{}}
	fail := func(err error) (*stores, error) {
		st.close()
		return nil, err
	}
	switch cfg.PriceStore {
	case config.PriceStoreMemory:
		credits := memory.NewCreditStore()
		prices, err := memory.NewPriceStoreKeeping(memory.Retention{Clock: st.clock, Zone: cfg.Location, KeepDays: cfg.HistoryDays})
		if err != nil {
			return fail(fmt.Errorf("PRICE_HISTORY_DAYS: %w", err))
		}
		st.prices, st.feed, st.credits, st.keys = prices, prices.Feed(), credits, memory.NewIdempotencyStore(st.clock)
		st.buyPending = credits
		st.tokens = memory.NewTokenStore()
		st.newRateLimiter = func(limit int) (ports.RateLimiter, error) {
			return memory.NewRateLimiter(limit, time.Second, st.clock)
		}
		seed, err := app.NewSeedUsers(credits)
		if err == nil {
			err = seed.Execute(ctx, cfg.SeedUsers)
		}
		if err != nil {
			return fail(fmt.Errorf("SEED_USERS: %w", err))
		}
	case config.PriceStoreRedis:
		conn, err := redis.NewConnector(cfg.RedisAddrs)
		if err != nil {
			return fail(fmt.Errorf("REDIS_ADDR: %w", err))
		}
		st.closers = append(st.closers, conn.Close)
		if _, err := conn.Client(ctx); err != nil {
			if !u.longRunning {
				return fail(err)
			}
			log.Warn("redis is unavailable; starting anyway and retrying", "addr", cfg.RedisAddrs, "error", err)
		}
		st.prices, st.credits, st.keys = conn.PriceStore(redis.WithTimezone(cfg.Location), redis.WithHistoryDays(cfg.HistoryDays)), conn.CreditStore(redis.WithCreditTracing(tp)).WaitForReplicas(cfg.RedisWaitReplicas), conn.IdempotencyStore()
		later := conn.LaterSettler()
		// Closed before the connector (closers run last first): what is
		// queued is sent while the client is still open.
		st.buyPending, st.closers = later, append(st.closers, later.Close)
		feed := conn.PriceFeed(log)
		st.feed, st.runFeed = feed, feed.Run
		st.tokens = conn.TokenStore()
		st.newRateLimiter = func(limit int) (ports.RateLimiter, error) {
			return conn.RateLimiter(limit, time.Second)
		}
		st.checks = append(st.checks, httpapi.Check{Name: "redis", Ping: conn.Ping})
	}
	if !u.orders {
		return st, nil
	}
	switch cfg.OrderStore {
	case config.OrderStoreMemory:
		st.orders = memory.NewOrderRepository()
		// Orders in memory are this process's alone, and so are its cursors.
		secret := []byte(rand.Text())
		st.cursorSecret = func(context.Context) ([]byte, error) { return secret, nil }
	case config.OrderStorePostgres:
		pool, err := postgres.Open(cfg.DatabaseURL)
		if err != nil {
			return fail(err)
		}
		st.closers = append(st.closers, pool.Close)
		st.orders = postgres.NewOrderRepository(pool, postgres.WithOrderTracing(tp))
		st.cursorSecret = func(ctx context.Context) ([]byte, error) { return postgres.CursorSecret(ctx, pool) }
		// A schema that is behind is refused when the server answers; when
		// it does not, the service starts and readiness keeps asking.
		switch err := postgres.CheckSchema(ctx, pool); {
		case errors.Is(err, postgres.ErrSchemaBehind):
			return fail(fmt.Errorf("DATABASE_URL: %w", err))
		case err != nil && !u.longRunning:
			return fail(err)
		case err != nil:
			log.Warn("postgres is unavailable; starting anyway and retrying", "error", err)
		}
		st.checks = append(st.checks, httpapi.Check{Name: "postgres", Ping: func(ctx context.Context) error { return postgres.Ready(ctx, pool) }})
	}
	return st, nil
}

// openSource builds the price source of cfg; the Kafka consumer is closed
// with st and reports to readiness.
func openSource(cfg config.Config, st *stores, log *slog.Logger, reg prometheus.Registerer, tp trace.TracerProvider) (ports.PriceSource, error) {
	if cfg.PriceSource == config.PriceSourceCSV {
		return csv.NewSource(cfg.PriceCSV, cfg.Stocks, csv.Calendar{Default: cfg.DefaultDay(st.clock.Now()), Zone: cfg.Location}), nil
	}
	src, err := kafka.NewSource(kafka.SourceConfig{
		Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic, Group: cfg.KafkaGroup,
		Stocks: cfg.Stocks, Zone: cfg.Location, Logger: log, Registry: reg, TracerProvider: tp,
	})
	if err != nil {
		return nil, err
	}
	st.closers = append(st.closers, src.Close)
	st.checks = append(st.checks, httpapi.Check{Name: "kafka", Ping: src.Ping})
	return src, nil
}
