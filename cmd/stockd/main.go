// Command stockd is the service's single binary and its one composition
// root: it parses the configuration, picks the adapters and runs a command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"stockd/adapters/csv"
	httpapi "stockd/adapters/http"
	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/adapters/postgres"
	"stockd/app"
	"stockd/internal/build"
	"stockd/internal/config"
)

// version is set at build time (`make build`, the Dockerfile):
// -ldflags "-X main.version=$(git describe --tags --always --dirty)".
var version string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		fmt.Fprintf(os.Stderr, "stockd: %s\n", msg)
		os.Exit(1)
	}
}

// errUsage is returned for a command line that is not understood.
var errUsage = errors.New("usage")

// run is the whole program, minus the process: main passes it the
// arguments, the environment and the output streams, and so can a test.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch {
	case cmd == "-h" || cmd == "--help" || cmd == "help" || (len(args) > 0 && (args[0] == "-h" || args[0] == "--help")):
		_, err := fmt.Fprint(stdout, usage)
		_, _ = fmt.Fprint(stdout, config.Help())
		return err
	case cmd == "version" || cmd == "--version" || cmd == "-v":
		_, err := fmt.Fprintln(stdout, build.Read(version))
		return err
	}
	cfg, err := config.Parse(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	// What a long-running command says at start: its version and what it
	// runs with (one-shot commands say nothing but their result, and a
	// bad configuration stays one line).
	started := func() {
		command := cmd
		if command == "" {
			command = "stockd"
		}
		log.Info("started", "command", command, "version", build.Read(version).Version,
			"config", config.Effective(getenv, cfg))
	}
	switch cmd {
	case "":
		return runService(ctx, cfg, log, role{ingest: true, api: true}, started)
	case "serve":
		return runService(ctx, cfg, log, role{api: true}, started)
	case "update":
		return runService(ctx, cfg, log, role{ingest: true}, started)
	case "seed-users":
		return runSeedUsers(ctx, cfg, log)
	case "migrate":
		versions, err := postgres.Migrate(ctx, cfg.DatabaseURL)
		if err == nil {
			log.Info("database migrated", "applied", versions)
		}
		return err
	case "health":
		addr := cfg.HTTPAddr
		if len(args) == 1 {
			addr = args[0]
		}
		return httpapi.Probe(ctx, addr)
	case "produce":
		return runProduce(ctx, cfg, log)
	case "reconcile":
		return runReconcile(ctx, cfg, log, args, stdout)
	case "token":
		if len(args) != 1 || args[0] == "" {
			return fmt.Errorf("%w: stockd token USER", errUsage)
		}
		return runToken(ctx, cfg, log, args[0], stdout)
	}
	return fmt.Errorf("%w: unknown command %q (stockd --help lists them)", errUsage, cmd)
}

const usage = `Usage: stockd [command]

Commands:
  (none)         ingest the price source, then serve the API, in one process
  serve          serve the HTTP API only
  update         run the price updater: apply PRICE_SOURCE to PRICE_STORE
  produce        send every row of PRICE_CSV to KAFKA_TOPIC
  migrate        apply the database migrations to DATABASE_URL
  seed-users     write the users of SEED_USERS into the price store
  token USER     mint an API token for USER
  reconcile      compare positions with the order ledger, exit 1 if they differ; --repair sets them
  health [ADDR]  exit 0 when the server on ADDR (default HTTP_ADDR) answers /healthz
  version        print the version (also --version, -v)

Environment (default):
`

// newRegistry is the metrics registry of a process: the Go runtime, the
// process, and the build.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), build.Read(version).Collector())
	return reg
}

// role is what a long-running command runs: the price updater, the API,
// or both (`stockd` with no command).
type role struct{ ingest, api bool }

// runService runs the parts of r in one errgroup (saying started first), which waits for all of
// them: the first to fail stops the others, and SIGTERM stops them all. A
// file source is applied before the API starts, so that the first request
// sees its prices; `update` with a file ends there. A topic is followed
// beside the API or, in `update`, beside the operations server on
// UPDATER_ADDR, without which its lag could not be watched.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, r role, started func()) error {
	if !r.api && cfg.PriceStore == config.PriceStoreMemory {
		return fmt.Errorf("update: %w", errMemoryStore)
	}
	tp, stopTracing, err := openTracing(ctx, cfg)
	if err != nil {
		return err
	}
	defer flushTraces(ctx, stopTracing, log)
	// Only `update` with a file is one-shot: it fails when a store is down.
	// The updater writes prices alone: only the API opens the order store.
	st, err := openStores(ctx, cfg, log, uses{orders: r.api, longRunning: r.api || cfg.PriceSource == config.PriceSourceKafka}, tp)
	if err != nil {
		return err
	}
	defer st.close()
	reg := newRegistry()
	var ingest *app.IngestTicks
	if r.ingest {
		if ingest, err = newIngest(cfg, st, log, reg, tp); err != nil {
			return err
		}
	}
	draining := &httpapi.Draining{}
	var api http.Handler
	var settle *app.SettlePendingOrders
	if r.api {
		if api, err = newHandler(cfg, st, log, reg, draining, tp); err != nil {
			return err
		}
		if settle, err = app.NewSettlePendingOrders(st.credits, st.orders, st.keys, st.clock, 30*time.Second, log); err != nil {
			return err
		}
	}
	if ingest != nil && cfg.PriceSource == config.PriceSourceCSV {
		if err := ingest.Run(ctx); err != nil || !r.api {
			return namePriceCSV(err, cfg.PriceCSV)
		}
		ingest = nil // applied
	}

	started() // what could fail at once has not
	g, ctx := errgroup.WithContext(ctx)
	serve := func(variable, addr string, h http.Handler, opts httpapi.ServeOptions) {
		opts.Logger = log
		g.Go(func() error {
			if err := httpapi.Serve(ctx, addr, h, opts); err != nil {
				return fmt.Errorf("%s: %w", variable, err)
			}
			return nil
		})
	}
	if ingest != nil {
		g.Go(func() error { return ingest.Run(ctx) })
	}
	if r.api {
		g.Go(func() error { return settle.Run(ctx, 10*time.Second) })
		if st.runFeed != nil {
			g.Go(func() error { return st.runFeed(ctx) })
		}
		serve("HTTP_ADDR", cfg.HTTPAddr, api, httpapi.ServeOptions{Draining: draining, DrainDelay: cfg.ShutdownDelay})
	} else {
		serve("UPDATER_ADDR", cfg.UpdaterAddr, httpapi.NewOpsHandler(st.checks, reg, log), httpapi.ServeOptions{})
	}
	if cfg.DebugAddr != "" {
		serve("DEBUG_ADDR", cfg.DebugAddr, httpapi.DebugHandler(), httpapi.ServeOptions{})
	}
	return g.Wait()
}

func newIngest(cfg config.Config, st *stores, log *slog.Logger, reg *prometheus.Registry, tp trace.TracerProvider) (*app.IngestTicks, error) {
	source, err := openSource(cfg, st, log, reg, tp)
	if err != nil {
		return nil, err
	}
	ticks := prometheus.NewCounter(prometheus.CounterOpts{Name: "stockd_ticks_applied_total", Help: "Ticks merged into the price store."})
	batches := prometheus.NewCounter(prometheus.CounterOpts{Name: "stockd_tick_batches_total", Help: "Batches of ticks merged into the price store."})
	reg.MustRegister(ticks, batches)
	return app.NewIngestTicks(source, st.prices, func(n, stocks int) {
		ticks.Add(float64(n))
		batches.Inc()
		log.Info("ticks applied", "ticks", n, "stocks", stocks, "source", cfg.PriceSource)
	})
}

func newHandler(cfg config.Config, st *stores, log *slog.Logger, reg *prometheus.Registry, draining *httpapi.Draining, tp trace.TracerProvider) (http.Handler, error) {
	// Each constructor refuses a missing dependency; one check for all.
	buy, err1 := app.NewBuyStock(cfg.Stocks, st.prices, st.credits, st.buyPending, st.orders, st.keys, st.clock)
	if err1 == nil {
		buy = buy.WithMaxPriceAge(cfg.MaxPriceAge, cfg.Location)
	}
	list, err2 := app.NewListOrders(st.orders, st.clock, cfg.Location)
	prices, err3 := app.NewGetPrices(cfg.Stocks, st.prices)
	users, err4 := app.NewGetUser(cfg.Stocks, st.credits)
	stocks, err5 := app.NewListStocks(cfg.Stocks, st.prices)
	watch, err6 := app.NewWatchPrices(cfg.Stocks, st.prices, st.feed)
	days, err7 := app.NewListDays(cfg.Stocks, st.prices)
	get, err8 := app.NewGetOrder(st.orders, st.clock, cfg.Location)
	positions, err9 := app.NewGetPositions(cfg.Stocks, st.credits, st.prices)
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9); err != nil {
		return nil, err
	}
	// A sale runs on the buy's steps and MAX_PRICE_AGE (see app.SellStock).
	sell, err := app.NewSellStock(buy, st.credits)
	if err != nil {
		return nil, err
	}
	deps := httpapi.Deps{
		BuyStock: buy, SellStock: sell, GetPositions: positions, ListOrders: list, GetOrder: get, GetPrices: prices, GetUser: users,
		CursorKey: []byte(cfg.CursorSecret), CursorSecret: st.cursorSecret, CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.TrustedProxies,
		ListStocks: stocks, ListDays: days, WatchPrices: watch, Zone: cfg.Location, Draining: draining,
		StreamLimitPerClient: cfg.StreamLimitPerClient, StreamLimit: httpapi.StreamCapacity(cfg.StreamLimit, log),
		Checks: slices.Concat(st.checks, []httpapi.Check{draining.Check()}), Registry: reg, Logger: log,
		TracerProvider: tp,
	}
	if cfg.RateLimit > 0 {
		// Addresses are limited in this process (the limit guards it
		// before a token is known); users across every process.
		addrs, err1 := memory.NewRateLimiter(cfg.RateLimit, time.Second, st.clock)
		users, err2 := st.newRateLimiter(cfg.RateLimit)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("RATE_LIMIT: %w", err)
		}
		deps.AddressLimiter, deps.UserLimiter = addrs, users
	}
	if cfg.Auth == config.AuthTokens {
		var err error
		if deps.Tokens, err = app.NewTokens(st.tokens, users); err != nil {
			return nil, err
		}
	}
	return httpapi.NewHandler(deps), nil
}

func runSeedUsers(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	st, err := openForWrite(ctx, cfg, log, "seed-users")
	if err != nil {
		return err
	}
	defer st.close()
	seed, err := app.NewSeedUsers(st.credits)
	if err != nil {
		return err
	}
	if err := seed.Execute(ctx, cfg.SeedUsers); err != nil {
		return err
	}
	log.Info("users seeded", "users", len(cfg.SeedUsers))
	return nil
}

func runProduce(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	start := time.Now()
	n, err := kafka.Produce(ctx, kafka.ProducerConfig{Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic}, csv.NewSource(cfg.PriceCSV, cfg.Stocks, csv.Calendar{Default: cfg.DefaultDay(time.Now()), Zone: cfg.Location}))
	if err != nil {
		return namePriceCSV(err, cfg.PriceCSV)
	}
	elapsed := time.Since(start)
	log.Info("ticks produced", "records", n, "topic", cfg.KafkaTopic, "elapsed_ms", ms(elapsed),
		"records_per_second", int(float64(n)/elapsed.Seconds()))
	return nil
}

// namePriceCSV names the variable when the file of PRICE_CSV cannot be
// opened, as every configuration error does; a bad row already says
// file:line.
func namePriceCSV(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return fmt.Errorf("PRICE_CSV: %w", err)
	}
	return err
}

// runToken mints a token for user and prints it, once: only its hash is
// stored.
func runToken(ctx context.Context, cfg config.Config, log *slog.Logger, user string, stdout io.Writer) error {
	st, err := openForWrite(ctx, cfg, log, "token")
	if err != nil {
		return err
	}
	defer st.close()
	users, err := app.NewGetUser(cfg.Stocks, st.credits)
	if err != nil {
		return err
	}
	tokens, err := app.NewTokens(st.tokens, users)
	if err != nil {
		return err
	}
	token, err := tokens.Mint(ctx, user)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// ms is a duration as the logs write every one: milliseconds, a float.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
