package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
)

// TestMergedRefusesADayItDidNotRead: a merge that would write an earlier
// day whose key it did not read first (its compare-and-set would then
// overwrite the day blind) fails instead, and writes nothing.
func TestMergedRefusesADayItDidNotRead(t *testing.T) {
	w := &priceWriter{cfg: priceConfig{zone: time.UTC, keepDays: 30}}
	before, err := parseStored("stock1", []byte(`{"time":["090000"],"price":[5],"date":"2026-03-03"}`))
	require.NoError(t, err)
	late := domain.DayHistories{20260302: domain.NewPriceHistory()}
	late[20260302].Record(9*3600, 4)
	_, err = w.merged("stock1", before, late, nil, nil, 0)
	require.ErrorContains(t, err, "2026-03-02 was not read")

	read, err := parseStored("stockd:day:{stock1}:2026-03-02", nil)
	require.NoError(t, err)
	wr, err := w.merged("stock1", before, late, []domain.Day{20260302}, []*storedSeries{read}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"stock1", "stockd:last:{stock1}", "stockd:last-of:{stock1}", "stockd:days:{stock1}", "stockd:day:{stock1}:2026-03-02"}, wr.exec.Keys)
	assert.True(t, wr.writes)
	assert.Same(t, before, wr.after, "a late tick leaves the latest series")
}
