package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/ports"
)

func TestTranslateSaysWhichAnswersMeanUnavailable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, name  string
		unavailable bool
	}{
		{"57P03", "cannot_connect_now (the database system is starting up)", true},
		{"57P01", "admin_shutdown", true},
		{"57P02", "crash_shutdown", true},
		{"57P05", "idle_session_timeout", true},
		{"53300", "too_many_connections", true},
		{"25006", "read_only_sql_transaction", true},
		{"08000", "connection_exception", true},
		{"08006", "connection_failure", true},
		{"08001", "sqlclient_unable_to_establish_sqlconnection", true},
		{"08P01", "protocol_violation", true},
		{"23505", "unique_violation", false},
		{"23514", "check_violation", false},
		{"23502", "not_null_violation", false},
		{"42P01", "undefined_table", false},
		{"40P01", "deadlock_detected", false},
		{"3D000", "invalid_catalog_name", false},
	} {
		t.Run(tc.code+" "+tc.name, func(t *testing.T) {
			t.Parallel()
			pgErr := &pgconn.PgError{Code: tc.code, Message: tc.name}
			// As a query answers it, and wrapped as a failed connection does.
			for _, err := range []error{pgErr, fmt.Errorf("failed to connect: %w", pgErr)} {
				got := translate(err)
				assert.Equal(t, tc.unavailable, errors.Is(got, ports.ErrUnavailable), "%v", got)
				if !tc.unavailable {
					var back *pgconn.PgError
					require.ErrorAs(t, got, &back, "a refusal keeps the server's error")
					assert.Equal(t, tc.code, back.Code)
				}
			}
		})
	}
}

func TestTranslateKeepsWhatIsNotAnOutage(t *testing.T) {
	t.Parallel()
	assert.NoError(t, translate(nil))
	assert.Equal(t, pgx.ErrNoRows, translate(pgx.ErrNoRows))
	assert.Equal(t, context.Canceled, translate(context.Canceled))
	for _, err := range []error{io.ErrUnexpectedEOF, context.DeadlineExceeded, errors.New("dial tcp: connection refused")} {
		assert.ErrorIs(t, translate(err), ports.ErrUnavailable, "no answer from the server: %v", err)
	}
}

func TestNoDatabaseIsAlsoASchemaBehind(t *testing.T) {
	t.Parallel()
	err := noDatabase(&pgconn.ConnectError{Config: &pgconn.Config{Database: "nodb"}})
	assert.NoError(t, err, "a connect error without 3D000 is not a missing database")
	err = noDatabase(fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "3D000"}))
	require.ErrorIs(t, err, ErrNoDatabase)
	require.ErrorIs(t, err, ErrSchemaBehind, "refused where a schema that is behind is refused")
	assert.Contains(t, err.Error(), "stockd migrate")
	assert.NoError(t, noDatabase(&pgconn.PgError{Code: "57P03"}))
	assert.NoError(t, noDatabase(nil))
}
