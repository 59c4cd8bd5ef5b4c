package redis

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

// fakeClient stands for a built client: only its identity and Close matter.
type fakeClient struct {
	rueidis.Client
	closed bool
}

func (f *fakeClient) Close() { f.closed = true }

type fixedWait time.Duration

func (w fixedWait) NextBackOff() time.Duration { return time.Duration(w) }

// testConnector returns a connector whose dials run dial and whose clock is
// *now, waiting a second between failed dials.
func testConnector(t *testing.T, now *time.Time, dial func(rueidis.ClientOption) (rueidis.Client, error)) *Connector {
	t.Helper()
	c, err := NewConnector([]string{"127.0.0.1:1"})
	require.NoError(t, err)
	c.dial, c.now, c.wait = dial, func() time.Time { return *now }, fixedWait(time.Second)
	return c
}

// TestConnectorSpacesDials: a failed dial is tried again only once the
// retry policy's wait has passed; meanwhile every call fails at once with
// the dial's outage; the first dial that works gives the one client.
func TestConnectorSpacesDials(t *testing.T) {
	now := time.Unix(1e9, 0)
	dials, up := 0, false
	client := &fakeClient{}
	c := testConnector(t, &now, func(opt rueidis.ClientOption) (rueidis.Client, error) {
		dials++
		assert.Equal(t, []string{"127.0.0.1:1"}, opt.InitAddress)
		if !up {
			return nil, errors.New("dial tcp: connection refused")
		}
		return client, nil
	})
	for range 3 {
		_, err := c.Client(t.Context())
		require.ErrorIs(t, err, ports.ErrUnavailable)
	}
	assert.Equal(t, 1, dials, "no second dial within the wait")
	now = now.Add(time.Second - time.Nanosecond)
	_, err := c.Client(t.Context())
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Equal(t, 1, dials)

	up = true
	now = now.Add(time.Nanosecond)
	got, err := c.Client(t.Context())
	require.NoError(t, err)
	assert.Same(t, client, got)
	assert.Equal(t, 2, dials)
	got, err = c.Client(t.Context())
	require.NoError(t, err)
	assert.Same(t, client, got)
	assert.Equal(t, 2, dials, "built once")

	c.Close()
	assert.True(t, client.closed)
}

// TestConnectorDialsOneAtATime: while one call dials, another fails at
// once with ErrUnavailable rather than queue behind the dial.
func TestConnectorDialsOneAtATime(t *testing.T) {
	now := time.Unix(1e9, 0)
	dialing, release := make(chan struct{}), make(chan struct{})
	client := &fakeClient{}
	c := testConnector(t, &now, func(rueidis.ClientOption) (rueidis.Client, error) {
		close(dialing)
		<-release
		return client, nil
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		got, err := c.Client(t.Context())
		assert.NoError(t, err)
		assert.Same(t, client, got)
	})
	<-dialing
	_, err := c.Client(t.Context())
	require.ErrorIs(t, err, ports.ErrUnavailable)
	close(release)
	wg.Wait()
	got, err := c.Client(t.Context())
	require.NoError(t, err)
	assert.Same(t, client, got)
}

// TestConnectorClosedBuildsNothing: after Close no dial happens, and the
// error is not an outage.
func TestConnectorClosedBuildsNothing(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := testConnector(t, &now, func(rueidis.ClientOption) (rueidis.Client, error) {
		t.Error("dialled after Close")
		return nil, errors.New("unreachable")
	})
	c.Close()
	_, err := c.Client(t.Context())
	require.ErrorIs(t, err, errClosed)
	require.NotErrorIs(t, err, ports.ErrUnavailable)
}
