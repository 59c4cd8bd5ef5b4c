//go:build integration

package postgres_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/postgres"
	"stockd/adapters/storetest"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

func pool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	p, err := postgres.Open(dbURL)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func TestOrderRepositoryContract(t *testing.T) {
	storetest.OrderRepository(t, func(t *testing.T) ports.OrderRepository {
		return postgres.NewOrderRepository(pool(t, testenv.Postgres(t)))
	})
	storetest.Ledger(t, func(t *testing.T) ports.OrderRepository {
		return postgres.NewOrderRepository(pool(t, testenv.Postgres(t)))
	})
}

func TestMigrateIsIdempotentAndCreatesTheDatabase(t *testing.T) {
	dbURL := testenv.UnusedDatabase(t)
	versions, err := postgres.Migrate(t.Context(), dbURL)
	require.NoError(t, err, "the database is created first")
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6}, versions)
	versions, err = postgres.Migrate(t.Context(), dbURL)
	require.NoError(t, err)
	assert.Empty(t, versions, "nothing left to apply")
	require.NoError(t, postgres.CheckSchema(t.Context(), pool(t, dbURL)))

	var cols []string
	rows, err := pool(t, dbURL).Query(t.Context(),
		`SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`)
	require.NoError(t, err)
	cols, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"id bigint", "order_key text", "user text", "stock text", "status text",
		"creation_date timestamp with time zone", "price bigint", "quantity bigint", "side text"}, cols)
}

func TestCheckSchemaRefusesAnEmptyDatabase(t *testing.T) {
	err := postgres.CheckSchema(t.Context(), pool(t, testenv.EmptyDatabase(t)))
	require.ErrorIs(t, err, postgres.ErrSchemaBehind)
	assert.Contains(t, err.Error(), "stockd migrate")
}

func TestCheckSchemaSaysAMissingDatabaseNeedsMigrate(t *testing.T) {
	dbURL := testenv.UnusedDatabase(t)
	p := pool(t, dbURL)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := u.Path[1:]
	for what, err := range map[string]error{
		"CheckSchema": postgres.CheckSchema(t.Context(), p),
		"Ping":        postgres.Ping(t.Context(), p),
	} {
		require.ErrorIs(t, err, postgres.ErrNoDatabase, what)
		require.ErrorIs(t, err, postgres.ErrSchemaBehind, "%s: refused like a schema that is behind", what)
		assert.NotErrorIs(t, err, ports.ErrUnavailable, "%s: a server that answers is not down", what)
		assert.Contains(t, err.Error(), name, what)
		assert.Contains(t, err.Error(), "stockd migrate", what)
	}
}

func TestConstraintsGuardTheTable(t *testing.T) {
	p := pool(t, testenv.Postgres(t))
	_, err := p.Exec(t.Context(), `INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('taken', 'u', 's', 'accepted', 1, 1)`)
	require.NoError(t, err)
	for q, sqlstate := range map[string]string{
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('a', 'u', 's', 'maybe', 1, 1)`:        "23514", // check_violation
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('b', 'u', 's', 'accepted', 0, 1)`:     "23514",
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('c', 'u', 's', 'accepted', 1, 0)`:     "23514",
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('d', NULL, 's', 'accepted', 1, 1)`:    "23502", // not_null_violation
		`INSERT INTO orders ("user", stock, status, price, quantity) VALUES ('u', NULL, 'accepted', 1, 1)`:                    "23502",
		`INSERT INTO orders ("user", stock, price, quantity) VALUES ('u', 's', 1, 1)`:                                         "23502", // status has no default
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('taken', 'u', 's', 'accepted', 1, 1)`: "23505", // unique_violation
		`INSERT INTO orders (id, "user", stock, status, price, quantity) VALUES (1, 'u', 's', 'accepted', 1, 1)`:              "428C9", // generated_always
	} {
		_, err := p.Exec(t.Context(), q)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr, q)
		assert.Equal(t, sqlstate, pgErr.Code, "%s: %s", q, pgErr.Message)
	}
}

// TestARowOfTheContractsColumnsIsListed inserts an order the way another
// tool would, with the contract's columns alone (no order_key, no id, no
// creation_date): it is valid, and listed like any other, and in the
// ledger of positions a buy.
func TestARowOfTheContractsColumnsIsListed(t *testing.T) {
	p := pool(t, testenv.Postgres(t))
	repo := postgres.NewOrderRepository(p)
	mine, err := repo.Save(t.Context(), newOrder(t, "k1", "user1", time.Now().Add(-time.Minute)))
	require.NoError(t, err)
	_, err = p.Exec(t.Context(), `INSERT INTO orders ("user", stock, status, price, quantity) VALUES ('user2', 'stock3', 'accepted', 1054, 7)`)
	require.NoError(t, err)
	_, err = p.Exec(t.Context(), `INSERT INTO orders ("user", stock, status, price, quantity, creation_date) VALUES ('user2', 'stock1', 'accepted', 990, 3, now() - interval '1 hour')`)
	require.NoError(t, err)

	q, err := domain.NewOrderQuery(domain.VisibleAt(time.Now(), time.UTC), nil, 10)
	require.NoError(t, err)
	listed, err := repo.List(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, listed, 3)
	assert.Equal(t, []string{"stock3", "stock1", "stock1"}, []string{listed[0].Stock(), listed[1].Stock(), listed[2].Stock()})
	assert.Equal(t, mine, listed[1])
	assert.NotEqual(t, listed[0].Key(), listed[2].Key(), "each row gets a key of its own")
	got, err := repo.ByKey(t.Context(), listed[0].Key())
	require.NoError(t, err)
	assert.Equal(t, listed[0], got)

	mineOnly, err := repo.List(t.Context(), q.OfUser("user2"))
	require.NoError(t, err)
	assert.Len(t, mineOnly, 2)

	// They are in the ledger of positions too, as buys (the default of
	// side), in ledger order.
	var ledger []domain.Order
	require.NoError(t, repo.AcceptedOrders(t.Context(), "user2", func(o domain.Order) error {
		ledger = append(ledger, o)
		return nil
	}))
	assert.Equal(t, []domain.Order{listed[2], listed[0]}, ledger)
	assert.Equal(t, domain.SideBuy, ledger[0].Side())
}

func TestCursorSecretIsCreatedOnceAndSharedByEveryPool(t *testing.T) {
	dbURL := testenv.Postgres(t)
	p1, p2 := pool(t, dbURL), pool(t, dbURL)
	secrets := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range secrets {
		wg.Go(func() {
			var err error
			secrets[i], err = postgres.CursorSecret(t.Context(), []*pgxpool.Pool{p1, p2}[i%2])
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	require.Len(t, secrets[0], 32)
	assert.NotEqual(t, make([]byte, 32), secrets[0])
	for _, s := range secrets[1:] {
		assert.Equal(t, secrets[0], s, "every process on the database gets the same secret")
	}
	again, err := postgres.CursorSecret(t.Context(), pool(t, dbURL))
	require.NoError(t, err)
	assert.Equal(t, secrets[0], again)

	other, err := postgres.CursorSecret(t.Context(), pool(t, testenv.Postgres(t)))
	require.NoError(t, err)
	assert.NotEqual(t, secrets[0], other, "another database, another secret")
}

// TestListingUsesTheIndexes keeps the listing query from drifting into a
// sequential scan: the plan must read the two partial indexes, one user's
// listing the user's index, and one side's the side's.
func TestListingUsesTheIndexes(t *testing.T) {
	p := pool(t, testenv.Postgres(t))
	_, err := p.Exec(t.Context(), `
		INSERT INTO orders (order_key, "user", stock, status, price, quantity, creation_date, side)
		SELECT 'k' || g, 'u' || g % 50, 's', CASE WHEN g % 2 = 0 THEN 'accepted' ELSE 'denied' END, 1, 1 + g % 20,
		       now() - g * interval '1 second', CASE WHEN g % 7 = 0 THEN 'sell' ELSE 'buy' END
		FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = p.Exec(t.Context(), `ANALYZE orders`)
	require.NoError(t, err)
	v := domain.VisibleAt(time.Now(), time.UTC)
	plan := func(sql string, args ...any) string {
		rows, err := p.Query(t.Context(), `EXPLAIN `+sql, args...)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return strings.Join(lines, "\n")
	}
	for _, cursor := range []bool{false, true} {
		args := []any{v.DayStart(), v.DayEnd(), 101}
		after := []any{}
		if cursor {
			after = []any{time.Now().Add(-time.Hour), int64(10000)}
		}
		everyone := plan(postgres.ListingSQLForTest(cursor, false, false), append(args, after...)...)
		assert.Contains(t, everyone, "orders_accepted_listing", "cursor %v", cursor)
		assert.Contains(t, everyone, "orders_denied_listing", "cursor %v", cursor)
		assert.NotContains(t, everyone, "Seq Scan", "cursor %v", cursor)

		one := plan(postgres.ListingSQLForTest(cursor, true, false), append(append(args, "u7"), after...)...)
		assert.Contains(t, one, "orders_user_listing", "cursor %v", cursor)
		assert.NotContains(t, one, "Seq Scan", "cursor %v", cursor)

		sales := plan(postgres.ListingSQLForTest(cursor, false, true), append(append(args, "sell"), after...)...)
		assert.Contains(t, sales, "orders_side_listing", "cursor %v", cursor)
		assert.NotContains(t, sales, "Seq Scan", "cursor %v", cursor)

		oneSide := plan(postgres.ListingSQLForTest(cursor, true, true), append(append(args, "u7", "sell"), after...)...)
		assert.Contains(t, oneSide, "orders_user_side_listing", "cursor %v", cursor)
		assert.NotContains(t, oneSide, "Seq Scan", "cursor %v", cursor)
	}
}

// TestOutageFailsFastAndRecovers cuts the connection with a proxy: calls
// fail with ErrUnavailable, and the pool recovers when it is back.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	dbURL := testenv.Postgres(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	p := pool(t, u.String())
	repo := postgres.NewOrderRepository(p)
	o, err := domain.NewOrder("k1", "u", "stock1", domain.Accepted, 1, 1, time.Now())
	require.NoError(t, err)
	_, err = repo.Save(t.Context(), o)
	require.NoError(t, err)

	proxy.SetDown(true)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	o2, err := domain.NewOrder("k2", "u", "stock1", domain.Accepted, 1, 1, time.Now())
	require.NoError(t, err)
	_, err = repo.Save(ctx, o2)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, postgres.Ping(ctx, p), ports.ErrUnavailable)

	proxy.SetDown(false)
	require.Eventually(t, func() bool { return postgres.Ping(t.Context(), p) == nil }, 10*time.Second, 50*time.Millisecond)
	saved, err := repo.Save(t.Context(), o2)
	require.NoError(t, err)
	assert.Positive(t, saved.ID())
}

func newOrder(t *testing.T, key, user string, at time.Time) domain.Order {
	t.Helper()
	o, err := domain.NewOrder(key, user, "stock1", domain.Accepted, 1, 1, at)
	require.NoError(t, err)
	return o
}

// TestABatchCutMidwayLosesAndDoublesNothing holds a batch inside the
// database (the table is locked by another session), cuts the connection
// under it, then lets the orphaned statement finish: its orders are
// committed though every caller was told the store is unavailable, and the
// batches behind it never reached the server. Saving every key again, as
// the settler does with the pending orders, then records each order
// exactly once, with the id the database gave it.
func TestABatchCutMidwayLosesAndDoublesNothing(t *testing.T) {
	dbURL := testenv.Postgres(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	proxy := testenv.StartProxy(t, u.Host)
	u.Host = proxy.Addr
	repo := postgres.NewOrderRepository(pool(t, u.String()))
	admin := pool(t, dbURL)
	// A first save prepares the insert on the pool's one connection, so that
	// the held batch is already executing (not parsing) when it is cut.
	warm, err := repo.Save(t.Context(), newOrder(t, "warm", "user0", time.Now()))
	require.NoError(t, err)

	locker, err := admin.Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = locker.Rollback(context.WithoutCancel(t.Context())) }()
	_, err = locker.Exec(t.Context(), `LOCK TABLE orders IN SHARE MODE`)
	require.NoError(t, err)

	const n = 300
	at := time.Now()
	orders := make([]domain.Order, n)
	errs := make([]error, n)
	for i := range orders {
		orders[i] = newOrder(t, "cut-"+strconv.Itoa(i), "user"+strconv.Itoa(i%7), at.Add(time.Duration(i)*time.Microsecond))
	}
	var wg sync.WaitGroup
	for i, o := range orders {
		wg.Go(func() { _, errs[i] = repo.Save(t.Context(), o) })
	}
	require.Eventually(t, func() bool {
		var waiting int
		err := admin.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO orders%'`).Scan(&waiting)
		return err == nil && waiting == 1
	}, 10*time.Second, 10*time.Millisecond, "a batch waits for the lock inside the server")

	proxy.SetDown(true)
	wg.Wait()
	for i, err := range errs {
		require.ErrorIs(t, err, ports.ErrUnavailable, "save %d", i)
	}
	require.NoError(t, locker.Commit(t.Context()))
	var committed int
	require.Eventually(t, func() bool {
		return admin.QueryRow(t.Context(), `SELECT count(*) - 1 FROM orders`).Scan(&committed) == nil && committed > 0
	}, 10*time.Second, 10*time.Millisecond, "the orphaned batch commits: its callers' outcome was unknown")
	assert.Less(t, committed, n, "the batches behind it were not written")
	orders = append(orders, warm)

	proxy.SetDown(false)
	saved := make([]domain.Order, len(orders))
	for i, o := range orders {
		wg.Go(func() {
			var err error
			saved[i], err = repo.Save(t.Context(), o)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	rows, err := admin.Query(t.Context(), `SELECT order_key, count(*) OVER (PARTITION BY order_key), id FROM orders`)
	require.NoError(t, err)
	type row struct {
		Key   string
		Count int64
		ID    int64
	}
	stored, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	require.NoError(t, err)
	require.Len(t, stored, len(orders), "no order lost, none doubled")
	ids := map[string]int64{}
	for _, r := range stored {
		assert.Equal(t, int64(1), r.Count, r.Key)
		ids[r.Key] = r.ID
	}
	for i, o := range orders {
		assert.Equal(t, o.WithID(ids[o.Key()]), saved[i], "save %d answers with the stored order", i)
	}
}
