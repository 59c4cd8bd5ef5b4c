package memory

import (
	"time"

	"stockd/ports"
)

var _ ports.Clock = SystemClock{}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
