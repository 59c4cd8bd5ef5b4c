package kafka_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a
// consumer that was not closed, a producer promise still running.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
