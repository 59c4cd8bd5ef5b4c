package redis

import (
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
)

func seriesOf(day domain.Day, prices ...int64) domain.MinuteSeries {
	h := domain.NewPriceHistory()
	for i, p := range prices {
		h.Record(domain.TimeOfDay(9*3600+60*i+7), p)
	}
	s := h.Series()
	s = s.OnDay(day)
	return s
}

// TestSeriesCacheMatchesBytes: an entry is found only for the very value
// it was made of; a value of the same length with other bytes, or of
// another stock, is a miss.
func TestSeriesCacheMatchesBytes(t *testing.T) {
	c := newSeriesCache()
	_, ok := c.lookup("stock1", "v1")
	require.False(t, ok, "empty")
	c.store("stock1", "v1", seriesOf(20260302, 10, 11))
	e, ok := c.lookup("stock1", "v1")
	require.True(t, ok)
	assert.Equal(t, domain.Quote{Day: 20260302, At: 9*3600 + 67, Price: 11}, e.quote)
	assert.True(t, e.hasQuote)
	assert.Equal(t, domain.Day(20260302), e.day)
	require.NotNil(t, e.series)
	assert.Equal(t, []int64{10, 11}, e.series.Closes())

	_, ok = c.lookup("stock1", "v2")
	assert.False(t, ok, "same length, other bytes")
	_, ok = c.lookup("stock2", "v1")
	assert.False(t, ok, "another stock")

	c.store("stock1", "v2", seriesOf(20260303, 12))
	_, ok = c.lookup("stock1", "v1")
	assert.False(t, ok, "replaced by the newer value")
	e, ok = c.lookup("stock1", "v2")
	require.True(t, ok)
	assert.Equal(t, int64(12), e.quote.Price)
}

// TestSeriesCacheEmptySeries: a value that holds no minute has no quote,
// and that is remembered too.
func TestSeriesCacheEmptySeries(t *testing.T) {
	c := newSeriesCache()
	c.store("stock1", "{}", domain.NewPriceHistory().Series())
	e, ok := c.lookup("stock1", "{}")
	require.True(t, ok)
	assert.False(t, e.hasQuote)
}

// TestSeriesCacheQuoteOnly: a quote taken from stockd:last is remembered
// without a series; it does not replace a parsed series of the same value,
// and a later parse of the value adds the series.
func TestSeriesCacheQuoteOnly(t *testing.T) {
	c := newSeriesCache()
	q := domain.Quote{Day: 20260302, At: 9 * 3600, Price: 5}
	c.storeQuote("stock1", "v1", q)
	e, ok := c.lookup("stock1", "v1")
	require.True(t, ok)
	assert.Equal(t, q, e.quote)
	assert.Nil(t, e.series, "nobody parsed it")

	c.store("stock1", "v1", seriesOf(20260302, 5))
	c.storeQuote("stock1", "v1", q)
	e, _ = c.lookup("stock1", "v1")
	assert.NotNil(t, e.series, "the parsed series stays")

	c.storeQuote("stock1", "v2", domain.Quote{Day: 20260303, At: 9 * 3600, Price: 6})
	e, ok = c.lookup("stock1", "v2")
	require.True(t, ok)
	assert.Nil(t, e.series, "another value: its own entry")
	assert.Equal(t, domain.Day(20260303), e.day)
}

// TestSeriesCacheKeepsTheReadersBytes: after a hit the entry holds the
// caller's string, so that the next comparison with the same string is a
// pointer's, not a comparison of a whole day's JSON.
func TestSeriesCacheKeepsTheReadersBytes(t *testing.T) {
	c := newSeriesCache()
	written := strings.Repeat("x", 1000)
	read := strings.Clone(written)
	c.store("stock1", written, seriesOf(20260302, 1))
	_, ok := c.lookup("stock1", read)
	require.True(t, ok)
	c.mu.Lock()
	held := c.entries["stock1"].raw
	c.mu.Unlock()
	assert.Same(t, unsafe.StringData(read), unsafe.StringData(held), "the entry now holds the reader's copy")
}

// TestSeriesCacheConcurrent: readers and writers of many stocks at once
// (run with -race); whatever interleaving, an entry found for a value is
// that value's.
func TestSeriesCacheConcurrent(t *testing.T) {
	c := newSeriesCache()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			stock := []string{"stock1", "stock2"}[g%2]
			for i := range 500 {
				price := int64(1 + (g*1000+i)%7)
				raw := string(rune('a' + price))
				if i%3 == 0 {
					c.store(stock, raw, seriesOf(20260302, price))
				}
				if e, ok := c.lookup(stock, raw); ok && e.quote.Price != price {
					t.Errorf("%s: value %q has price %d, want %d", stock, raw, e.quote.Price, price)
					return
				}
			}
		})
	}
	wg.Wait()
}
