//go:build integration

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/kafka"
	"stockd/adapters/redis"
	"stockd/internal/testenv"
)

// TestKafkaPoisonRecordsDoNotStopTheUpdater: `stockd update` meets, on one
// partition, a 1,000,000-byte junk value (too large to dead-letter whole)
// and a 600 KB record with a huge stock name, then a valid tick. Both are
// dead-lettered, the tick is applied, and the updater stays ready.
func TestKafkaPoisonRecordsDoNotStopTheUpdater(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("main_topic"), kgo.ProducerBatchMaxBytes(1<<20))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, kafka.EnsureTopics(t.Context(), cl, "main_topic"))
	junk := bytes.Repeat([]byte{'j'}, 1_000_000)
	hugeName := []byte(`{"stock":"` + strings.Repeat("n", 600_000) + `","time":"090000","price":5}`)
	valid := []byte(`{"stock":"stock1","date":"2026-03-02","time":"090006","price":77}`)
	for _, v := range [][]byte{junk, hugeName, valid} {
		require.NoError(t, cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("stock1"), Value: v}).FirstErr())
	}

	srv := testenv.StartRedis(t)
	ops := testenv.FreeAddr(t)
	env := envOf(map[string]string{"PRICE_STORE": "redis", "REDIS_ADDR": srv.Addr, "PRICE_SOURCE": "kafka",
		"KAFKA_BROKERS": strings.Join(brokers, ","), "UPDATER_ADDR": ops})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"update"}, env, io.Discard, io.Discard) }()

	c, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		v, _ := c.Do(t.Context(), c.B().Get().Key("stock1").Build()).ToString()
		return strings.Contains(v, `"price":[77]`) && strings.Contains(v, `"date":"2026-03-02"`)
	}, 60*time.Second, 100*time.Millisecond, "the tick behind the poison is applied")

	code, ready := getJSON(t, "http://"+ops+"/readyz")
	assert.Equal(t, 200, code, ready)
	resp, err := http.Get("http://" + ops + "/metrics")
	require.NoError(t, err)
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(metrics), "stockd_kafka_invalid_records_total 2")
	assert.Contains(t, string(metrics), "stockd_kafka_stuck_seconds 0")
	assert.NotRegexp(t, `stockd_kafka_stuck_records\{[^}]*\} [1-9]`, string(metrics))

	dl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("main_topic"+kafka.DLQSuffix),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer dl.Close()
	var dead []*kgo.Record
	for len(dead) < 2 {
		pctx, pcancel := context.WithTimeout(t.Context(), 10*time.Second)
		f := dl.PollFetches(pctx)
		waited := pctx.Err()
		pcancel()
		require.NoError(t, waited, "dead letters arrive")
		dead = append(dead, f.Records()...)
	}
	require.Len(t, dead, 2)
	// The cut copy is sent after the first try fails: order them by that.
	// (Booleans, not assert.Equal: a failure would print megabytes.)
	cut := map[bool]*kgo.Record{}
	for _, d := range dead {
		isCut := false
		for _, h := range d.Headers {
			isCut = isCut || h.Key == kafka.CutHeader
			if h.Key == kafka.ReasonHeader {
				assert.LessOrEqual(t, len(h.Value), kafka.MaxReason)
			}
		}
		cut[isCut] = d
	}
	require.Len(t, cut, 2, "one whole, one cut down")
	assert.True(t, bytes.Equal(junk[:kafka.MaxDeadValue], cut[true].Value), "the junk is dead-lettered cut down, not %d bytes", len(cut[true].Value))
	assert.True(t, bytes.Equal(hugeName, cut[false].Value), "the huge name's record whole, not %d bytes", len(cut[false].Value))
	cancel()
	require.NoError(t, <-done, "SIGTERM: commit and exit 0")
}
