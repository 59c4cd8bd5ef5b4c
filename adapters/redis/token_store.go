package redis

import (
	"context"
	"fmt"

	"github.com/redis/rueidis"

	"stockd/ports"
)

var _ ports.TokenStore = (*TokenStore)(nil)

const tokenPref = "stockd:token:"

// TokenStore keeps each token hash as a key whose value is the user.
type TokenStore struct {
	clients clientSource
}

// NewTokenStore returns a store on client (see also Connector).
func NewTokenStore(client rueidis.Client) *TokenStore { return &TokenStore{clients: connected{client}} }

// SaveToken records hash as user's.
func (s *TokenStore) SaveToken(ctx context.Context, hash, user string) error {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	if err := client.Do(ctx, client.B().Set().Key(tokenPref+hash).Value(user).Build()).Error(); err != nil {
		return fmt.Errorf("save token: %w", translate(err))
	}
	return nil
}

// TokenUser returns the owner of hash.
func (s *TokenStore) TokenUser(ctx context.Context, hash string) (string, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	user, err := client.Do(ctx, client.B().Get().Key(tokenPref+hash).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", ports.ErrUnknownToken
	}
	if err != nil {
		return "", fmt.Errorf("read token: %w", translate(err))
	}
	return user, nil
}
