package config_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/internal/config"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, ":8080", cfg.HTTPAddr)
	assert.Equal(t, config.PriceStoreMemory, cfg.PriceStore)
	assert.Equal(t, config.OrderStoreMemory, cfg.OrderStore)
	assert.Equal(t, config.PriceSourceCSV, cfg.PriceSource)
	assert.Equal(t, "price_data.csv", cfg.PriceCSV)
	assert.Equal(t, []string{"localhost:6379"}, cfg.RedisAddrs)
	assert.Equal(t, "postgres://postgres@localhost:5432/stocks?sslmode=disable", cfg.DatabaseURL)
	assert.Equal(t, []string{"localhost:9092"}, cfg.KafkaBrokers)
	assert.Equal(t, "main_topic", cfg.KafkaTopic)
	assert.Equal(t, "price-updater", cfg.KafkaGroup)
	assert.Equal(t, "UTC", cfg.Location.String())
	assert.Equal(t, []string{"stock1", "stock2", "stock3"}, cfg.Stocks.Names())
	assert.Equal(t, 0, cfg.RateLimit)
	require.Len(t, cfg.SeedUsers, 2)
	assert.Equal(t, int64(6000000000), cfg.SeedUsers[1].Credit)
	assert.Equal(t, config.AuthOff, cfg.Auth)
	assert.Equal(t, slog.LevelInfo, cfg.LogLevel)
	assert.Empty(t, cfg.CORSOrigins, "no origin unless configured")
	assert.Empty(t, cfg.CursorSecret, "kept in the order store unless configured")
	assert.Empty(t, cfg.DebugAddr, "pprof is off unless configured")
	assert.Equal(t, 5*time.Second, cfg.ShutdownDelay)
	assert.True(t, cfg.PriceDate.IsZero(), "no PRICE_DATE: today")
	assert.Equal(t, 30, cfg.HistoryDays)
	assert.Equal(t, time.Duration(0), cfg.MaxPriceAge, "MAX_PRICE_AGE is off by default")
	assert.Equal(t, 32, cfg.StreamLimitPerClient)
	assert.Equal(t, 10000, cfg.StreamLimit)

	cfg, err = config.Parse(envOf(map[string]string{"AUTH": "tokens", "PRICE_STORE": "redis"}))
	require.NoError(t, err)
	assert.Equal(t, 50, cfg.RateLimit)
}

func TestConfigParsesEveryValue(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(map[string]string{
		"PRICE_STORE": "Redis", "ORDER_STORE": "postgres", "PRICE_SOURCE": "KAFKA", "AUTH": "tokens", "LOG_LEVEL": "warn",
		"REDIS_ADDR":              "10.0.0.1:7000, 10.0.0.2:7001,,10.0.0.3:7002",
		"CORS_ORIGINS":            "https://app.example.com, http://localhost:5173",
		"CURSOR_SECRET":           "0123456789abcdef0123",
		"DEBUG_ADDR":              "127.0.0.1:6060",
		"SHUTDOWN_DELAY":          "0",
		"RATE_LIMIT":              "7",
		"STREAM_LIMIT_PER_CLIENT": "4",
		"STREAM_LIMIT":            "500",
	}))
	require.NoError(t, err)
	assert.Equal(t, config.PriceStoreRedis, cfg.PriceStore)
	assert.Equal(t, config.OrderStorePostgres, cfg.OrderStore)
	assert.Equal(t, config.PriceSourceKafka, cfg.PriceSource)
	assert.Equal(t, config.AuthTokens, cfg.Auth)
	assert.Equal(t, slog.LevelWarn, cfg.LogLevel)
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001", "10.0.0.3:7002"}, cfg.RedisAddrs)
	assert.Equal(t, []string{"https://app.example.com", "http://localhost:5173"}, cfg.CORSOrigins)
	assert.Equal(t, "0123456789abcdef0123", cfg.CursorSecret)
	assert.Equal(t, "127.0.0.1:6060", cfg.DebugAddr)
	assert.Equal(t, time.Duration(0), cfg.ShutdownDelay, "0 stops at once")
	assert.Equal(t, 7, cfg.RateLimit)
	assert.Equal(t, 4, cfg.StreamLimitPerClient)
	assert.Equal(t, 500, cfg.StreamLimit)

	cfg, err = config.Parse(envOf(map[string]string{"SHUTDOWN_DELAY": "1m30s"}))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, cfg.ShutdownDelay)
}

// TestConfigErrorsNameTheVariable: every bad value is refused with the
// name of its variable.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value string }{
		{"PRICE_STORE", "mongo"},
		{"ORDER_STORE", "mysql"},
		{"PRICE_SOURCE", "rabbit"},
		{"AUTH", "basic"},
		{"LOG_LEVEL", "loud"},
		{"HTTP_ADDR", "8080"},
		{"UPDATER_ADDR", "nowhere"},
		{"REDIS_ADDR", "redis-without-port"},
		{"REDIS_ADDR", "10.0.0.1:7000,10.0.0.2"},
		{"REDIS_ADDR", " , "},
		{"KAFKA_BROKERS", ","},
		{"DEBUG_ADDR", "6060"},
		{"CORS_ORIGINS", "app.example.com"},
		{"CORS_ORIGINS", "https://app.example.com/path"},
		{"CORS_ORIGINS", "ftp://app.example.com"},
		{"CURSOR_SECRET", "short"},
		{"SHUTDOWN_DELAY", "5"},
		{"SHUTDOWN_DELAY", "-1s"},
		{"APP_TIMEZONE", "Mars/Base"},
		{"STOCKS", "a,a"},
		{"STOCKS", "stock1,a/b"},
		{"STOCKS", "<img src=x onerror=alert(1)>"},
		{"STOCKS", "-stock"},
		{"STOCKS", "stock_with_a_name_of_thirty-three"},
		{"SEED_USERS", "user1:-5"},
		{"SEED_USERS", "stock1:5,user1:7"},
		{"SEED_USERS", "Stock2:5"},
		{"SEED_USERS", "a{b}:7"},
		{"SEED_USERS", "stockd:idem:{user1}:k:5"},
		{"SEED_USERS", "-user:5"},
		{"RATE_LIMIT", "fast"},
		{"TRUSTED_PROXIES", "nginx"},
		{"TRUSTED_PROXIES", "10.0.0.0/33"},
		{"PRICE_DATE", "2026-02-30"},
		{"PRICE_DATE", "20260302"},
		{"PRICE_DATE", "today"},
		{"PRICE_HISTORY_DAYS", "0"},
		{"PRICE_HISTORY_DAYS", "-3"},
		{"PRICE_HISTORY_DAYS", "30d"},
		{"MAX_PRICE_AGE", "15"},
		{"MAX_PRICE_AGE", "-1m"},
		{"STREAM_LIMIT_PER_CLIENT", "0"},
		{"STREAM_LIMIT_PER_CLIENT", "many"},
		{"STREAM_LIMIT", "-1"},
		{"STREAM_LIMIT", "1e4"},
	} {
		_, err := config.Parse(envOf(map[string]string{tc.name: tc.value}))
		require.Error(t, err, "%s=%s", tc.name, tc.value)
		assert.Contains(t, err.Error(), tc.name+":", "%s=%s", tc.name, tc.value)
	}
}

// TestConfigNamesFollowTheRequestRules: what STOCKS and SEED_USERS accept
// is what a request may name (issue 16 item 9).
func TestConfigNamesFollowTheRequestRules(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(map[string]string{
		"STOCKS":     "Stock1, brk.b,rds-a,x_1," + strings.Repeat("s", 32),
		"SEED_USERS": "user1:5,ada.lovelace@example.com:7,User_2-x:0,stock:1",
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"stock1", "brk.b", "rds-a", "x_1", strings.Repeat("s", 32)}, cfg.Stocks.Names())
	require.Len(t, cfg.SeedUsers, 4)
	assert.Equal(t, "ada.lovelace@example.com", cfg.SeedUsers[1].User)

	_, err = config.Parse(envOf(map[string]string{"SEED_USERS": "user1:5", "STOCKS": "user1"}))
	require.ErrorContains(t, err, "SEED_USERS:", "a user that is a configured stock")
}

// TestTokensNeedAStoreThatCanHoldThem is issue 17 item 4: AUTH=tokens on
// the memory store started, said ready, and answered every call 401, since
// no token could ever be minted into it. It is refused in one line naming
// both variables.
func TestTokensNeedAStoreThatCanHoldThem(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"AUTH": "tokens"},
		{"AUTH": "Tokens", "PRICE_STORE": "memory", "ORDER_STORE": "postgres"},
	} {
		_, err := config.Parse(envOf(env))
		require.Error(t, err, env)
		assert.True(t, strings.HasPrefix(err.Error(), "AUTH: "), err)
		assert.Contains(t, err.Error(), "PRICE_STORE=redis")
		assert.NotContains(t, err.Error(), "\n")
	}
	_, err := config.Parse(envOf(map[string]string{"AUTH": "off", "PRICE_STORE": "memory"}))
	require.NoError(t, err)
}

// TestConfigTradingDays: PRICE_DATE, PRICE_HISTORY_DAYS and MAX_PRICE_AGE,
// and the default day: PRICE_DATE when set, else today in APP_TIMEZONE.
func TestConfigTradingDays(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(map[string]string{
		"PRICE_DATE": "2026-03-02", "PRICE_HISTORY_DAYS": "7", "MAX_PRICE_AGE": "15m", "APP_TIMEZONE": "Asia/Tokyo",
	}))
	require.NoError(t, err)
	assert.Equal(t, domain.Day(20260302), cfg.PriceDate)
	assert.Equal(t, 7, cfg.HistoryDays)
	assert.Equal(t, 15*time.Minute, cfg.MaxPriceAge)
	late := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC) // 2026-11-30 05:00 in Tokyo
	assert.Equal(t, domain.Day(20260302), cfg.DefaultDay(late), "PRICE_DATE wins over today")

	cfg, err = config.Parse(envOf(map[string]string{"APP_TIMEZONE": "Asia/Tokyo", "MAX_PRICE_AGE": "0"}))
	require.NoError(t, err)
	assert.Equal(t, domain.Day(20261130), cfg.DefaultDay(late), "today in APP_TIMEZONE, not in UTC")
	assert.Equal(t, time.Duration(0), cfg.MaxPriceAge, "0 is off")
	cfg, err = config.Parse(envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, domain.Day(20261129), cfg.DefaultDay(late))
}

func TestHelpShowsDefaults(t *testing.T) {
	t.Parallel()
	help := config.Help()
	for _, s := range config.Settings {
		assert.Contains(t, help, s.Name)
		if s.Default != "" {
			assert.Contains(t, help, "("+s.Default+")")
		}
	}
}

// TestTracingIsOnOnlyWithAnOTLPEndpoint: tracing is off by default and on
// when either standard endpoint variable names a collector.
func TestTracingIsOnOnlyWithAnOTLPEndpoint(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]bool{
		"":                                   false,
		"OTEL_EXPORTER_OTLP_ENDPOINT":        true,
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": true,
	} {
		cfg, err := config.Parse(envOf(map[string]string{env: "http://localhost:4318"}))
		require.NoError(t, err)
		assert.Equal(t, want, cfg.Tracing, env)
	}
}

// TestTrustedProxies: addresses and CIDRs, an address standing for itself.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(envOf(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,::1"}))
	require.NoError(t, err)
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	assert.Equal(t, []string{"10.0.0.0/8", "192.0.2.7/32", "::1/128"}, got)
	cfg, err = config.Parse(envOf(nil))
	require.NoError(t, err)
	assert.Empty(t, cfg.TrustedProxies, "none by default: the peer is the client")
}

// TestStocksFile: STOCKS_FILE holds a market's names, one a line; a bad
// line is told as file:line; it and STOCKS are not both taken.
func TestStocksFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	good := write("good.txt", "# the market\nZeta\n\nalpha\n  beta  \n#gamma\n")
	c, err := config.Parse(envOf(map[string]string{"STOCKS_FILE": good}))
	require.NoError(t, err)
	assert.Equal(t, []string{"zeta", "alpha", "beta"}, c.Stocks.Names())

	for _, tc := range []struct{ file, want string }{
		{write("bad.txt", "alpha\n\nbe ta\n"), "bad.txt:3: "},
		{write("twice.txt", "alpha\nbeta\nALPHA\n"), `twice.txt:3: stock "alpha" is listed twice (first on line 1)`},
		{write("empty.txt", "# nothing\n\n"), "empty.txt: no stock names"},
		{write("long.txt", "alpha\n"+strings.Repeat("x", 5000)+"\n"), "long.txt:2: "},
		{filepath.Join(dir, "missing.txt"), "missing.txt"},
	} {
		_, err := config.Parse(envOf(map[string]string{"STOCKS_FILE": tc.file}))
		require.Error(t, err, tc.file)
		assert.Contains(t, err.Error(), "STOCKS_FILE: ", tc.file)
		assert.Contains(t, err.Error(), tc.want, tc.file)
	}

	_, err = config.Parse(envOf(map[string]string{"STOCKS_FILE": good, "STOCKS": "stock1"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "STOCKS and STOCKS_FILE")
}

// TestStocksFileOfAHundredThousandNames: a market's list parses, and
// answers its questions, without a pass over every name per question.
func TestStocksFileOfAHundredThousandNames(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&b, "s%06d\n", (i*7919)%100_000)
	}
	p := filepath.Join(t.TempDir(), "market.txt")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	c, err := config.Parse(envOf(map[string]string{"STOCKS_FILE": p}))
	require.NoError(t, err)
	assert.Equal(t, 100_000, c.Stocks.Len())
	page, more := c.Stocks.Page(domain.StockQuery{Prefix: "s09999", Limit: 5})
	assert.Equal(t, []string{"s099990", "s099991", "s099992", "s099993", "s099994"}, page)
	assert.True(t, more)
}
