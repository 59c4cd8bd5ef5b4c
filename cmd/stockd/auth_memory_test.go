package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTokensOnTheMemoryStoreAreRefused: `stockd serve` with AUTH=tokens and
// the memory store exits at once, in one line naming both variables,
// instead of serving a 401 to every call (issue 17 item 4).
func TestTokensOnTheMemoryStoreAreRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"serve"}} {
		// Without the refusal it would serve until the deadline, then
		// exit cleanly.
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err := run(ctx, args, envOf(map[string]string{"AUTH": "tokens", "HTTP_ADDR": "127.0.0.1:0"}), io.Discard, io.Discard)
		cancel()
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), "AUTH")
		assert.Contains(t, err.Error(), "PRICE_STORE")
	}
}
