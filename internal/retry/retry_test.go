package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"stockd/internal/retry"
)

var fast = retry.Policy{Initial: time.Microsecond, Max: 10 * time.Microsecond, MaxTries: 5}

func TestDoRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	tries := 0
	got, err := retry.Do(context.Background(), fast, func() (int, error) {
		tries++
		if tries < 3 {
			return 0, errors.New("not yet")
		}
		return 42, nil
	}, nil)
	require.NoError(t, err)
	require.Equal(t, 42, got)
	require.Equal(t, 3, tries)
}

func TestDoStopsAtMaxTries(t *testing.T) {
	t.Parallel()
	tries, notified := 0, 0
	_, err := retry.Do(context.Background(), fast, func() (int, error) {
		tries++
		return 0, errors.New("never")
	}, func(error, time.Duration) { notified++ })
	require.EqualError(t, err, "never")
	require.Equal(t, 5, tries)
	require.Equal(t, 4, notified)
}

func TestDoStopsOnPermanent(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tries := 0
	_, err := retry.Do(context.Background(), fast, func() (int, error) {
		tries++
		return 0, retry.Permanent(boom)
	}, nil)
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, tries)
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	tries := 0
	_, err := retry.Do(ctx, retry.Outage, func() (int, error) {
		tries++
		cancel()
		return 0, errors.New("down")
	}, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, tries)
}

func TestBackOffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	p := retry.Policy{Initial: time.Millisecond, Max: 8 * time.Millisecond}
	b := p.BackOff()
	var last time.Duration
	for range 20 {
		last = b.NextBackOff()
		require.LessOrEqual(t, last, 12*time.Millisecond) // Max plus 50% jitter
	}
	require.GreaterOrEqual(t, last, 4*time.Millisecond) // grown past Initial
}
