package memory

import (
	"context"
	"sync"

	"stockd/ports"
)

var _ ports.TokenStore = (*TokenStore)(nil)

// TokenStore keeps token hashes in memory.
type TokenStore struct {
	mu     sync.RWMutex
	owners map[string]string
}

// NewTokenStore returns an empty store.
func NewTokenStore() *TokenStore { return &TokenStore{owners: make(map[string]string)} }

// SaveToken records hash as user's.
func (s *TokenStore) SaveToken(_ context.Context, hash, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[hash] = user
	return nil
}

// TokenUser returns the owner of hash.
func (s *TokenStore) TokenUser(_ context.Context, hash string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	user, ok := s.owners[hash]
	if !ok {
		return "", ports.ErrUnknownToken
	}
	return user, nil
}
