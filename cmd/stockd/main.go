// Command stockd is the service's single binary and its one composition
// root: it parses the configuration, picks the adapters and runs a command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	httpapi "stockd/adapters/http"
	"stockd/adapters/kafka"
	"stockd/adapters/postgres"
	"stockd/app"
)

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
	if cmd == "-h" || cmd == "--help" || cmd == "help" || (len(args) > 0 && (args[0] == "-h" || args[0] == "--help")) {
		fmt.Fprint(stdout, usage())
		return nil
	}
	cfg, err := parseConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	switch cmd {
	case "":
		return runAll(ctx, cfg, log, reg)
	case "serve":
		return runServe(ctx, cfg, log, reg)
	case "update":
		return runUpdate(ctx, cfg, log, reg)
	case "seed-users":
		return runSeedUsers(ctx, cfg, log)
	case "migrate":
		return runMigrate(ctx, cfg, log)
	case "health":
		addr := cfg.HTTPAddr
		if len(args) == 1 {
			addr = args[0]
		}
		return runHealth(ctx, addr)
	case "produce":
		return runProduce(ctx, cfg, log)
	case "token":
		if len(args) != 1 || args[0] == "" {
			return fmt.Errorf("%w: stockd token USER", errUsage)
		}
		return runToken(ctx, cfg, log, args[0], stdout)
	}
	return fmt.Errorf("%w: unknown command %q (stockd --help lists them)", errUsage, cmd)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by parseConfig
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// runAll is `stockd` with no command: the updater and the API in one
// process. A file source is applied before the API starts, so that the
// first request sees the prices; a topic is followed alongside the API.
func runAll(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) error {
	st, err := openStores(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer st.close()
	ingest, err := newIngest(cfg, st, log, reg)
	if err != nil {
		return err
	}
	if cfg.PriceSource == "csv" {
		if err := ingest.Run(ctx); err != nil {
			return err
		}
		return serve(ctx, cfg, st, log, reg)
	}
	return runTogether(ctx, ingest.Run, func(ctx context.Context) error {
		return serve(ctx, cfg, st, log, reg)
	})
}

// runTogether runs a and b until ctx ends or either returns; the first to
// return stops the other. It is how a topic is followed beside a server.
func runTogether(ctx context.Context, a, b func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 1)
	go func() {
		errs <- b(ctx)
		cancel()
	}()
	errA := a(ctx)
	cancel()
	return errors.Join(errA, <-errs)
}

func runServe(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) error {
	st, err := openStores(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer st.close()
	return serve(ctx, cfg, st, log, reg)
}

func runUpdate(ctx context.Context, cfg Config, log *slog.Logger, reg *prometheus.Registry) error {
	// With a topic, update is long-running: it starts while the store is
	// down and retries each batch until it is back.
	st, err := openStores(ctx, cfg, log, cfg.PriceSource == "kafka")
	if err != nil {
		return err
	}
	defer st.close()
	ingest, err := newIngest(cfg, st, log, reg)
	if err != nil {
		return err
	}
	if cfg.PriceSource == "csv" {
		return ingest.Run(ctx)
	}
	// A standalone updater serves /healthz, /readyz and /metrics on
	// UPDATER_ADDR, so that its lag and dead letters can be watched.
	// An updater nobody can watch does not run: a server that cannot
	// listen stops it.
	return runTogether(ctx, ingest.Run, func(ctx context.Context) error {
		if err := listenAndServe(ctx, cfg.UpdaterAddr, httpapi.NewOpsHandler(st.checks, reg, log), log); err != nil {
			return fmt.Errorf("UPDATER_ADDR: %w", err)
		}
		return nil
	})
}

// openForWrite opens the stores of a one-shot command that writes to the
// price store, warning that a memory store dies with the command.
func openForWrite(ctx context.Context, cfg Config, log *slog.Logger, what string) (*stores, error) {
	st, err := openStores(ctx, cfg, log, false)
	if err != nil {
		return nil, err
	}
	if cfg.PriceStore == "memory" {
		log.Warn("PRICE_STORE=memory: " + what + " live only in this process; use PRICE_STORE=redis")
	}
	return st, nil
}

func runSeedUsers(ctx context.Context, cfg Config, log *slog.Logger) error {
	st, err := openForWrite(ctx, cfg, log, "the users")
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

func runMigrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	versions, err := postgres.Migrate(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	log.Info("database migrated", "applied", versions)
	return nil
}

func runProduce(ctx context.Context, cfg Config, log *slog.Logger) error {
	sum, err := kafka.ProduceFile(ctx, kafka.ProducerConfig{Brokers: cfg.KafkaBrokers, Topic: cfg.KafkaTopic}, cfg.PriceCSV, cfg.Stocks)
	if err != nil {
		return err
	}
	log.Info("ticks produced", "records", sum.Records, "topic", cfg.KafkaTopic, "elapsed", sum.Elapsed.String(),
		"records_per_second", int(float64(sum.Records)/sum.Elapsed.Seconds()))
	return nil
}

// runHealth asks the server on addr (HTTP_ADDR by default) for /healthz:
// the image's health check, which has no shell or curl to do it.
func runHealth(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}

// runToken mints a token for user and prints it, once: only its hash is
// stored.
func runToken(ctx context.Context, cfg Config, log *slog.Logger, user string, stdout io.Writer) error {
	st, err := openForWrite(ctx, cfg, log, "tokens")
	if err != nil {
		return err
	}
	defer st.close()
	tokens, err := app.NewTokens(st.tokens)
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

func newIngest(cfg Config, st *stores, log *slog.Logger, reg *prometheus.Registry) (*app.IngestTicks, error) {
	source, err := openSource(cfg, st, log, reg)
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

// serve runs the API until ctx ends, then drains in-flight requests.
func serve(ctx context.Context, cfg Config, st *stores, log *slog.Logger, reg *prometheus.Registry) error {
	handler, err := newHandler(cfg, st, log, reg)
	if err != nil {
		return err
	}
	settle, err := app.NewSettlePendingOrders(st.credits, st.orders, st.keys, st.clock, 30*time.Second, log)
	if err != nil {
		return err
	}
	go settleLoop(ctx, settle, log)

	if err := listenAndServe(ctx, cfg.HTTPAddr, handler, log); err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	return nil
}

// listenAndServe serves handler on addr until ctx ends, then drains
// in-flight requests.
func listenAndServe(ctx context.Context, addr string, handler http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(addr, handler)
	log.Info("serving", "addr", ln.Addr().String())
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errs; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newHandler(cfg Config, st *stores, log *slog.Logger, reg *prometheus.Registry) (http.Handler, error) {
	buy, err := app.NewBuyStock(cfg.Stocks, st.prices, st.credits, st.credits, st.orders, st.keys, st.clock)
	if err != nil {
		return nil, err
	}
	list, err := app.NewListOrders(st.orders, st.clock, cfg.Location)
	if err != nil {
		return nil, err
	}
	prices, err := app.NewGetPrices(cfg.Stocks, st.prices)
	if err != nil {
		return nil, err
	}
	deps := httpapi.Deps{
		BuyStock: buy, ListOrders: list, GetPrices: prices, RateLimit: cfg.RateLimit,
		Checks: st.checks, Registry: reg, Logger: log,
	}
	if cfg.Auth == "tokens" {
		if deps.Tokens, err = app.NewTokens(st.tokens); err != nil {
			return nil, err
		}
	}
	return httpapi.NewHandler(deps), nil
}

// settleLoop records pending orders left by a crash or an order store
// outage, at start and then every few seconds.
func settleLoop(ctx context.Context, settle *app.SettlePendingOrders, log *slog.Logger) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		n, err := settle.Execute(ctx)
		if n > 0 {
			log.Info("pending orders recorded", "orders", n)
		}
		if err != nil && ctx.Err() == nil {
			log.Warn("settling pending orders", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
