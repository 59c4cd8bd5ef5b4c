package memory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/domain"
	"stockd/internal/domaintest"
)

// TestStorePublishesChanges: the memory store tells its feed the minutes a
// merge changed in the latest day, with the day; nothing when a merge
// changes nothing or only an earlier day; a new day's every minute.
func TestStorePublishesChanges(t *testing.T) {
	const d1, d2 domain.Day = 20260302, 20260303
	s := memory.NewPriceStore()
	ch := s.Feed().Watch(t.Context(), []string{"stock1"})
	b := domain.NewTickBatch()
	b.Add(domaintest.Tick("stock1", d1, 9*3600, 10))
	b.Add(domaintest.Tick("stock1", d1, 9*3600+125, 12))
	require.NoError(t, s.Merge(t.Context(), b.Histories()))
	got := <-ch
	assert.Equal(t, d1, got.Day)
	require.Len(t, got.Minutes, 3)
	assert.Equal(t, domain.MinuteCandle{Minute: 9*3600 + 60, Open: 10, High: 10, Low: 10, Close: 10}, got.Minutes[1])
	require.NoError(t, s.Merge(t.Context(), b.Histories()))
	assert.Empty(t, ch, "re-applying a batch changes nothing")

	next := domain.NewTickBatch()
	next.Add(domaintest.Tick("stock1", d2, 9*3600, 10)) // equal to day 1's first minute, yet new
	require.NoError(t, s.Merge(t.Context(), next.Histories()))
	assert.Equal(t, domain.StockChange{Stock: "stock1", DayChange: domain.DayChange{Day: d2, Minutes: []domain.MinuteCandle{{Minute: 9 * 3600, Open: 10, High: 10, Low: 10, Close: 10}}}}, <-ch)

	late := domain.NewTickBatch()
	late.Add(domaintest.Tick("stock1", d1, 10*3600, 99))
	require.NoError(t, s.Merge(t.Context(), late.Histories()))
	assert.Empty(t, ch, "a late tick of an earlier day is not the latest day's change")
}
