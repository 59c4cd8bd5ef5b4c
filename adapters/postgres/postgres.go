// Package postgres holds the PostgreSQL adapter of the order repository
// (pgx pool) and the schema migrations (goose, embedded in the binary).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"stockd/migrations"
	"stockd/ports"
)

// ErrSchemaBehind reports a database whose migrations are not all applied.
var ErrSchemaBehind = errors.New("the database schema is behind: run `stockd migrate`")

// ErrNoDatabase reports that the database of DATABASE_URL does not exist
// (SQLSTATE 3D000): a server that answers this is up, and waiting will not
// help. An error that is ErrNoDatabase is also ErrSchemaBehind (no
// migration is applied), so whoever refuses a schema that is behind
// refuses a missing database too.
var ErrNoDatabase = errors.New("the database does not exist: run `stockd migrate`")

// noDatabaseError is ErrNoDatabase for one database name.
type noDatabaseError struct{ name string }

func (e noDatabaseError) Error() string {
	return fmt.Sprintf("database %q does not exist: run `stockd migrate`", e.name)
}

func (e noDatabaseError) Is(target error) bool {
	return target == ErrNoDatabase || target == ErrSchemaBehind
}

// noDatabase returns ErrNoDatabase naming the database if err says that it
// does not exist, and nil otherwise.
func noDatabase(err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return nil
	}
	name := ""
	if connErr := (*pgconn.ConnectError)(nil); errors.As(err, &connErr) && connErr.Config != nil {
		name = connErr.Config.Database
	}
	return noDatabaseError{name: name}
}

// Open returns a pool for databaseURL. Connections are made when first
// needed, so a long-running command starts while the server is down.
func Open(databaseURL string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 3*time.Second {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second // fail fast in an outage
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return pool, nil
}

// Ping reports whether the server answers, and ErrNoDatabase when it
// answers that the database does not exist.
func Ping(ctx context.Context, pool *pgxpool.Pool) error {
	err := pool.Ping(ctx)
	if nodb := noDatabase(err); nodb != nil {
		return nodb
	}
	return translate(err)
}

// Ready is the readiness check of the order store: the server answers and
// the schema is current.
func Ready(ctx context.Context, pool *pgxpool.Pool) error {
	if err := Ping(ctx, pool); err != nil {
		return err
	}
	return CheckSchema(ctx, pool)
}

// CheckSchema returns ErrSchemaBehind unless every migration is applied,
// and ErrNoDatabase (which is also ErrSchemaBehind) when the database does
// not exist.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err := noDatabase(err); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("read schema version: %w", translate(err))
	}
	if current < target {
		return fmt.Errorf("%w (at version %d of %d)", ErrSchemaBehind, current, target)
	}
	return nil
}

// Migrate creates the database of databaseURL if it does not exist, then
// applies every migration. It returns the versions applied.
func Migrate(ctx context.Context, databaseURL string) ([]int64, error) {
	if err := createDatabase(ctx, databaseURL); err != nil {
		return nil, err
	}
	pool, err := Open(databaseURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", translate(err))
	}
	versions := make([]int64, len(results))
	for i, r := range results {
		versions[i] = r.Source.Version
	}
	return versions, nil
}

// createDatabase connects to the server's maintenance database and creates
// the target database unless it exists.
func createDatabase(ctx context.Context, databaseURL string) error {
	u, err := url.Parse(databaseURL)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return fmt.Errorf("DATABASE_URL: want postgres://user@host:port/database")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return fmt.Errorf("DATABASE_URL: no database name")
	}
	admin := *u
	admin.Path = "/postgres"
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		return fmt.Errorf("connect to %s: %w", u.Host, translate(err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, translate(err))
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
		return nil // created meanwhile by another migrate
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, translate(err))
	}
	return nil
}

// translate maps driver errors to port errors. A server's answer is a real
// error, except those that mean it cannot serve now (a connection
// exception, shutting down, starting up, full); anything else (refused,
// reset, timed out) means it is unavailable.
func translate(err error) error {
	if err == nil || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if strings.HasPrefix(pgErr.Code, "08") { // connection_exception and its subclasses
			return fmt.Errorf("%w: postgres: %v", ports.ErrUnavailable, err)
		}
		switch pgErr.Code {
		case "57P01", // admin_shutdown
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up, shutting down, in recovery
			"57P05", // idle_session_timeout
			"53300", // too_many_connections
			"25006": // read_only_sql_transaction: a standby not yet promoted
			return fmt.Errorf("%w: postgres: %v", ports.ErrUnavailable, err)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	return fmt.Errorf("%w: postgres: %v", ports.ErrUnavailable, err)
}
