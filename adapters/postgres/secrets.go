package postgres

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cursorSecretSize is the length of the cursor key: 256 bits, the size of
// an HMAC-SHA256 key that needs no hashing down.
const cursorSecretSize = 32

// CursorSecret returns the key that authenticates paging cursors, the same
// for every process on this database: the first call anywhere creates it
// (32 random bytes), every later one reads it. Keeping it in the order
// store means the API processes that share the orders share the key, with
// no configuration to keep in step.
func CursorSecret(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	fresh := make([]byte, cursorSecretSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("cursor secret: %w", err)
	}
	// Two statements, not one: a concurrent creator's row is seen only by a
	// statement that starts after the insert waited for it to commit.
	if _, err := pool.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ('cursor', $1) ON CONFLICT (name) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("cursor secret: %w", translate(err))
	}
	var secret []byte
	if err := pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = 'cursor'`).Scan(&secret); err != nil {
		return nil, fmt.Errorf("cursor secret: %w", translate(err))
	}
	return secret, nil
}
