package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/csv"
	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/domain"
	"stockd/internal/testenv"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// manyStocks is the stock count of the test files: enough keys that every
// partition of the topic gets some.
const manyStocks = 12

// day0 is the day of the test files' rows, which carry no date.
var day0 = func() domain.Day {
	d, err := domain.ParseDay("2026-03-02")
	if err != nil {
		panic(err)
	}
	return d
}()

var onDay0 = csv.Calendar{Default: day0, Zone: time.UTC}

func stocks(t testing.TB) domain.Stocks {
	var names []string
	for i := 1; i <= manyStocks; i++ {
		names = append(names, fmt.Sprintf("stock%d", i))
	}
	s, err := domain.NewStocks(names)
	require.NoError(t, err)
	return s
}

// brokers are KAFKA_BROKERS when set (a real cluster), else an in-process
// kfake cluster of this test.
func brokers(t *testing.T) []string {
	t.Helper()
	if b := os.Getenv("KAFKA_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// writeTicks writes n random ticks of three stocks, unsorted, with some
// same-second repeats whose file order decides the price.
func writeTicks(t *testing.T, n int, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	var b strings.Builder
	b.WriteString("Time,Stock,Price\n")
	for range n {
		at := domain.TimeOfDay(9*3600 + r.IntN(3600))
		fmt.Fprintf(&b, "%s,stock%d,%d\n", at, 1+r.IntN(manyStocks), 1+r.IntN(3000))
	}
	path := filepath.Join(t.TempDir(), "ticks.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// csvSeries is the series of every stock and day of the file at path,
// keyed "stock day".
func csvSeries(t *testing.T, path string) map[string]domain.MinuteSeries {
	t.Helper()
	b, err := csv.ReadFile(path, stocks(t), onDay0)
	require.NoError(t, err)
	return batchSeries(b)
}

func batchSeries(b *domain.TickBatch) map[string]domain.MinuteSeries {
	out := map[string]domain.MinuteSeries{}
	for s, days := range b.Histories() {
		for day, h := range days {
			series := h.Series()
			series = series.OnDay(day)
			out[s+" "+day.String()] = series
		}
	}
	return out
}

// storeSeries is what store holds of every stock and day, keyed as
// csvSeries keys it.
func storeSeries(t *testing.T, store *memory.PriceStore) map[string]domain.MinuteSeries {
	t.Helper()
	out := map[string]domain.MinuteSeries{}
	for _, s := range stocks(t).Names() {
		days, err := store.Days(context.Background(), s)
		require.NoError(t, err)
		for _, day := range days {
			series, err := store.Series(context.Background(), s, day)
			require.NoError(t, err)
			if series.Len() > 0 {
				out[s+" "+day.String()] = series
			}
		}
	}
	return out
}

type env struct {
	brokers []string
	topic   string
	group   string
}

func newEnv(t *testing.T) env {
	return env{brokers: brokers(t), topic: testenv.UniqueName("prices_"), group: testenv.UniqueName("group_")}
}

func (e env) produce(t *testing.T, path string) int {
	t.Helper()
	n, err := kafka.Produce(t.Context(), kafka.ProducerConfig{Brokers: e.brokers, Topic: e.topic}, csv.NewSource(path, stocks(t), onDay0))
	require.NoError(t, err)
	return n
}

func (e env) source(t *testing.T, maxPoll int, reg prometheus.Registerer) *kafka.Source {
	t.Helper()
	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: e.brokers, Topic: e.topic, Group: e.group,
		MaxPoll: maxPoll, Stocks: stocks(t), Logger: quiet, Registry: reg})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	return src
}

// consume runs src into store until want ticks were applied, then stops
// it as SIGTERM would, and returns Run's error.
func consume(t *testing.T, src *kafka.Source, store *memory.PriceStore, want int) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var applied atomic.Int64
	err := src.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
		if err := store.Merge(ctx, b.Histories()); err != nil {
			return err
		}
		if applied.Add(int64(b.Ticks())) >= int64(want) {
			cancel()
		}
		return nil
	})
	require.GreaterOrEqual(t, applied.Load(), int64(want), "consumed everything before the deadline")
	return err
}

func committed(t *testing.T, e env) (committed, end int64) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	offs, err := adm.FetchOffsets(t.Context(), e.group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		err = nil // nothing committed yet
	}
	require.NoError(t, err)
	ends, err := adm.ListEndOffsets(t.Context(), e.topic)
	require.NoError(t, err)
	offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
	ends.Each(func(o kadm.ListedOffset) { end += o.Offset })
	return committed, end
}

func TestProduceThenConsumeEqualsTheCSVPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := writeTicks(t, 3000, 1)
	n := e.produce(t, path)
	require.Equal(t, 3000, n)

	store := memory.NewPriceStore()
	require.NoError(t, consume(t, e.source(t, 250, nil), store, n), "SIGTERM ends Run with nil")
	assert.Equal(t, csvSeries(t, path), storeSeries(t, store))

	c, end := committed(t, e)
	assert.Equal(t, end, c, "everything applied is committed before exit")
}

// TestCrashBeforeCommitLosesNothing: the consumer dies after the store has
// a batch but before the commit; the next one redelivers and the series
// is the one of an uninterrupted run.
func TestCrashBeforeCommitLosesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := writeTicks(t, 2000, 2)
	n := e.produce(t, path)
	store := memory.NewPriceStore()

	ctx, cancel := context.WithCancel(t.Context())
	batches := 0
	first := e.source(t, 100, nil)
	err := first.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
		require.NoError(t, store.Merge(ctx, b.Histories()))
		if batches++; batches == 3 {
			cancel() // the crash: stored, not committed
			return context.Canceled
		}
		return nil
	})
	require.NoError(t, err)
	first.Close()
	c, _ := committed(t, e)
	require.Less(t, c, int64(n), "the crash left records uncommitted")

	require.NoError(t, consume(t, e.source(t, 100, nil), store, int(int64(n)-c)))
	assert.Equal(t, csvSeries(t, path), storeSeries(t, store))
}

func TestTwoConsumersShareTheTopic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	store := memory.NewPriceStore()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var per [2]atomic.Int64
	var wg sync.WaitGroup
	for i := range 2 {
		src := e.source(t, 50, nil)
		wg.Go(func() {
			err := src.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
				per[i].Add(int64(b.Ticks()))
				return store.Merge(ctx, b.Histories())
			})
			assert.NoError(t, err)
		})
	}
	// Both members must hold partitions before the ticks arrive.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...))
	require.NoError(t, err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	require.Eventually(t, func() bool {
		groups, err := adm.DescribeGroups(ctx, e.group)
		if err != nil {
			return false
		}
		g := groups[e.group]
		if g.State != "Stable" || len(g.Members) != 2 {
			return false
		}
		for _, m := range g.Members {
			if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 || len(a.Topics[0].Partitions) == 0 {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "the group splits the partitions")

	path := writeTicks(t, 3000, 3)
	n := e.produce(t, path)
	require.Eventually(t, func() bool {
		c, end := committed(t, e)
		return c == end && end == int64(n)
	}, 60*time.Second, 100*time.Millisecond)
	cancel()
	wg.Wait()
	assert.Equal(t, csvSeries(t, path), storeSeries(t, store))
	assert.Equal(t, int64(n), per[0].Load()+per[1].Load())
	assert.Positive(t, per[0].Load(), "first consumer worked")
	assert.Positive(t, per[1].Load(), "second consumer worked")
}

func TestPoisonRecordsGoToTheDeadLetterTopic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := writeTicks(t, 200, 4)
	n := e.produce(t, path)

	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.topic))
	require.NoError(t, err)
	defer cl.Close()
	poison := []string{`not json`, `{"stock":"stock99","time":"090000","price":5}`, `{"stock":"stock1","time":"090000","price":-5}`,
		`{"stock":"stock1","time":"9am","price":5}`, `{"stock":"stock1","time":"090000","price":"5"}`,
		`{"stock":"stock2","time":"090000","price":5}`} // valid, but keyed stock1 below
	for _, v := range poison {
		require.NoError(t, cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("stock1"), Value: []byte(v)}).FirstErr())
	}
	more := writeTicks(t, 200, 5)
	n += e.produce(t, more)

	reg := prometheus.NewRegistry()
	store := memory.NewPriceStore()
	src := e.source(t, 1000, reg)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var seen atomic.Int64
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if c, end := committed(t, e); c == end && end == int64(n+len(poison)) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	require.NoError(t, src.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
		seen.Add(int64(b.Ticks()))
		return store.Merge(ctx, b.Histories())
	}))
	assert.Equal(t, int64(n), seen.Load())
	assert.Equal(t, float64(len(poison)), testutil.ToFloat64(findCounter(t, reg, "stockd_kafka_invalid_records_total")))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems, "the metrics follow the Prometheus conventions")
	partitions := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "stockd_kafka_consumer_lag_records" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			assert.Equal(t, e.topic, labels["topic"])
			partitions[labels["partition"]] = true
		}
	}
	assert.Len(t, partitions, kafka.DefaultPartitions, "a lag series for every partition held")

	// The good ticks of both files, and nothing of the poison.
	b := domain.NewTickBatch()
	for _, file := range []string{path, more} {
		require.NoError(t, csv.NewSource(file, stocks(t), onDay0).ScanTicks(t.Context(), func(tk domain.Tick) error {
			b.Add(tk)
			return nil
		}))
	}
	assert.Equal(t, batchSeries(b), storeSeries(t, store))

	dl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.topic+kafka.DLQSuffix),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer dl.Close()
	var dead []*kgo.Record
	for len(dead) < len(poison) {
		pctx, pcancel := context.WithTimeout(t.Context(), 10*time.Second)
		f := dl.PollFetches(pctx)
		waited := pctx.Err()
		pcancel()
		require.NoError(t, waited, "dead letters arrive")
		dead = append(dead, f.Records()...)
	}
	for i, r := range dead {
		assert.Equal(t, poison[i], string(r.Value))
		require.NotEmpty(t, r.Headers)
		assert.Equal(t, kafka.ReasonHeader, r.Headers[0].Key)
		assert.NotEmpty(t, r.Headers[0].Value)
	}
	assert.Contains(t, string(dead[len(dead)-1].Headers[0].Value), kafka.ErrKeyMismatch.Error(), "the reason says the key is wrong")
}

func findCounter(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: name})
			c.Add(mf.GetMetric()[0].GetCounter().GetValue())
			return c
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// TestBrokerDownAtStart: the updater starts before Kafka and catches up
// once it is there. It logs the outage when it begins and when it ends,
// not at every try (there are several in the seconds it waits).
func TestBrokerDownAtStart(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	e := env{brokers: []string{fmt.Sprintf("127.0.0.1:%d", port)}, topic: testenv.UniqueName("prices_"), group: testenv.UniqueName("group_")}
	store := memory.NewPriceStore()
	var logs testenv.LogBuffer
	reg := prometheus.NewRegistry()
	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: e.brokers, Topic: e.topic, Group: e.group,
		MaxPoll: 500, Stocks: stocks(t), Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registry: reg})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	path := writeTicks(t, 500, 6)
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var applied atomic.Int64
	go func() {
		done <- src.Run(ctx, func(ctx context.Context, b *domain.TickBatch) error {
			if applied.Add(int64(b.Ticks())) >= 500 {
				defer cancel()
			}
			return store.Merge(ctx, b.Histories())
		})
	}()
	// The updater tries again and again while no broker is there: once
	// it has failed three times, the outage has one line, not three.
	require.Eventually(t, func() bool {
		return testutil.ToFloat64(findCounter(t, reg, "stockd_kafka_unavailable_total")) >= 3
	}, 30*time.Second, 10*time.Millisecond, "the updater keeps trying")
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"kafka unavailable; retrying with backoff"`),
		"one line when the outage begins, none per try: %s", logs.String())
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port))
	require.NoError(t, err)
	defer c.Close()
	e.produce(t, path)
	require.NoError(t, <-done)
	assert.Equal(t, int64(500), applied.Load())
	assert.Equal(t, csvSeries(t, path), storeSeries(t, store))
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"kafka available again"`), "one line when it ends")
}

func TestProduceRefusesABadFileAndUnreachableBrokers(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("Time,Stock,Price\n90000,stock1,5\n90001,stock1,x\n"), 0o600))
	_, err := kafka.Produce(t.Context(), kafka.ProducerConfig{Brokers: []string{"127.0.0.1:1"}, Topic: "t"}, csv.NewSource(bad, stocks(t), onDay0))
	require.ErrorContains(t, err, bad+":3:", "the file is checked before any broker")

	good := writeTicks(t, 10, 7)
	start := time.Now()
	_, err = kafka.Produce(t.Context(), kafka.ProducerConfig{Brokers: []string{testenv.FreeAddr(t)}, Topic: "t", Timeout: 2 * time.Second}, csv.NewSource(good, stocks(t), onDay0))
	require.ErrorContains(t, err, "unreachable")
	assert.Less(t, time.Since(start), 30*time.Second, "bounded, not a hang")
}

func TestDecodeTick(t *testing.T) {
	t.Parallel()
	s := stocks(t)
	for _, tc := range []struct {
		value string
		want  string // tick as stock@day time=price, or "" for an error
	}{
		{`{"stock":"stock1","time":"090006","price":1734}`, "stock1@2026-03-02 090006=1734"},
		{`{"stock":"Stock2","time":"90006","price":1}`, "stock2@2026-03-02 090006=1"},
		{`{"stock":"stock3","time":"09:00:06","price":2}`, "stock3@2026-03-02 090006=2"},
		{`{"stock":"stock3","time":90006,"price":2}`, "stock3@2026-03-02 090006=2"},
		{`{"stock":"stock3","time":"090006","price":2,"source":"x"}`, "stock3@2026-03-02 090006=2"},
		{`{"stock":"stock1","date":"2026-03-03","time":"090006","price":1734}`, "stock1@2026-03-03 090006=1734"},
		{`{"date":"2025-12-31","stock":"stock1","time":"090006","price":5}`, "stock1@2025-12-31 090006=5"},
		{`{"stock":"stock1","date":null,"time":"090006","price":5}`, "stock1@2026-03-02 090006=5"},
		{`{"stock":"stock1","date":"2026-02-30","time":"090006","price":5}`, ""},
		{`{"stock":"stock1","date":"20260303","time":"090006","price":5}`, ""},
		{`{"stock":"stock1","date":20260303,"time":"090006","price":5}`, ""},
		{`{"stock":"stock99","time":"090006","price":2}`, ""},
		{`{"stock":"stock1","time":"090006","price":0}`, ""},
		{`{"stock":"stock1","time":"090006","price":1.5}`, ""},
		{`{"stock":"stock1","time":"090006","price":"2"}`, ""},
		{`{"stock":"stock1","time":"250000","price":2}`, ""},
		{`{"stock":"stock1","price":2}`, ""},
		{`{"stock":"stock1","time":"090006","price":2} {}`, ""},
		{`[]`, ""},
		{``, ""},
	} {
		tick, err := kafka.DecodeTick([]byte(tc.value), day0, s)
		if tc.want == "" {
			assert.Error(t, err, tc.value)
			continue
		}
		require.NoError(t, err, tc.value)
		assert.Equal(t, tc.want, fmt.Sprintf("%s@%s %s=%d", tick.Stock(), tick.Day(), tick.At(), tick.Price()))
		encoded := kafka.EncodeTick(tick)
		assert.Contains(t, string(encoded), `"date":"`+tick.Day().String()+`"`, "a record always says its day")
		back, err := kafka.DecodeTick(encoded, day0.AddDays(7), s)
		require.NoError(t, err)
		assert.Equal(t, tick, back)
	}
}

// BenchmarkKafkaPath produces a file of one million ticks to an in-process
// kfake broker and consumes it into the memory store: ticks/s end to end.
func BenchmarkKafkaPath(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ticks.csv")
	f, err := os.Create(path)
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(9, 9))
	fmt.Fprintln(f, "Time,Stock,Price")
	const n = 1_000_000
	for range n {
		fmt.Fprintf(f, "%d,stock%d,%d\n", 90000+r.IntN(5959)/100*100+r.IntN(60), 1+r.IntN(manyStocks), 1+r.IntN(3000))
	}
	require.NoError(b, f.Close())
	for b.Loop() {
		c, err := kfake.NewCluster(kfake.NumBrokers(1))
		require.NoError(b, err)
		e := env{brokers: c.ListenAddrs(), topic: "bench", group: testenv.UniqueName("g")}
		start := time.Now()
		sent, err := kafka.Produce(context.Background(), kafka.ProducerConfig{Brokers: e.brokers, Topic: e.topic}, csv.NewSource(path, stocks(b), onDay0))
		require.NoError(b, err)
		produced := time.Since(start)
		src, err := kafka.NewSource(kafka.SourceConfig{Brokers: e.brokers, Topic: e.topic, Group: e.group, Stocks: stocks(b), Logger: quiet})
		require.NoError(b, err)
		store := memory.NewPriceStore()
		ctx, cancel := context.WithCancel(context.Background())
		var applied int
		require.NoError(b, src.Run(ctx, func(ctx context.Context, batch *domain.TickBatch) error {
			if applied += batch.Ticks(); applied >= n {
				cancel()
			}
			return store.Merge(ctx, batch.Histories())
		}))
		src.Close()
		c.Close()
		b.ReportMetric(float64(sent)/produced.Seconds(), "produced-ticks/s")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "end-to-end-ticks/s")
	}
}
