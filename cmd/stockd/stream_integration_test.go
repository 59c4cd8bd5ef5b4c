//go:build integration

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/testenv"
)

// TestStreamAcrossProcesses: `stockd serve` and `stockd update` are two
// processes on one throwaway Redis; a client streaming a stock from the
// server gets the series, then the minutes each run of the updater
// changes, and nothing for a run that changes nothing.
func TestStreamAcrossProcesses(t *testing.T) {
	srv := testenv.StartRedis(t)
	bin := buildBinary(t)
	addr := testenv.FreeAddr(t)
	env := append(os.Environ(), "PRICE_STORE=redis", "ORDER_STORE=memory", "REDIS_ADDR="+srv.Addr, "LOG_LEVEL=warn")

	serve := exec.Command(bin, "serve")
	serve.Env = append(env, "HTTP_ADDR="+addr)
	serve.Stderr = os.Stderr
	require.NoError(t, serve.Start())
	t.Cleanup(func() { _ = serve.Process.Kill(); _ = serve.Wait() })
	base := "http://" + addr
	waitHealthy(t, base, 20*time.Second)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/stocks/stock1/stream", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events := sseEvents(resp)
	next := func(within time.Duration) ([2]string, bool) {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended")
			return ev, true
		case <-time.After(within):
			return [2]string{}, false
		}
	}
	first, ok := next(5 * time.Second)
	require.True(t, ok, "no series event")
	require.Equal(t, "series", first[0])
	assert.JSONEq(t, `{"stock": "stock1", "date": null, "time": [], "price": [], "open": [], "high": [], "low": []}`, first[1])

	// The feed subscribes in the background: run the updater until a
	// minute event shows that it is listening.
	// The runs' rows carry no date: PRICE_DATE says which day they are of.
	day := "2026-03-02"
	update := func(csv string) time.Time {
		t.Helper()
		cmd := exec.Command(bin, "update")
		cmd.Env = append(env, "PRICE_SOURCE=csv", "PRICE_CSV="+writeCSV(t, csv), "PRICE_DATE="+day)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "stockd update: %s", out)
		return time.Now()
	}
	var got [2]string
	require.Eventually(t, func() bool {
		update("Time,Stock,Price\n090005,stock1,100\n090030,stock1,120\n090030,stock1,90\n090059,stock1,110\n")
		got, ok = next(time.Second)
		return ok
	}, 20*time.Second, 10*time.Millisecond, "no minute event")
	require.Equal(t, "minute", got[0])
	assert.JSONEq(t, `{"date": "2026-03-02", "time": "090000", "price": 110, "open": 100, "high": 120, "low": 90}`, got[1])

	// A later run, in the same second as the close, with a higher price:
	// it closes the minute (the contract's same-second rule) and opens a
	// new one.
	wrote := update("Time,Stock,Price\n090059,stock1,115\n090130,stock1,130\n090059,stock1,111\n")
	var minutes []string
	for len(minutes) < 2 {
		ev, ok := next(10 * time.Second)
		require.True(t, ok, "a minute event is missing")
		if ev[1] == got[1] {
			continue // the retried first run, delivered again
		}
		require.Equal(t, "minute", ev[0])
		minutes = append(minutes, ev[1])
	}
	t.Logf("minute events %v after the updater exited", time.Since(wrote))
	assert.JSONEq(t, `{"date": "2026-03-02", "time": "090000", "price": 115, "open": 100, "high": 120, "low": 90}`, minutes[0])
	assert.JSONEq(t, `{"date": "2026-03-02", "time": "090100", "price": 130, "open": 130, "high": 130, "low": 130}`, minutes[1])

	// Re-applying a file changes no value, so nothing is sent.
	update("Time,Stock,Price\n090059,stock1,111\n")
	if ev, ok := next(time.Second); ok {
		t.Fatalf("a run that changed nothing sent %v", ev)
	}
	var series map[string]any
	r, err := http.Get(base + "/api/stocks/stock1/prices")
	require.NoError(t, err)
	defer r.Body.Close()
	require.NoError(t, json.NewDecoder(r.Body).Decode(&series))
	assert.Equal(t, []any{115.0, 130.0}, series["price"])

	// The next day: its first minute is sent with its date, though
	// earlier in its day than day 1's last. Then a late tick of day 1
	// sends nothing: the stream follows the latest day.
	day = "2026-03-03"
	update("Time,Stock,Price\n090005,stock1,500\n")
	ev, ok := next(10 * time.Second)
	require.True(t, ok, "no minute event for the new day")
	assert.JSONEq(t, `{"date": "2026-03-03", "time": "090000", "price": 500, "open": 500, "high": 500, "low": 500}`, ev[1])
	day = "2026-03-02"
	update("Time,Stock,Price\n100000,stock1,7\n")
	if ev, ok := next(time.Second); ok {
		t.Fatalf("a late tick of an earlier day sent %v", ev)
	}
}
