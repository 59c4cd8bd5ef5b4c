//go:build integration || multi

package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
)

// ledgerOf is what user's accepted orders in the database of dbURL say it
// holds: per stock, the bought quantities less the sold ones (stocks of
// none left out).
func ledgerOf(t *testing.T, dbURL, user string) map[string]int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT stock, sum(CASE WHEN side = 'sell' THEN -quantity ELSE quantity END)::bigint
		FROM orders WHERE "user" = $1 AND status = 'accepted' GROUP BY stock`, user)
	require.NoError(t, err)
	out := map[string]int64{}
	for rows.Next() {
		var stock string
		var q int64
		require.NoError(t, rows.Scan(&stock, &q))
		if q != 0 {
			out[stock] = q
		}
	}
	require.NoError(t, rows.Err())
	return out
}

// heldIn is the quantity of each stock user holds in Redis: every stored
// position holds at least one share.
func heldIn(t *testing.T, rdb rueidis.Client, user string) map[string]int64 {
	t.Helper()
	stored, err := rdb.Do(t.Context(), rdb.B().Hgetall().Key("stockd:positions:{"+user+"}").Build()).AsStrMap()
	require.NoError(t, err)
	out := map[string]int64{}
	for stock, v := range stored {
		q, _, ok := strings.Cut(v, ":")
		require.True(t, ok, "position %q", v)
		n, err := strconv.ParseInt(q, 10, 64)
		require.NoError(t, err)
		require.Positive(t, n, "%s %s: a stored position holds shares", user, stock)
		out[stock] = n
	}
	return out
}
