package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
)

// fakeFlush stands in for the database: it records every batch, can be held
// at its start by a gate, and stores an order as itself with an id.
type fakeFlush struct {
	mu       sync.Mutex
	batches  [][]domain.Order
	nextID   int64
	running  atomic.Int32
	overlaps atomic.Int32
	gate     chan struct{} // when not nil, every flush waits for a value
	started  chan struct{} // when not nil, told of every flush's start
	fail     error
}

func (f *fakeFlush) flush(_ context.Context, orders []domain.Order) []savedOrder {
	if f.running.Add(1) > 1 {
		f.overlaps.Add(1)
	}
	defer f.running.Add(-1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, orders)
	out := make([]savedOrder, len(orders))
	for i, o := range orders {
		if f.fail != nil {
			out[i].err = f.fail
			continue
		}
		f.nextID++
		out[i].order = o.WithID(f.nextID)
	}
	return out
}

func (f *fakeFlush) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var n []int
	for _, b := range f.batches {
		n = append(n, len(b))
	}
	return n
}

func testOrder(t testing.TB, i int) domain.Order {
	t.Helper()
	o, err := domain.NewOrder(fmt.Sprintf("key-%d", i), "u", "stock1", domain.Accepted, 1, 1,
		time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return o
}

func queued(g *groupCommit) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

func TestGroupCommitFlushesALoneSaveAtOnce(t *testing.T) {
	t.Parallel()
	f := &fakeFlush{}
	g := &groupCommit{flush: f.flush}
	for i := range 3 {
		saved, err := g.save(t.Context(), testOrder(t, i))
		require.NoError(t, err)
		assert.Equal(t, testOrder(t, i).WithID(int64(i+1)), saved)
	}
	assert.Equal(t, []int{1, 1, 1}, f.sizes(), "one flush per save when saves do not overlap")
	assert.False(t, g.flushing)
}

func TestGroupCommitGathersWhatArrivesDuringAFlush(t *testing.T) {
	t.Parallel()
	f := &fakeFlush{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	g := &groupCommit{flush: f.flush}
	const late = 300
	results := make([]domain.Order, late+1)
	var wg sync.WaitGroup
	save := func(i int) {
		saved, err := g.save(t.Context(), testOrder(t, i))
		assert.NoError(t, err)
		results[i] = saved
	}
	wg.Go(func() { save(0) })
	<-f.started // the first save flushes alone, and is held there
	for i := 1; i <= late; i++ {
		wg.Go(func() { save(i) })
	}
	require.Eventually(t, func() bool { return queued(g) == late }, 10*time.Second, time.Millisecond)
	go func() {
		for range 3 {
			f.gate <- struct{}{}
		}
	}()
	wg.Wait()
	assert.Equal(t, []int{1, maxBatch, late - maxBatch}, f.sizes(), "bounded batches of what waited")
	ids := map[int64]bool{}
	for i, saved := range results {
		assert.Equal(t, testOrder(t, i).Key(), saved.Key(), "each caller gets its own order")
		ids[saved.ID()] = true
	}
	assert.Len(t, ids, late+1, "and its own id")
	assert.Zero(t, f.overlaps.Load(), "one flush at a time")
}

func TestGroupCommitFailsEveryCallerOfAFailedFlush(t *testing.T) {
	t.Parallel()
	boom := errors.New("server gone")
	f := &fakeFlush{gate: make(chan struct{}), started: make(chan struct{}, 10), fail: boom}
	g := &groupCommit{flush: f.flush}
	var wg sync.WaitGroup
	var failed atomic.Int32
	save := func(i int) {
		_, err := g.save(t.Context(), testOrder(t, i))
		if assert.ErrorIs(t, err, boom) {
			failed.Add(1)
		}
	}
	wg.Go(func() { save(0) })
	<-f.started
	for i := 1; i <= 20; i++ {
		wg.Go(func() { save(i) })
	}
	require.Eventually(t, func() bool { return queued(g) == 20 }, 10*time.Second, time.Millisecond)
	f.gate <- struct{}{}
	f.gate <- struct{}{}
	wg.Wait()
	assert.Equal(t, int32(21), failed.Load())
	assert.Equal(t, []int{1, 20}, f.sizes())
}

func TestGroupCommitCallerThatGivesUp(t *testing.T) {
	t.Parallel()
	f := &fakeFlush{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	g := &groupCommit{flush: f.flush}
	var wg sync.WaitGroup
	var first, third domain.Order
	wg.Go(func() {
		var err error
		first, err = g.save(t.Context(), testOrder(t, 0))
		assert.NoError(t, err)
	})
	<-f.started

	// Queued, then gone: it gets its context's error at once, and its order
	// is never flushed.
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error)
	go func() {
		_, err := g.save(ctx, testOrder(t, 1))
		gaveUp <- err
	}()
	require.Eventually(t, func() bool { return queued(g) == 1 }, 10*time.Second, time.Millisecond)
	wg.Go(func() {
		var err error
		third, err = g.save(t.Context(), testOrder(t, 2))
		assert.NoError(t, err)
	})
	require.Eventually(t, func() bool { return queued(g) == 2 }, 10*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled)

	f.gate <- struct{}{}
	<-f.started // the third save now flushes, without the second
	f.gate <- struct{}{}
	wg.Wait()
	assert.Equal(t, "key-0", first.Key())
	assert.Equal(t, "key-2", third.Key())
	assert.Equal(t, []int{1, 1}, f.sizes())
	f.mu.Lock()
	assert.Equal(t, "key-2", f.batches[1][0].Key())
	f.mu.Unlock()
}

func TestGroupCommitCallerThatGivesUpDuringItsFlushLeavesTheBatch(t *testing.T) {
	t.Parallel()
	f := &fakeFlush{gate: make(chan struct{}), started: make(chan struct{}, 10)}
	g := &groupCommit{flush: f.flush}
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := g.save(t.Context(), testOrder(t, 0))
		assert.NoError(t, err)
	})
	<-f.started
	// The second save will run the next flush; the third joins it.
	var second domain.Order
	wg.Go(func() {
		var err error
		second, err = g.save(t.Context(), testOrder(t, 1))
		assert.NoError(t, err)
	})
	require.Eventually(t, func() bool { return queued(g) == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	gaveUp := make(chan error)
	go func() {
		_, err := g.save(ctx, testOrder(t, 2))
		gaveUp <- err
	}()
	require.Eventually(t, func() bool { return queued(g) == 2 }, 10*time.Second, time.Millisecond)
	f.gate <- struct{}{}
	<-f.started // the second and third are in this flush now
	cancel()
	require.ErrorIs(t, <-gaveUp, context.Canceled, "a caller that gives up is answered at once")
	f.gate <- struct{}{}
	wg.Wait()
	assert.Equal(t, []int{1, 2}, f.sizes(), "its batch went on for the others")
	assert.Equal(t, "key-1", second.Key())
	assert.Positive(t, second.ID())
}

// TestGroupCommitUnderRandomCancellation runs many saves, some of which
// give up at random moments (queued, handed the next flush, or in one):
// every other caller gets its own order, no flush overlaps another or
// exceeds the bound, and nothing is left waiting.
func TestGroupCommitUnderRandomCancellation(t *testing.T) {
	t.Parallel()
	f := &fakeFlush{}
	slow := func(ctx context.Context, orders []domain.Order) []savedOrder {
		time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		return f.flush(ctx, orders)
	}
	g := &groupCommit{flush: slow}
	var wg sync.WaitGroup
	for i := range 2000 {
		wg.Go(func() {
			ctx := t.Context()
			if i%3 == 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(300))*time.Microsecond)
				defer cancel()
			}
			saved, err := g.save(ctx, testOrder(t, i))
			if err != nil {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Zero(t, i%3, "only callers that give up fail")
				return
			}
			assert.Equal(t, fmt.Sprintf("key-%d", i), saved.Key())
			assert.Positive(t, saved.ID())
		})
	}
	wg.Wait()
	assert.Zero(t, f.overlaps.Load())
	for _, n := range f.sizes() {
		assert.LessOrEqual(t, n, maxBatch)
	}
	assert.Zero(t, queued(g))
	assert.False(t, g.flushing)
}
