package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/config"
	"stockd/internal/testenv"
)

// merged is the union of maps, a later one winning.
func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// envOf is a getenv of the union of maps, a later one winning.
func envOf(ms ...map[string]string) func(string) string {
	env := merged(ms...)
	return func(k string) string { return env[k] }
}

// startService runs `stockd` in-process on memory adapters and waits until
// it answers; the returned stop cancels it and returns run's error.
func startService(t *testing.T, env map[string]string) (base string, stop func() error) {
	t.Helper()
	base, stop, _ = startLogged(t, nil, env)
	return base, stop
}

// startLogged is startService of the command in args, with its log.
func startLogged(t *testing.T, args []string, env map[string]string) (base string, stop func() error, logs *testenv.LogBuffer) {
	t.Helper()
	addr := testenv.FreeAddr(t)
	env["HTTP_ADDR"] = addr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs = &testenv.LogBuffer{}
	go func() { done <- run(ctx, args, envOf(env), io.Discard, logs) }()
	base = "http://" + addr
	waitHealthy(t, base, 10*time.Second, done)
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop, logs
}

// waitHealthy waits until the server at base answers /healthz; with
// exited, the channel of the server's end, it fails at once when the
// server ends first.
func waitHealthy(t testing.TB, base string, within time.Duration, exited ...<-chan error) {
	t.Helper()
	var ended <-chan error // nil: never ready
	if len(exited) > 0 {
		ended = exited[0]
	}
	deadline := time.Now().Add(within)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		require.True(t, time.Now().Before(deadline), "%s did not answer /healthz within %v: %v", base, within, err)
		select {
		case err := <-ended:
			t.Fatalf("%s ended before it answered: %v", base, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func writeCSV(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prices.csv")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	return path
}

func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}

// TestEndToEndOnMemory is the mission on memory adapters: the file is
// ingested, a buy is judged and listed, and concurrent buys never spend
// more than the credit.
func TestEndToEndOnMemory(t *testing.T) {
	csvPath := writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n90130,stock1,120\n90310,Stock1,150\n90000,stock2,7\n")
	base, stop := startService(t, map[string]string{"PRICE_CSV": csvPath, "SEED_USERS": "user1:1500,user2:6000000000"})

	code, prices := getJSON(t, base+"/api/stocks/stock1/prices")
	require.Equal(t, 200, code)
	assert.Equal(t, []any{"090000", "090100", "090200", "090300"}, prices["time"])
	assert.Equal(t, []any{100.0, 120.0, 120.0, 150.0}, prices["price"])

	code, res := postJSON(t, base+"/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":100}`)
	require.Equal(t, 201, code, res)
	assert.Equal(t, "Accept", res["result"])
	assert.Equal(t, 6000000000.0-15000, res["credit"])

	code, res = postJSON(t, base+"/api/buy-stock", `{"user":"user2","stockname":"stock2","quantity":5}`)
	require.Equal(t, 201, code, res)

	// user1 can afford exactly 10 shares at 150: 20 concurrent buys of one.
	var wg sync.WaitGroup
	results := make(chan string, 20)
	for range 20 {
		wg.Go(func() {
			resp, err := http.Post(base+"/api/buy-stock", "application/json", strings.NewReader(`{"user":"user1","stockname":"stock1","quantity":1}`))
			if err != nil {
				results <- err.Error()
				return
			}
			defer resp.Body.Close()
			var v map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&v)
			results <- fmt.Sprint(v["result"])
		})
	}
	wg.Wait()
	close(results)
	count := map[string]int{}
	for r := range results {
		count[r]++
	}
	assert.Equal(t, map[string]int{"Accept": 10, "Deny": 10}, count)

	// Listing: accepted first 100 of stock1, 10 of user1; denied qty 1 are
	// hidden; pages of 4 walk them all once, newest first.
	type position struct {
		created string
		id      float64
	}
	var listed []position
	next := ""
	for page := 0; ; page++ {
		require.Less(t, page, 10)
		url := base + "/api/orders?limit=4"
		if next != "" {
			url += "&cursor=" + next
		}
		code, list := getJSON(t, url)
		require.Equal(t, 200, code, list)
		for _, o := range list["results"].([]any) {
			m := o.(map[string]any)
			listed = append(listed, position{m["creation_date"].(string), m["id"].(float64)})
		}
		if list["next"] == nil {
			break
		}
		next = list["next"].(string)
	}
	assert.Len(t, listed, 12)
	seen := map[float64]bool{}
	for i, p := range listed {
		assert.False(t, seen[p.id], "order %v listed twice", p.id)
		seen[p.id] = true
		if i == 0 {
			continue
		}
		prev := listed[i-1]
		a, err := time.Parse(time.RFC3339Nano, prev.created)
		require.NoError(t, err)
		b, err := time.Parse(time.RFC3339Nano, p.created)
		require.NoError(t, err)
		assert.True(t, a.After(b) || (a.Equal(b) && prev.id > p.id), "newest first, ties by id: %v then %v", prev, p)
	}

	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	for _, want := range []string{
		`stockd_orders_total{status="accepted"} 12`,
		`stockd_orders_total{status="denied"} 10`,
		`stockd_ticks_applied_total 4`,
		`stockd_http_request_duration_seconds_bucket{code="201",method="POST",route="/api/buy-stock",le="+Inf"} 22`,
		`stockd_http_request_duration_seconds_count{code="200",method="GET",route="/api/orders"}`,
		`go_goroutines`,
	} {
		assert.Contains(t, string(metrics), want)
	}

	require.NoError(t, stop(), "a cancelled stockd exits cleanly")
}

func TestServiceRefusesBadInput(t *testing.T) {
	t.Parallel()
	bad := writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n90007,stock7,5\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad csv", nil, map[string]string{"PRICE_CSV": bad, "HTTP_ADDR": "127.0.0.1:0"}, bad + ":3: Stock: unknown stock"},
		{"missing csv", nil, map[string]string{"PRICE_CSV": "/nonexistent.csv", "HTTP_ADDR": "127.0.0.1:0"}, "PRICE_CSV: open /nonexistent.csv"},
		{"missing csv to produce", []string{"produce"}, map[string]string{"PRICE_CSV": "nope.csv"}, "PRICE_CSV: open nope.csv"},
		{"unknown store", nil, map[string]string{"PRICE_STORE": "mongo"}, "PRICE_STORE"},
		{"bad zone", nil, map[string]string{"APP_TIMEZONE": "Mars/Base"}, "APP_TIMEZONE"},
		{"bad seed", []string{"seed-users"}, map[string]string{"SEED_USERS": "user1:-5"}, "SEED_USERS"},
		{"bad rate", nil, map[string]string{"RATE_LIMIT": "fast"}, "RATE_LIMIT"},
		{"unknown command", []string{"dance"}, map[string]string{}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(t.Context(), tt.args, envOf(tt.env), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}} {
		var out bytes.Buffer
		require.NoError(t, run(t.Context(), args, envOf(nil), &out, io.Discard))
		for _, s := range config.Settings {
			assert.Contains(t, out.String(), s.Name)
		}
	}
}

// TestMemoryStoreRefusedWhereItWouldLoseTheWork: a command whose whole
// work is written to the price store refuses the memory store, whose data
// ends with the command, in one line naming PRICE_STORE.
func TestMemoryStoreRefusedWhereItWouldLoseTheWork(t *testing.T) {
	t.Parallel()
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n")
	for _, args := range [][]string{{"update"}, {"seed-users"}, {"token", "user1"}} {
		for _, source := range []string{"csv", "kafka"} {
			var out bytes.Buffer
			err := run(t.Context(), args, envOf(map[string]string{"PRICE_CSV": path, "PRICE_SOURCE": source}), &out, io.Discard)
			require.Error(t, err, args)
			assert.Contains(t, err.Error(), "PRICE_STORE", args)
			assert.NotContains(t, err.Error(), "\n", args)
			assert.Empty(t, out.String(), "no token is printed")
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		var out bytes.Buffer
		// A bad configuration does not stop it: it reads none.
		require.NoError(t, run(t.Context(), args, envOf(map[string]string{"PRICE_STORE": "mongo"}), &out, io.Discard))
		assert.Regexp(t, `^stockd \S+ \(go\S+, revision \S+\)\n$`, out.String())
	}
}

// TestOperationsEndpoints: the build is on /metrics, the API's port has no
// profiles, and the opt-in debug listener has them.
func TestOperationsEndpoints(t *testing.T) {
	t.Parallel()
	debugAddr := testenv.FreeAddr(t)
	base, stop := startService(t, map[string]string{"PRICE_CSV": writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n"), "DEBUG_ADDR": debugAddr})

	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Regexp(t, `stockd_build_info\{goversion="go[^"]+",revision="[^"]+",version="[^"]+"\} 1`, string(metrics))

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine", "/debug/pprof/cmdline"} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, "the API serves no %s", path)
	}
	resp, err = http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	require.NoError(t, err)
	profile, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(profile), "goroutine profile")
	require.NoError(t, stop())
}

// logLines are the JSON lines of logs that contain s.
func logLines(t *testing.T, logs *testenv.LogBuffer, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(l, s) {
			continue
		}
		var line map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &line), l)
		out = append(out, line)
	}
	return out
}

// TestFailedRequestLogsItsErrorOnce: with Redis down, a price read is a
// 503 and one log line, whose error says each part once (the use case's
// context, the port error, the adapter's words), not the
// "read prices of stock1: read prices of stock1: store unavailable: redis:
// store unavailable: redis: ..." of two layers adding the same words.
func TestFailedRequestLogsItsErrorOnce(t *testing.T) {
	t.Parallel()
	down := testenv.FreeAddr(t) // nothing listens there
	base, _, logs := startLogged(t, []string{"serve"}, map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": down})

	req, err := http.NewRequest(http.MethodGet, base+"/api/stocks/stock1/prices", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", "redis-down-1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	lines := logLines(t, logs, `"redis-down-1"`)
	require.Len(t, lines, 1, logs.String())
	assert.Equal(t, "ERROR", lines[0]["level"])
	msg, _ := lines[0]["error"].(string)
	for _, part := range []string{"read prices of stock1", "store unavailable", "redis"} {
		assert.Equal(t, 1, strings.Count(msg, part), "%q in %q", part, msg)
	}
}

// TestStartupLine: a service says once, at start, its version and the
// configuration it runs with, defaults included, with the secrets masked.
func TestStartupLine(t *testing.T) {
	t.Parallel()
	_, _, logs := startLogged(t, nil, map[string]string{
		"PRICE_CSV":     writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n"),
		"DATABASE_URL":  "postgres://admin:hunter2@db.internal:5432/stocks?sslmode=disable",
		"CURSOR_SECRET": "sixteen-or-more-characters-secret",
	})
	lines := logLines(t, logs, `"msg":"started"`)
	require.Len(t, lines, 1, logs.String())
	line := lines[0]
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "stockd", line["command"])
	assert.NotEmpty(t, line["version"])
	cfg, ok := line["config"].(map[string]any)
	require.True(t, ok, "config is an object: %v", line)
	for _, s := range config.Settings {
		assert.Contains(t, cfg, s.Name, "every setting is shown")
	}
	assert.Equal(t, "memory", cfg["PRICE_STORE"], "a default")
	assert.Equal(t, "postgres://admin:xxxxx@db.internal:5432/stocks?sslmode=disable", cfg["DATABASE_URL"])
	assert.Equal(t, "xxxxx", cfg["CURSOR_SECRET"])
	assert.NotContains(t, logs.String(), "hunter2")
	assert.NotContains(t, logs.String(), "sixteen-or-more")
}
