package testenv

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"stockd/adapters/postgres"
)

// ServerURL is the PostgreSQL server the integration tests create their
// databases on: STOCKD_TEST_DATABASE_URL, or the local default.
func ServerURL() string {
	return Getenv("STOCKD_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

const startPostgres = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start " +
	"(or point STOCKD_TEST_DATABASE_URL at a server where the tests may create databases)"

// EmptyDatabase creates a uniquely named database that nobody migrated,
// drops it when the test ends, and returns its URL.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	server := ServerURL()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL at %s is not reachable: %v; %s", server, err, startPostgres)
	}
	defer conn.Close(ctx)
	name := UniqueName("stockd_test_")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create %s: %v", name, err)
	}
	dropAtCleanup(t, server, name)
	return databaseURL(t, server, name)
}

func databaseURL(t testing.TB, server, name string) string {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func dropAtCleanup(t testing.TB, server, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("testenv: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop %s: %v", name, err)
		}
	})
}

// UnusedDatabase returns the URL of a uniquely named database that does
// not exist yet, and drops it when the test ends if something created it.
func UnusedDatabase(t testing.TB) string {
	t.Helper()
	server, name := ServerURL(), UniqueName("stockd_test_")
	dropAtCleanup(t, server, name)
	return databaseURL(t, server, name)
}

// Postgres creates a uniquely named database, migrated by the embedded
// migrations as `stockd migrate` does, drops it when the test ends, and
// returns its URL.
func Postgres(t testing.TB) string {
	t.Helper()
	dbURL := EmptyDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := postgres.Migrate(ctx, dbURL); err != nil {
		t.Fatalf("testenv: migrate: %v", err)
	}
	return dbURL
}
