//go:build integration

package main

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestServeStartsWhileRedisIsDown: `stockd serve` starts while Redis does
// not answer; /readyz names redis and requests get 503 problems; once
// Redis answers, buys and the live stream work without a restart.
func TestServeStartsWhileRedisIsDown(t *testing.T) {
	srv := testenv.StartRedis(t)
	srv.Stop()
	env := map[string]string{"PRICE_STORE": "redis", "ORDER_STORE": "memory", "REDIS_ADDR": srv.Addr,
		"SEED_USERS": "user1:1000", "LOG_LEVEL": "error"}
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, envOf(env, map[string]string{"HTTP_ADDR": addr}), io.Discard, io.Discard)
	}()
	var once sync.Once
	var runErr error
	stop := func() error { once.Do(func() { cancel(); runErr = <-done }); return runErr }
	t.Cleanup(func() { _ = stop() })
	base := "http://" + addr
	waitHealthy(t, base, 10*time.Second)

	code, ready := getJSON(t, base+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.NotEqual(t, "ok", ready["checks"].(map[string]any)["redis"], "readyz names redis")
	buy := `{"user":"user1","stockname":"stock1","quantity":2}`
	code, problem := postJSON(t, base+"/api/buy-stock", buy)
	assert.Equal(t, http.StatusServiceUnavailable, code, problem)
	code, _ = getJSON(t, base+"/api/stocks/stock1/prices")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	err := run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard)
	require.ErrorIs(t, err, ports.ErrUnavailable, "a one-shot command does not start while Redis is down")

	srv.Restart(t)
	oneShot := func(command string, extra map[string]string) {
		t.Helper()
		require.NoError(t, run(t.Context(), []string{command}, envOf(env, extra), io.Discard, io.Discard), command)
	}
	oneShot("seed-users", nil)
	oneShot("update", map[string]string{"PRICE_CSV": writeCSV(t, "Time,Stock,Price\n90006,stock1,10\n")})
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 15*time.Second, 50*time.Millisecond, "ready once redis answers")

	code, res := postJSON(t, base+"/api/buy-stock", buy)
	require.Equal(t, http.StatusCreated, code, res)
	assert.Equal(t, 980.0, res["credit"])

	// A stream watches once Redis answers: the feed, whose connection was
	// lost or never made, subscribes to the stock's channel for it, and a
	// write after that reaches the stream.
	streamCtx, cancelStream := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancelStream()
	req, err := http.NewRequestWithContext(streamCtx, http.MethodGet, base+"/api/stocks/stock1/stream", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	events := sseEvents(resp)
	first := <-events
	require.Equal(t, "series", first[0], first[1])
	rdb, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	defer rdb.Close()
	n, err := rdb.Do(t.Context(), rdb.B().PubsubNumsub().Channel("stockd:prices:{stock1}").Build()).AsIntMap()
	require.NoError(t, err)
	require.Equal(t, int64(1), n["stockd:prices:{stock1}"], "the watch returned once the feed subscribed")
	oneShot("update", map[string]string{"PRICE_CSV": writeCSV(t, "Time,Stock,Price\n90106,stock1,11\n")})
	assert.True(t, minuteShown(events, `"time":"090100"`, `"price":11`, 10*time.Second), "a minute event arrives")
	require.NoError(t, stop())
}
