package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"stockd/ports"
)

// ErrUnauthenticated reports a missing or unknown token. It does not say
// which, nor whether the user exists.
var ErrUnauthenticated = errors.New("a valid bearer token is required")

// Tokens mints API tokens and tells whose a token is. Only a token's
// SHA-256 is stored: tokens are 256 random bits, so a slow hash would add
// nothing but latency.
type Tokens struct {
	store ports.TokenStore
	users *GetUser
}

// NewTokens wires the use case; users tells which users exist, since a
// token is minted only for one.
func NewTokens(store ports.TokenStore, users *GetUser) (*Tokens, error) {
	if err := requireAll(map[string]any{"token store": store, "users": users}); err != nil {
		return nil, err
	}
	return &Tokens{store: store, users: users}, nil
}

// Mint creates a token for an existing user and returns it; it is not kept
// anywhere. A name that is not a user's is ports.ErrUserNotFound.
func (t *Tokens) Mint(ctx context.Context, user string) (string, error) {
	if _, err := t.users.Execute(ctx, user); err != nil {
		return "", fmt.Errorf("mint token for %q: %w", user, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	if err := t.store.SaveToken(ctx, hashToken(token), user); err != nil {
		return "", fmt.Errorf("save token: %w", err)
	}
	return token, nil
}

// User returns the user holding token, or ErrUnauthenticated.
func (t *Tokens) User(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", ErrUnauthenticated
	}
	user, err := t.store.TokenUser(ctx, hashToken(token))
	if errors.Is(err, ports.ErrUnknownToken) {
		return "", ErrUnauthenticated
	}
	if err != nil {
		return "", fmt.Errorf("look up token: %w", err)
	}
	return user, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
