//go:build integration

package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"stockd/internal/testenv"
)

// TestPriceStoreCommandsIgnoreTheDatabase: seed-users, token and update
// write the price store alone, so they neither check nor wait for the
// order store, even configured with ORDER_STORE=postgres as compose
// configures every service. compose starts seed-users and the updaters
// beside `stockd migrate`; when seed-users checked the schema it lost that
// race ("the database schema is behind") and no API started (issue 27).
func TestPriceStoreCommandsIgnoreTheDatabase(t *testing.T) {
	w := newRealWorld(t)
	path := writeCSV(t, "Time,Stock,Price\n90006,stock1,10\n")
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	require.NoError(t, err)
	defer cluster.Close()
	for _, db := range []struct{ name, url string }{
		{"not migrated", testenv.EmptyDatabase(t)},
		{"not up", "postgres://postgres@" + testenv.FreeAddr(t) + "/stocks?sslmode=disable"},
	} {
		env := w.env(map[string]string{"DATABASE_URL": db.url, "PRICE_CSV": path, "SEED_USERS": "user1:1000",
			"KAFKA_BROKERS": strings.Join(cluster.ListenAddrs(), ",")})
		for _, args := range [][]string{{"seed-users"}, {"update"}, {"token", "user1"}} {
			require.NoError(t, run(t.Context(), args, envOf(env), io.Discard, io.Discard), "%s, the database %s", args[0], db.name)
		}

		// The Kafka updater is ready without the database: its /readyz
		// checks what it uses, Redis and Kafka.
		ops := testenv.FreeAddr(t)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"update"}, envOf(env, map[string]string{"PRICE_SOURCE": "kafka", "UPDATER_ADDR": ops}), io.Discard, io.Discard)
		}()
		waitHealthy(t, "http://"+ops, 10*time.Second, done)
		code, ready := getJSON(t, "http://"+ops+"/readyz")
		assert.Equal(t, 200, code, "the database %s: %v", db.name, ready)
		assert.NotContains(t, ready["checks"], "postgres", "the updater has no order store")
		cancel()
		require.NoError(t, <-done)
	}
}
