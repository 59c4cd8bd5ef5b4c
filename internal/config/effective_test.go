package config_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/config"
)

func TestEffectiveMasksSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":  "postgres://admin:hunter2@db:5432/stocks?sslmode=disable",
		"CURSOR_SECRET": "sixteen-or-more-characters",
		"AUTH":          "tokens",
		"PRICE_STORE":   "redis", // tokens need a store that holds them
		"STOCKS":        "a,b",
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Parse(getenv)
	require.NoError(t, err)
	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, nil)).Info("started", "config", config.Effective(getenv, cfg))
	var line struct{ Config map[string]string }
	require.NoError(t, json.Unmarshal(out.Bytes(), &line))

	assert.Len(t, line.Config, len(config.Settings))
	assert.Equal(t, "postgres://admin:xxxxx@db:5432/stocks?sslmode=disable", line.Config["DATABASE_URL"])
	assert.Equal(t, "xxxxx", line.Config["CURSOR_SECRET"])
	assert.Equal(t, "a,b", line.Config["STOCKS"], "a value given")
	assert.Equal(t, "memory", line.Config["ORDER_STORE"], "a default")
	assert.Equal(t, "50", line.Config["RATE_LIMIT"], "resolved: 50 with tokens")
	assert.NotContains(t, out.String(), "hunter2")
	assert.NotContains(t, out.String(), "sixteen")

	env = map[string]string{}
	cfg, err = config.Parse(getenv)
	require.NoError(t, err)
	out.Reset()
	slog.New(slog.NewJSONHandler(&out, nil)).Info("started", "config", config.Effective(getenv, cfg))
	require.NoError(t, json.Unmarshal(out.Bytes(), &line))
	assert.Equal(t, "", line.Config["CURSOR_SECRET"], "an unset secret is not said to be set")
	assert.Equal(t, "postgres://postgres@localhost:5432/stocks?sslmode=disable", line.Config["DATABASE_URL"], "no password, nothing masked")
	assert.Equal(t, "0", line.Config["RATE_LIMIT"])
}
