//go:build unix

package http

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStreamsLeaveAQuarterOfTheDescriptors(t *testing.T) {
	t.Parallel()
	for limit, want := range map[uint64]uint64{1024: 768, 512: 256, 256: 0, 100: 0, 1 << 20: 3 << 18} {
		assert.Equal(t, want, streamsWithin(limit), "limit %d", limit)
	}
	// The process's own limit (raised to its hard limit) leaves the usual
	// 10000 streams alone only when it is large enough; either way the
	// answer is at least one stream and at most what was asked.
	got := StreamCapacity(10000, slog.New(slog.NewTextHandler(io.Discard, nil)))
	assert.True(t, got >= 1 && got <= 10000, "%d", got)
}
