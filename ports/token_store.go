package ports

import (
	"context"
	"errors"
)

// ErrUnknownToken reports a token hash that no user holds.
var ErrUnknownToken = errors.New("unknown token")

// TokenStore keeps API tokens by the hash of the token, never the token:
// what the token use case calls, and what its contract suite
// (storetest.TokenStore) tests, since the two are the same.
type TokenStore interface {
	// SaveToken records that the token with this hash belongs to user.
	SaveToken(ctx context.Context, hash, user string) error
	// TokenUser returns the user holding the token with this hash, or
	// ErrUnknownToken.
	TokenUser(ctx context.Context, hash string) (string, error)
}
