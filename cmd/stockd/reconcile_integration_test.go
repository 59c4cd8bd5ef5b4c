//go:build integration

package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/postgres"
	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestReconcileAfterAnUpgrade is the operator's run after an upgrade from
// a version without positions, on Redis and PostgreSQL: orders recorded
// with no position (rows of the contract's columns, as that version wrote
// them), a position with no order, and a buy of this version through the
// API. reconcile exits 1 naming the first two, --repair sets them and
// says so, and then the books agree, and stay so through a sale.
func TestReconcileAfterAnUpgrade(t *testing.T) {
	w := newRealWorld(t)
	env := w.env(map[string]string{
		"SEED_USERS": "user1:1000000,user2:6000000000",
		"PRICE_CSV":  writeCSV(t, "Time,Stock,Price\n90006,stock1,1054\n"),
	})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	conn, err := pgx.Connect(t.Context(), w.dbURL)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), `INSERT INTO orders ("user", stock, status, price, quantity, creation_date) VALUES
		('user2', 'stock1', 'accepted', 1054, 100, now() - interval '2 days'),
		('user2', 'stock1', 'accepted', 1124, 50, now() - interval '1 day'),
		('user2', 'stock1', 'denied', 1124, 99999999, now() - interval '1 day'),
		('user1', 'stock2', 'accepted', 7, 3, now() - interval '3 days')`)
	require.NoError(t, err)
	require.NoError(t, w.rdb.Do(t.Context(), w.rdb.B().Hset().Key("stockd:positions:{user3}").FieldValue().FieldValue("stock1", "5:50").Build()).Error())

	base, stop := startService(t, env)
	code, res := postJSON(t, base+"/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":10}`)
	require.Equal(t, 201, code)
	require.Equal(t, "Accept", res["result"])
	require.NoError(t, stop())

	reconcile := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"reconcile"}, args...), envOf(env), &out, io.Discard)
		return out.String(), err
	}
	out, err := reconcile()
	require.ErrorIs(t, err, errBooksDiffer, "exit 1")
	assert.Equal(t, "user1 stock2 held 0 (cost 0) ledger 3 (cost 21)\n"+
		"user2 stock1 held 0 (cost 0) ledger 150 (cost 161600)\n"+
		"user3 stock1 held 5 (cost 50) ledger 0 (cost 0)\n"+
		"3 positions of 3 users differ from the ledger; stockd reconcile --repair sets them\n", out)

	out, err = reconcile("--repair")
	require.NoError(t, err)
	assert.Equal(t, "user1 stock2 held 0 (cost 0) ledger 3 (cost 21): set\n"+
		"user2 stock1 held 0 (cost 0) ledger 150 (cost 161600): set\n"+
		"user3 stock1 held 5 (cost 50) ledger 0 (cost 0): set\n"+
		"set 3 positions of 3 users to the ledger (4 positions of 3 users compared)\n", out)
	hash := func(user string) map[string]string {
		t.Helper()
		all, err := w.rdb.Do(t.Context(), w.rdb.B().Hgetall().Key("stockd:positions:{"+user+"}").Build()).AsStrMap()
		require.NoError(t, err)
		return all
	}
	assert.Equal(t, map[string]string{"stock1": "10:10540", "stock2": "3:21"}, hash("user1"), "the live buy's position kept")
	assert.Equal(t, map[string]string{"stock1": "150:161600"}, hash("user2"))
	assert.Empty(t, hash("user3"))
	assert.JSONEq(t, `{"credit": 6000000000}`, w.get(t, "user2"), "credit is not touched")

	// user3 now holds nothing and has no order: nobody to compare.
	out, err = reconcile()
	require.NoError(t, err, "exit 0")
	assert.Equal(t, "positions agree with the ledger: 3 positions of 2 users compared\n", out)

	// A sale of the repaired position, as SellStock makes one: Redis takes
	// floor(161600 × 30 / 150) off, as the ledger's replay does.
	credits := redis.NewCreditStore(w.rdb)
	pool, err := postgres.Open(w.dbURL)
	require.NoError(t, err)
	defer pool.Close()
	sale, err := domain.NewSell("user2", "stock1", 30)
	require.NoError(t, err)
	o, err := sale.AtPrice("sale-1", 1200, time.Now())
	require.NoError(t, err)
	sold, err := credits.CreditSale(t.Context(), ports.SaleRequest{Order: o})
	require.NoError(t, err)
	require.Equal(t, domain.Accepted, sold.Order.Status())
	out, err = reconcile()
	require.NoError(t, err, "a sale not recorded yet is counted by its pending order")
	assert.Equal(t, "positions agree with the ledger: 3 positions of 2 users compared\n", out)
	_, err = postgres.NewOrderRepository(pool).Save(t.Context(), sold.Order)
	require.NoError(t, err)
	require.NoError(t, credits.SettlePending(t.Context(), "user2", "sale-1"))
	out, err = reconcile()
	require.NoError(t, err)
	assert.Equal(t, "positions agree with the ledger: 3 positions of 2 users compared\n", out)
	assert.Equal(t, map[string]string{"stock1": "120:129280"}, hash("user2"))
}

// TestReconcileNeedsAMigratedDatabase: the ledger is read from the orders
// table, so a database that `stockd migrate` has not reached is refused,
// saying so.
func TestReconcileNeedsAMigratedDatabase(t *testing.T) {
	w := newRealWorld(t)
	var out bytes.Buffer
	err := run(t.Context(), []string{"reconcile"}, envOf(w.env(map[string]string{"DATABASE_URL": testenv.EmptyDatabase(t)})), &out, io.Discard)
	require.ErrorIs(t, err, postgres.ErrSchemaBehind)
	assert.Contains(t, err.Error(), "stockd migrate")
	assert.Empty(t, out.String())
}
