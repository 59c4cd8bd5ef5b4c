// Package config is the service's configuration: every environment
// variable, its default and meaning (the single source of --help), parsed
// once into typed values. Adapters never read the environment themselves;
// cmd/stockd passes them what they need from here.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"stockd/domain"
)

// Setting is one environment variable: its name, default and meaning. The
// list below is the single source of the defaults and of --help.
type Setting struct {
	Name, Default, Help string
}

// Settings lists every variable, in the order --help shows them.
var Settings = []Setting{
	{"HTTP_ADDR", ":8080", "listen address of the API"},
	{"UPDATER_ADDR", ":8081", "listen address of /healthz, /readyz and /metrics of update with kafka"},
	{"DEBUG_ADDR", "", "listen address of net/http/pprof; off when empty (never the API's port)"},
	{"PRICE_STORE", "memory", "memory or redis: where price histories and user credit live"},
	{"ORDER_STORE", "memory", "memory or postgres: where orders live"},
	{"PRICE_SOURCE", "csv", "csv or kafka: what the price updater reads"},
	{"PRICE_CSV", "price_data.csv", "the CSV file of the csv source and of produce"},
	{"REDIS_ADDR", "localhost:6379", "comma-separated Redis seed addresses (host:port); a cluster is detected"},
	{"REDIS_WAIT_REPLICAS", "0", "replicas that must confirm a debit (Redis WAIT) before it is acknowledged; 0 acknowledges once the master has it"},
	{"DATABASE_URL", "postgres://postgres@localhost:5432/stocks?sslmode=disable", "PostgreSQL URL"},
	{"KAFKA_BROKERS", "localhost:9092", "comma-separated Kafka seed brokers"},
	{"KAFKA_TOPIC", "main_topic", "the price topic"},
	{"KAFKA_GROUP", "price-updater", "consumer group of update"},
	{"APP_TIMEZONE", "UTC", "IANA zone in which \"created today\" and trading days are judged"},
	{"PRICE_DATE", "", "trading day (YYYY-MM-DD) of CSV rows without a date; empty: today in APP_TIMEZONE when the command starts"},
	{"PRICE_HISTORY_DAYS", "30", "how many full days an earlier day's series is kept after that day"},
	{"MAX_PRICE_AGE", "", "refuse buys on a price older than this (15m, 2h); empty or 0: off"},
	{"SEED_USERS", "user1:150000000,user2:6000000000", "name:credit pairs for seed-users and the in-memory store"},
	{"STOCKS", "stock1,stock2,stock3", "the stock names the service accepts"},
	{"STOCKS_FILE", "", "a file of stock names, one a line (blank lines and # comments ignored), instead of STOCKS"},
	{"AUTH", "off", "off or tokens"},
	{"RATE_LIMIT", "", "requests per second per user; 0 is off (50 with tokens, else 0)"},
	{"CORS_ORIGINS", "", "comma-separated browser origins allowed to call the API (none by default)"},
	{"TRUSTED_PROXIES", "", "comma-separated addresses or CIDRs of load balancers whose X-Forwarded-For names the client (none: the peer is the client)"},
	{"CURSOR_SECRET", "", "key of the paging cursors, the same in every API process, 16 characters or more (empty: one kept in the order store)"},
	{"STREAM_LIMIT_PER_CLIENT", "32", "open price streams per client address; past it a stream is 429"},
	{"STREAM_LIMIT", "10000", "open price streams per process; past it a stream is 503 (lowered when the descriptor limit leaves no headroom)"},
	{"SHUTDOWN_DELAY", "5s", "how long the API keeps serving after SIGTERM with /readyz at 503; 0 stops at once"},
	{"LOG_LEVEL", "info", "debug, info, warn or error"},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector (http://localhost:4318): when set, traces are exported there (the other OTEL_* variables apply); empty: off"},
}

// PriceStoreKind is where price histories and user credit live.
type PriceStoreKind string

// The price stores of PRICE_STORE.
const (
	PriceStoreMemory PriceStoreKind = "memory"
	PriceStoreRedis  PriceStoreKind = "redis"
)

// OrderStoreKind is where orders live.
type OrderStoreKind string

// The order stores of ORDER_STORE.
const (
	OrderStoreMemory   OrderStoreKind = "memory"
	OrderStorePostgres OrderStoreKind = "postgres"
)

// PriceSourceKind is what the price updater reads.
type PriceSourceKind string

// The price sources of PRICE_SOURCE.
const (
	PriceSourceCSV   PriceSourceKind = "csv"
	PriceSourceKafka PriceSourceKind = "kafka"
)

// AuthMode says whether the API asks for tokens.
type AuthMode string

// The modes of AUTH.
const (
	AuthOff    AuthMode = "off"
	AuthTokens AuthMode = "tokens"
)

// minCursorSecret is the shortest CURSOR_SECRET accepted: a shorter key
// could be guessed, and a guessed key forges cursors.
const minCursorSecret = 16

// Config is the whole configuration, parsed once at start.
type Config struct {
	HTTPAddr    string
	UpdaterAddr string
	DebugAddr   string // "" is off
	PriceStore  PriceStoreKind
	OrderStore  OrderStoreKind
	PriceSource PriceSourceKind
	PriceCSV    string
	RedisAddrs  []string
	// RedisWaitReplicas is how many replicas must have a debit before the
	// service acknowledges it, so that a failover cannot lose it.
	RedisWaitReplicas int
	DatabaseURL       string
	KafkaBrokers      []string
	KafkaTopic        string
	KafkaGroup        string
	Location          *time.Location
	PriceDate         domain.Day // zero: today in Location (see DefaultDay)
	HistoryDays       int        // PRICE_HISTORY_DAYS, at least 1
	MaxPriceAge       time.Duration
	SeedUsers         []domain.UserCredit
	Stocks            domain.Stocks
	Auth              AuthMode
	RateLimit         int
	CORSOrigins       []string
	// TrustedProxies are the balancers whose X-Forwarded-For is believed,
	// so that limits per client address count clients, not the balancer.
	TrustedProxies []*net.IPNet
	CursorSecret   string // "" keeps the secret in the order store
	ShutdownDelay  time.Duration
	LogLevel       slog.Level

	StreamLimitPerClient int
	StreamLimit          int
	// Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only
	// form) is set. The OpenTelemetry SDK reads that variable and the other
	// OTEL_* ones itself: the standard names, which every collector's
	// documentation uses, are worth that one exception.
	Tracing bool
}

// oneOf returns the value of a closed set that v names, case-insensitively.
func oneOf[T ~string](name, v string, allowed ...T) (T, error) {
	if i := slices.Index(allowed, T(strings.ToLower(v))); i >= 0 {
		return allowed[i], nil
	}
	words := make([]string, len(allowed))
	for i, a := range allowed {
		words[i] = string(a)
	}
	return "", fmt.Errorf("%s: unknown value %q (want %s)", name, v, strings.Join(words, " or "))
}

// list splits a comma-separated value, dropping empty items.
// parseNet reads a CIDR, or an address as the network of that address
// alone.
func parseNet(s string) (*net.IPNet, error) {
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n, nil
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
	}
	bits := 8 * len(ip.To16())
	if v4 := ip.To4(); v4 != nil {
		ip, bits = v4, 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}, nil
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Parse reads the environment through getenv. Every error names the
// variable at fault.
func Parse(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, s := range Settings {
			if s.Name == name {
				return s.Default
			}
		}
		panic("unknown setting " + name)
	}
	c := Config{
		HTTPAddr: get("HTTP_ADDR"), UpdaterAddr: get("UPDATER_ADDR"), DebugAddr: get("DEBUG_ADDR"),
		PriceCSV: get("PRICE_CSV"), DatabaseURL: get("DATABASE_URL"),
		KafkaTopic: get("KAFKA_TOPIC"), KafkaGroup: get("KAFKA_GROUP"),
		RedisAddrs: list(get("REDIS_ADDR")), KafkaBrokers: list(get("KAFKA_BROKERS")),
		CORSOrigins: list(get("CORS_ORIGINS")), CursorSecret: get("CURSOR_SECRET"),
	}
	var err error
	if c.PriceStore, err = oneOf("PRICE_STORE", get("PRICE_STORE"), PriceStoreMemory, PriceStoreRedis); err != nil {
		return c, err
	}
	if c.OrderStore, err = oneOf("ORDER_STORE", get("ORDER_STORE"), OrderStoreMemory, OrderStorePostgres); err != nil {
		return c, err
	}
	if c.PriceSource, err = oneOf("PRICE_SOURCE", get("PRICE_SOURCE"), PriceSourceCSV, PriceSourceKafka); err != nil {
		return c, err
	}
	if c.Auth, err = oneOf("AUTH", get("AUTH"), AuthOff, AuthTokens); err != nil {
		return c, err
	}
	if c.Auth == AuthTokens && c.PriceStore == PriceStoreMemory {
		// Tokens live beside the credits; `stockd token` cannot reach a
		// memory store, so every call would be a 401 forever.
		return c, fmt.Errorf("AUTH: tokens needs PRICE_STORE=redis (the memory store can hold no token: stockd token writes to Redis)")
	}
	level, err := oneOf("LOG_LEVEL", get("LOG_LEVEL"), "debug", "info", "warn", "error")
	if err != nil {
		return c, err
	}
	_ = c.LogLevel.UnmarshalText([]byte(level)) // every word above is a level
	c.Tracing = get("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) != ""
	for _, a := range []struct {
		name  string
		addrs []string
	}{{"HTTP_ADDR", []string{c.HTTPAddr}}, {"UPDATER_ADDR", []string{c.UpdaterAddr}}, {"REDIS_ADDR", c.RedisAddrs}, {"KAFKA_BROKERS", c.KafkaBrokers}} {
		if len(a.addrs) == 0 {
			return c, fmt.Errorf("%s: no address", a.name)
		}
		for _, addr := range a.addrs {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				return c, fmt.Errorf("%s: %v", a.name, err)
			}
		}
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			return c, fmt.Errorf("DEBUG_ADDR: %v", err)
		}
	}
	for _, p := range list(get("TRUSTED_PROXIES")) {
		n, err := parseNet(p)
		if err != nil {
			return c, fmt.Errorf("TRUSTED_PROXIES: %v", err)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	for _, o := range c.CORSOrigins {
		if err := checkOrigin(o); err != nil {
			return c, fmt.Errorf("CORS_ORIGINS: %v", err)
		}
	}
	if c.CursorSecret != "" && len(c.CursorSecret) < minCursorSecret {
		return c, fmt.Errorf("CURSOR_SECRET: %d characters, want at least %d", len(c.CursorSecret), minCursorSecret)
	}
	if c.ShutdownDelay, err = time.ParseDuration(get("SHUTDOWN_DELAY")); err != nil || c.ShutdownDelay < 0 {
		return c, fmt.Errorf("SHUTDOWN_DELAY: %q is not a duration such as 5s or 0", get("SHUTDOWN_DELAY"))
	}
	for _, l := range []struct {
		name string
		to   *int
	}{{"STREAM_LIMIT_PER_CLIENT", &c.StreamLimitPerClient}, {"STREAM_LIMIT", &c.StreamLimit}} {
		if *l.to, err = strconv.Atoi(get(l.name)); err != nil || *l.to < 1 {
			return c, fmt.Errorf("%s: %q is not a whole number of at least 1", l.name, get(l.name))
		}
	}
	if c.Location, err = time.LoadLocation(get("APP_TIMEZONE")); err != nil {
		return c, fmt.Errorf("APP_TIMEZONE: %v", err)
	}
	if v := get("PRICE_DATE"); v != "" {
		if c.PriceDate, err = domain.ParseDay(v); err != nil {
			return c, fmt.Errorf("PRICE_DATE: %v", err)
		}
	}
	if c.HistoryDays, err = strconv.Atoi(get("PRICE_HISTORY_DAYS")); err != nil || c.HistoryDays < 1 {
		return c, fmt.Errorf("PRICE_HISTORY_DAYS: %q is not a whole number of days, 1 or more", get("PRICE_HISTORY_DAYS"))
	}
	if v := get("MAX_PRICE_AGE"); v != "" {
		if c.MaxPriceAge, err = time.ParseDuration(v); err != nil || c.MaxPriceAge < 0 {
			return c, fmt.Errorf("MAX_PRICE_AGE: %q is not a duration such as 15m or 2h", v)
		}
	}
	if c.Stocks, err = parseStocks(getenv, get); err != nil {
		return c, err
	}
	if c.SeedUsers, err = parseSeedUsers(get("SEED_USERS"), c.Stocks); err != nil {
		return c, fmt.Errorf("SEED_USERS: %v", err)
	}
	if c.RedisWaitReplicas, err = strconv.Atoi(get("REDIS_WAIT_REPLICAS")); err != nil || c.RedisWaitReplicas < 0 {
		return c, fmt.Errorf("REDIS_WAIT_REPLICAS: %q is not a non-negative whole number", get("REDIS_WAIT_REPLICAS"))
	}
	rate := get("RATE_LIMIT")
	if rate == "" {
		rate = "0"
		if c.Auth == AuthTokens {
			rate = "50"
		}
	}
	if c.RateLimit, err = strconv.Atoi(rate); err != nil || c.RateLimit < 0 {
		return c, fmt.Errorf("RATE_LIMIT: %q is not a non-negative whole number", rate)
	}
	return c, nil
}

// DefaultDay is the trading day of a CSV row without a date: PRICE_DATE,
// or the date of now in APP_TIMEZONE (now being when the command starts).
func (c Config) DefaultDay(now time.Time) domain.Day {
	if !c.PriceDate.IsZero() {
		return c.PriceDate
	}
	return domain.DayOf(now.In(c.Location))
}

// checkOrigin accepts what a browser sends as Origin: scheme://host[:port],
// nothing after it.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin such as https://app.example.com", o)
	}
	return nil
}

// parseStocks reads the stock names: from STOCKS_FILE when it is set, else
// from STOCKS (setting both is refused: which one was meant is unknown).
func parseStocks(getenv, get func(string) string) (domain.Stocks, error) {
	path := get("STOCKS_FILE")
	if path == "" {
		s, err := domain.NewStocks(strings.Split(get("STOCKS"), ","))
		if err != nil {
			return s, fmt.Errorf("STOCKS: %v", err)
		}
		return s, nil
	}
	if strings.TrimSpace(getenv("STOCKS")) != "" {
		return domain.Stocks{}, errors.New("STOCKS and STOCKS_FILE are both set: set one of them")
	}
	f, err := os.Open(path)
	if err != nil {
		return domain.Stocks{}, fmt.Errorf("STOCKS_FILE: %v", err)
	}
	defer f.Close()
	s, err := readStocks(f, path)
	if err != nil {
		return s, fmt.Errorf("STOCKS_FILE: %v", err)
	}
	return s, nil
}

// readStocks reads a file of stock names, one a line, and says where a bad
// one stands (file:line, lines counted from 1): a list of thousands is
// mended by its line number, not by a search for the name.
func readStocks(r io.Reader, name string) (domain.Stocks, error) {
	var names []string
	lineOf := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096) // a name is at most 32 bytes; a longer line is no name
	line := 0
	for sc.Scan() {
		line++
		n := strings.ToLower(strings.TrimSpace(sc.Text()))
		if n == "" || strings.HasPrefix(n, "#") {
			continue
		}
		if err := domain.ValidateStockName(n); err != nil {
			return domain.Stocks{}, fmt.Errorf("%s:%d: %v", name, line, err)
		}
		if first, dup := lineOf[n]; dup {
			return domain.Stocks{}, fmt.Errorf("%s:%d: stock %q is listed twice (first on line %d)", name, line, n, first)
		}
		lineOf[n] = line
		names = append(names, n)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return domain.Stocks{}, fmt.Errorf("%s:%d: a line longer than 4096 bytes is no stock name", name, line+1)
		}
		return domain.Stocks{}, fmt.Errorf("%s: %v", name, err)
	}
	if len(names) == 0 {
		return domain.Stocks{}, fmt.Errorf("%s: no stock names", name)
	}
	return domain.NewStocks(names)
}

// parseSeedUsers reads name:credit pairs. A name follows the request rule
// of user names and is no stock's (compared as a request compares it:
// case-insensitively), so seed-users can never write into a price series
// or create a user that no request could name.
func parseSeedUsers(s string, stocks domain.Stocks) ([]domain.UserCredit, error) {
	var users []domain.UserCredit
	seen := map[string]bool{}
	for _, pair := range list(s) {
		name, credit, ok := strings.Cut(pair, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not name:credit", pair)
		}
		if err := domain.ValidateUserName(name); err != nil {
			return nil, fmt.Errorf("user %.70q: %v", name, err)
		}
		if _, err := stocks.Canonical(name); err == nil {
			return nil, fmt.Errorf("user %q is a stock name", name)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(credit), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q: credit must be a non-negative integer", pair)
		}
		if seen[name] {
			return nil, fmt.Errorf("user %q is listed twice", name)
		}
		seen[name] = true
		users = append(users, domain.UserCredit{User: name, Credit: n})
	}
	return users, nil
}

// Help lists the variables with their meaning and default, for --help.
func Help() string {
	var b strings.Builder
	for _, s := range Settings {
		if s.Default == "" {
			fmt.Fprintf(&b, "  %-18s %s\n", s.Name, s.Help)
			continue
		}
		fmt.Fprintf(&b, "  %-18s %s (%s)\n", s.Name, s.Help, s.Default)
	}
	return b.String()
}
