package kafka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/kafka"
	"stockd/adapters/memory"
	"stockd/domain"
)

// writeDatedTicks writes n random ticks over three days, with a Date
// column, unsorted.
func writeDatedTicks(t *testing.T, n int, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	var b strings.Builder
	b.WriteString("Date,Time,Stock,Price\n")
	for range n {
		at := domain.TimeOfDay(9*3600 + r.IntN(3600))
		fmt.Fprintf(&b, "%s,%s,stock%d,%d\n", day0.AddDays(r.IntN(3)), at, 1+r.IntN(manyStocks), 1+r.IntN(3000))
	}
	path := filepath.Join(t.TempDir(), "dated.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// TestDatedTicksKeepTheirDayThroughKafka: produce writes each tick's day,
// so a file over three days reaches the store as the CSV path stores it,
// whenever the records were written.
func TestDatedTicksKeepTheirDayThroughKafka(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := writeDatedTicks(t, 3000, 11)
	n := e.produce(t, path)
	store := memory.NewPriceStore()
	require.NoError(t, consume(t, e.source(t, 500, nil), store, n))
	want := csvSeries(t, path)
	require.Len(t, want, 3*manyStocks, "every stock on every day")
	assert.Equal(t, want, storeSeries(t, store))
}

// TestARecordWithoutDateIsOnItsTimestampsDate: the date of the record's
// timestamp in APP_TIMEZONE, which may be another than in UTC; a date in
// the value wins.
func TestARecordWithoutDateIsOnItsTimestampsDate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.DefaultProduceTopic(e.topic))
	require.NoError(t, err)
	defer cl.Close()
	require.NoError(t, kafka.EnsureTopics(t.Context(), cl, e.topic))
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return ts
	}
	records := []*kgo.Record{
		// 22:00 in New York on the 2nd is 03:00 UTC on the 3rd.
		{Key: []byte("stock1"), Timestamp: utc("2026-03-03T03:00:00Z"), Value: []byte(`{"stock":"stock1","time":"220000","price":5}`)},
		{Key: []byte("stock1"), Timestamp: utc("2026-03-03T14:00:00Z"), Value: []byte(`{"stock":"stock1","time":"090000","price":6}`)},
		{Key: []byte("stock2"), Timestamp: utc("2026-03-03T14:00:00Z"), Value: []byte(`{"stock":"stock2","date":"2026-02-27","time":"090000","price":7}`)},
	}
	require.NoError(t, cl.ProduceSync(t.Context(), records...).FirstErr())

	src, err := kafka.NewSource(kafka.SourceConfig{Brokers: e.brokers, Topic: e.topic, Group: e.group,
		Stocks: stocks(t), Zone: ny, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	store := memory.NewPriceStore()
	require.NoError(t, consume(t, src, store, len(records)))

	days := func(stock string) []string {
		ds, err := store.Days(context.Background(), stock)
		require.NoError(t, err)
		var out []string
		for _, d := range ds {
			out = append(out, d.String())
		}
		return out
	}
	assert.Equal(t, []string{"2026-03-02", "2026-03-03"}, days("stock1"))
	assert.Equal(t, []string{"2026-02-27"}, days("stock2"))
	q, ok, err := store.Latest(context.Background(), "stock1")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "2026-03-03 090000 6", fmt.Sprintf("%s %s %d", q.Day, q.At, q.Price))
}
