package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"stockd/adapters/memory"
)

func TestManualClockMovesOnlyWhenTold(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	c := memory.NewManualClock(start)
	assert.Equal(t, start, c.Now())
	assert.Equal(t, start, c.Now(), "it does not move by itself")
	c.Advance(90 * time.Second)
	assert.Equal(t, start.Add(90*time.Second), c.Now())
	c.Set(start.Add(-time.Hour))
	assert.Equal(t, start.Add(-time.Hour), c.Now(), "it can go back, as a test may need")
}
