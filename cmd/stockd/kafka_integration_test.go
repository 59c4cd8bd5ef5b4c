//go:build integration

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"stockd/adapters/redis"
	"stockd/internal/testenv"
)

// TestKafkaPathEqualsCSVPath: `stockd produce` then `stockd update` with
// the kafka source leaves in Redis, byte for byte, what `stockd update`
// with the csv source leaves.
func TestKafkaPathEqualsCSVPath(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	path := writeCSV(t, "Time,Stock1,Stock2,Stock3\n90031,1041,,\n90041,1008,448,\n90006,,,1734\n"+
		"90134,992,,\n90154,1054,412,\n90149,1014,,\n92805,,,1984\n93001,,407,1877\n93001,,408,\n")

	viaCSV, viaKafka := testenv.StartRedis(t), testenv.StartRedis(t)
	base := map[string]string{"PRICE_STORE": "redis", "PRICE_CSV": path, "KAFKA_BROKERS": brokers,
		"KAFKA_TOPIC": "main_topic", "KAFKA_GROUP": "price-updater"}
	with := func(extra map[string]string) func(string) string { return envOf(base, extra) }
	require.NoError(t, run(t.Context(), []string{"update"}, with(map[string]string{"REDIS_ADDR": viaCSV.Addr}), io.Discard, io.Discard))
	require.NoError(t, run(t.Context(), []string{"produce"}, with(nil), io.Discard, io.Discard))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	ops := testenv.FreeAddr(t)
	go func() {
		done <- run(ctx, []string{"update"}, with(map[string]string{"REDIS_ADDR": viaKafka.Addr, "PRICE_SOURCE": "kafka", "UPDATER_ADDR": ops}), io.Discard, io.Discard)
	}()
	get := func(addr string, key string) string {
		c, err := redis.Open([]string{addr})
		require.NoError(t, err)
		defer c.Close()
		v, _ := c.Do(t.Context(), c.B().Get().Key(key).Build()).ToString()
		return v
	}
	require.Eventually(t, func() bool {
		for _, s := range []string{"stock1", "stock2", "stock3"} {
			if get(viaKafka.Addr, s) != get(viaCSV.Addr, s) {
				return false
			}
		}
		return true
	}, 30*time.Second, 100*time.Millisecond, "the kafka updater catches up")

	waitHealthy(t, "http://"+ops, 10*time.Second, done)
	code, ready := getJSON(t, "http://"+ops+"/readyz")
	assert.Equal(t, 200, code, ready)
	resp, err := http.Get("http://" + ops + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), "stockd_ticks_applied_total 12")
	assert.Contains(t, string(metrics), "stockd_kafka_invalid_records_total 0")
	assert.Contains(t, string(metrics), `stockd_kafka_consumer_lag_records{partition=`)
	cancel()
	require.NoError(t, <-done, "SIGTERM: commit and exit 0")
	for _, s := range []string{"stock1", "stock2", "stock3"} {
		assert.NotEmpty(t, get(viaCSV.Addr, s))
		assert.Equal(t, get(viaCSV.Addr, s), get(viaKafka.Addr, s), s)
	}
}

// TestKafkaUpdaterWaitsForRedis: `update` with the kafka source starts
// while Redis is down, keeps its batch uncommitted, and applies it once
// Redis is back.
func TestKafkaUpdaterWaitsForRedis(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer cluster.Close()
	srv := testenv.StartRedis(t)
	srv.Stop()
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,10\n90106,stock1,11\n")
	ops := testenv.FreeAddr(t)
	env := envOf(map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": srv.Addr, "PRICE_SOURCE": "kafka",
		"PRICE_CSV": path, "KAFKA_BROKERS": strings.Join(cluster.ListenAddrs(), ","), "UPDATER_ADDR": ops})
	require.NoError(t, run(t.Context(), []string{"produce"}, env, io.Discard, io.Discard))

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	var logs testenv.LogBuffer
	go func() { done <- run(ctx, []string{"update"}, env, io.Discard, &logs) }()
	// The updater polled the batch of both ticks, failed to store it, and
	// is retrying it: its second failure is logged, and it runs on.
	deadline := time.Now().Add(30 * time.Second)
	for !retried(logs.String()) {
		select {
		case err := <-done:
			t.Fatalf("update gave up while Redis was down: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "no second try of the batch logged:\n%s", logs.String())
	}
	select {
	case err := <-done:
		t.Fatalf("update gave up while Redis was down: %v", err)
	default:
	}
	waitHealthy(t, "http://"+ops, 10*time.Second, done)
	code, ready := getJSON(t, "http://"+ops+"/readyz")
	assert.Equal(t, 503, code)
	assert.NotEqual(t, "ok", ready["checks"].(map[string]any)["redis"], "readyz names redis")
	srv.Restart(t)
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		v, _ := c.Do(t.Context(), c.B().Get().Key("stock1").Build()).ToString()
		return strings.Contains(v, `"price":[10,11]`)
	}, 30*time.Second, 100*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// retried says whether the log has a second failed try of a batch of two
// ticks.
func retried(log string) bool {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"ticks":2`) && strings.Contains(line, `"attempt":2`) && strings.Contains(line, `"retry_in_ms"`) {
			return true
		}
	}
	return false
}
