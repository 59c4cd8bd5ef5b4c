package kafka_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/domain"
)

// bigProducer can write records up to 1 MiB, as far as the broker takes
// them (the client's default stops at 1,000,012 bytes).
func bigProducer(t *testing.T, e env) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.topic),
		kgo.ProducerBatchMaxBytes(1<<20))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	require.NoError(t, kafka.EnsureTopics(t.Context(), cl, e.topic))
	return cl
}

func tickValue(t *testing.T, stock string, at domain.TimeOfDay, price int64) []byte {
	t.Helper()
	tk, err := domain.NewTick(stock, day0, at, price)
	require.NoError(t, err)
	return kafka.EncodeTick(tk)
}

// deadLetters reads n records of the dead-letter topic of e.
func deadLetters(t *testing.T, e env, n int) []*kgo.Record {
	t.Helper()
	dl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.topic+kafka.DLQSuffix),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer dl.Close()
	var dead []*kgo.Record
	for len(dead) < n {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		f := dl.PollFetches(ctx)
		waited := ctx.Err()
		cancel()
		require.NoError(t, waited, "dead letters arrive")
		dead = append(dead, f.Records()...)
	}
	return dead
}

func header(r *kgo.Record, key string) (string, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// TestHugePoisonRecordsDoNotStopTheStream: a 600 KB record with a huge
// stock name, whose reason once repeated the name and made a dead letter
// too large to write, and a 1,000,000-byte junk value, too large to
// dead-letter whole. Both are dead-lettered (the second cut down), and the
// valid tick behind them, on the same partition, is applied.
func TestHugePoisonRecordsDoNotStopTheStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := bigProducer(t, e)
	name := strings.Repeat("n", 600_000)
	hugeName := []byte(`{"stock":"` + name + `","time":"090000","price":5}`)
	junk := bytes.Repeat([]byte("j"), 1_000_000)
	valid := tickValue(t, "stock1", 9*3600+7, 77)
	for _, v := range [][]byte{hugeName, junk, valid} {
		require.NoError(t, cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("stock1"), Value: v}).FirstErr())
	}

	reg := prometheus.NewRegistry()
	store := memory.NewPriceStore()
	require.NoError(t, consume(t, e.source(t, 100, reg), store, 1), "the valid tick is applied")
	q, ok, err := store.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(77), q.Price)

	dead := deadLetters(t, e, 2)
	require.Len(t, dead, 2)
	// (Booleans, not assert.Equal: a failure would print megabytes.)
	assert.True(t, bytes.Equal(hugeName, dead[0].Value), "a record that fits is dead-lettered whole")
	_, cut := header(dead[0], kafka.CutHeader)
	assert.False(t, cut)
	assert.True(t, bytes.Equal(junk[:kafka.MaxDeadValue], dead[1].Value), "one that does not is cut to its first 64 KiB, not %d bytes", len(dead[1].Value))
	how, cut := header(dead[1], kafka.CutHeader)
	assert.True(t, cut)
	assert.Equal(t, "key 6 bytes, value 1000000 bytes", how)
	for _, d := range dead {
		why, ok := header(d, kafka.ReasonHeader)
		require.True(t, ok)
		assert.NotEmpty(t, why)
		assert.LessOrEqual(t, len(why), kafka.MaxReason, "the reason is bounded")
		assert.False(t, strings.Contains(why, strings.Repeat("n", kafka.MaxReason)), "the reason does not repeat the name")
	}
	assert.Equal(t, 2.0, gauge(t, reg, "stockd_kafka_invalid_records_total"))
	assert.Zero(t, gauge(t, reg, "stockd_kafka_stuck_records"))
}

// gauge sums the values of every series of the metric name.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
		return sum
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// runInBackground runs src into apply until the test ends.
func runInBackground(t *testing.T, src *kafka.Source, apply func(context.Context, *domain.TickBatch) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, apply) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
}

// TestAStuckPartitionShows: while the store keeps refusing a batch, its
// partition is held; /readyz (Ping) and /metrics say so, and stop saying
// so once the batch gets through.
func TestAStuckPartitionShows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := bigProducer(t, e)
	require.NoError(t, cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("stock1"), Value: tickValue(t, "stock1", 9*3600, 5)}).FirstErr())

	reg := prometheus.NewRegistry()
	src := e.source(t, 100, reg)
	store := memory.NewPriceStore()
	var refuse atomic.Bool
	refuse.Store(true)
	runInBackground(t, src, func(ctx context.Context, b *domain.TickBatch) error {
		if refuse.Load() {
			return errors.New("store down")
		}
		return store.Merge(ctx, b.Histories())
	})

	require.Eventually(t, func() bool {
		err := src.Ping(t.Context())
		return err != nil && strings.Contains(err.Error(), "stuck") && gauge(t, reg, "stockd_kafka_stuck_records") == 1
	}, 30*time.Second, 10*time.Millisecond, "a refused batch shows in readiness and metrics")
	require.Eventually(t, func() bool { return gauge(t, reg, "stockd_kafka_stuck_seconds") > 0 }, 10*time.Second, 10*time.Millisecond)

	refuse.Store(false)
	require.Eventually(t, func() bool {
		_, ok, _ := store.Latest(t.Context(), "stock1")
		return ok && src.Ping(t.Context()) == nil && gauge(t, reg, "stockd_kafka_stuck_records") == 0 &&
			gauge(t, reg, "stockd_kafka_stuck_seconds") == 0
	}, 30*time.Second, 10*time.Millisecond, "the batch gets through and the partition flows again")
}

// TestAStuckDeadLetterShows: a dead-letter topic that refuses even the cut
// copy (its max.message.bytes is tiny) holds the partition, visibly; once
// it takes records, the dead letter is written and the next tick applied.
func TestAStuckDeadLetterShows(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := bigProducer(t, e)
	adm := kadm.NewClient(cl)
	tiny := "100"
	resp, err := adm.CreateTopic(t.Context(), 1, -1, map[string]*string{"max.message.bytes": &tiny}, e.topic+kafka.DLQSuffix)
	require.NoError(t, err)
	require.NoError(t, resp.Err)
	for _, v := range [][]byte{[]byte(strings.Repeat("not json ", 20)), tickValue(t, "stock1", 9*3600, 5)} {
		require.NoError(t, cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("stock1"), Value: v}).FirstErr())
	}

	reg := prometheus.NewRegistry()
	src := e.source(t, 100, reg)
	store := memory.NewPriceStore()
	runInBackground(t, src, func(ctx context.Context, b *domain.TickBatch) error { return store.Merge(ctx, b.Histories()) })
	require.Eventually(t, func() bool {
		err := src.Ping(t.Context())
		return err != nil && strings.Contains(err.Error(), "stuck") && gauge(t, reg, "stockd_kafka_stuck_records") >= 1
	}, 30*time.Second, 10*time.Millisecond, "a refused dead letter shows in readiness and metrics")
	_, ok, err := store.Latest(t.Context(), "stock1")
	require.NoError(t, err)
	require.False(t, ok, "nothing behind the dead letter is applied before it is written")

	big := "1048588"
	_, err = adm.AlterTopicConfigs(t.Context(), []kadm.AlterConfig{{Name: "max.message.bytes", Value: &big}}, e.topic+kafka.DLQSuffix)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, ok, _ := store.Latest(t.Context(), "stock1")
		return ok && src.Ping(t.Context()) == nil && gauge(t, reg, "stockd_kafka_stuck_records") == 0
	}, 60*time.Second, 10*time.Millisecond, "the dead letter is written and the stream goes on")
	dead := deadLetters(t, e, 1)
	why, _ := header(dead[0], kafka.ReasonHeader)
	assert.Contains(t, why, "not a JSON tick")
}
