//go:build integration

package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadNamesInConfigurationWriteNothing is issue 16 item 9 on the real
// stores: SEED_USERS='stock1:5,a{b}:7' once wrote "credit":5 into the
// stock1 series and created a user named a{b}. Now seed-users (and update,
// for STOCKS) exits with one line naming the variable, and Redis holds
// exactly what it held before.
func TestBadNamesInConfigurationWriteNothing(t *testing.T) {
	w := newRealWorld(t)
	series := `{"time": ["090000"], "price": [100]}`
	w.set(t, "stock1", series)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,100\n")
	for _, tc := range []struct {
		cmd      string
		variable string
		extraEnv map[string]string
	}{
		{"seed-users", "SEED_USERS", map[string]string{"SEED_USERS": "stock1:5,a{b}:7"}},
		{"seed-users", "SEED_USERS", map[string]string{"SEED_USERS": "user1:5,Stock1:7"}},
		{"seed-users", "SEED_USERS", map[string]string{"SEED_USERS": "user1:5,stockd:idem:{user1}:k:9"}},
		{"seed-users", "STOCKS", map[string]string{"SEED_USERS": "user1:5", "STOCKS": "stock1,a/b"}},
		{"update", "STOCKS", map[string]string{"PRICE_CSV": path, "STOCKS": "stock1,<img src=x>"}},
	} {
		env := w.env(tc.extraEnv)
		err := run(t.Context(), []string{tc.cmd}, envOf(env), io.Discard, io.Discard)
		require.Error(t, err, "%s with %v", tc.cmd, tc.extraEnv)
		assert.True(t, strings.HasPrefix(err.Error(), tc.variable+":"), "%q names %s", err, tc.variable)
		assert.NotContains(t, err.Error(), "\n")
		keys, err := w.rdb.Do(t.Context(), w.rdb.B().Keys().Pattern("*").Build()).AsStrSlice()
		require.NoError(t, err)
		assert.Equal(t, []string{"stock1"}, keys, "nothing written")
		assert.Equal(t, series, w.get(t, "stock1"))
	}
}
