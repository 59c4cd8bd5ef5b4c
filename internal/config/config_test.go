package config_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	assert.Equal(t, 32, cfg.StreamLimitPerClient)
	assert.Equal(t, 10000, cfg.StreamLimit)

	cfg, err = config.Parse(envOf(map[string]string{"AUTH": "tokens"}))
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
		{"SEED_USERS", "user1:-5"},
		{"RATE_LIMIT", "fast"},
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
