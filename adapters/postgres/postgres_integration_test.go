//go:build integration

package postgres_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
}

func TestMigrateIsIdempotentAndCreatesTheDatabase(t *testing.T) {
	dbURL := testenv.UnusedDatabase(t)
	versions, err := postgres.Migrate(t.Context(), dbURL)
	require.NoError(t, err, "the database is created first")
	assert.Equal(t, []int64{1}, versions)
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
		"creation_date timestamp with time zone", "price bigint", "quantity bigint"}, cols)
}

func TestCheckSchemaRefusesAnEmptyDatabase(t *testing.T) {
	err := postgres.CheckSchema(t.Context(), pool(t, testenv.EmptyDatabase(t)))
	require.ErrorIs(t, err, postgres.ErrSchemaBehind)
	assert.Contains(t, err.Error(), "stockd migrate")
}

func TestConstraintsGuardTheTable(t *testing.T) {
	p := pool(t, testenv.Postgres(t))
	for _, q := range []string{
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('a', 'u', 's', 'maybe', 1, 1)`,
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('b', 'u', 's', 'accepted', 0, 1)`,
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('c', 'u', 's', 'accepted', 1, 0)`,
		`INSERT INTO orders (order_key, "user", stock, status, price, quantity) VALUES ('d', NULL, 's', 'accepted', 1, 1)`,
	} {
		_, err := p.Exec(t.Context(), q)
		require.Error(t, err, q)
	}
}

// TestListingUsesTheIndexes keeps the listing query from drifting into a
// sequential scan: the plan must read the two partial indexes.
func TestListingUsesTheIndexes(t *testing.T) {
	p := pool(t, testenv.Postgres(t))
	_, err := p.Exec(t.Context(), `
		INSERT INTO orders (order_key, "user", stock, status, price, quantity, creation_date)
		SELECT 'k' || g, 'u', 's', CASE WHEN g % 2 = 0 THEN 'accepted' ELSE 'denied' END, 1, 1 + g % 20,
		       now() - g * interval '1 second'
		FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = p.Exec(t.Context(), `ANALYZE orders`)
	require.NoError(t, err)
	v := domain.VisibleAt(time.Now(), time.UTC)
	rows, err := p.Query(t.Context(), `EXPLAIN `+postgres.ListingSQLForTest(false), v.DayStart, v.DayEnd, 101, "")
	require.NoError(t, err)
	plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	joined := ""
	for _, l := range plan {
		joined += l + "\n"
	}
	assert.Contains(t, joined, "orders_accepted_listing")
	assert.Contains(t, joined, "orders_denied_listing")
	assert.NotContains(t, joined, "Seq Scan")
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
