package app_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a use case leaves a goroutine behind
// (the settler's Run is one that starts them).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
