package postgres

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: the
// group commit has none of its own, and pools are closed by their tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
