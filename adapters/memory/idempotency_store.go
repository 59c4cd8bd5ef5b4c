package memory

import (
	"context"
	"sync"
	"time"

	"stockd/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

type idempotencyRecord struct {
	fingerprint string
	outcome     *ports.Outcome
	expires     time.Time
}

// IdempotencyStore keeps idempotency records in memory, forgetting them
// when they expire.
type IdempotencyStore struct {
	mu      sync.Mutex
	clock   ports.Clock
	records map[string]idempotencyRecord
}

// NewIdempotencyStore returns an empty store that reads expiry off clock.
func NewIdempotencyStore(clock ports.Clock) *IdempotencyStore {
	return &IdempotencyStore{clock: clock, records: make(map[string]idempotencyRecord)}
}

// Reserve claims key unless a live record holds it.
func (s *IdempotencyStore) Reserve(_ context.Context, key, fingerprint string, ttl time.Duration) (*ports.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if r, ok := s.records[key]; ok && now.Before(r.expires) {
		switch {
		case r.fingerprint != fingerprint:
			return nil, ports.ErrKeyReused
		case r.outcome == nil:
			return nil, ports.ErrKeyInFlight
		}
		out := *r.outcome
		return &out, nil
	}
	s.sweep(now)
	s.records[key] = idempotencyRecord{fingerprint: fingerprint, expires: now.Add(ttl)}
	return nil, nil
}

// Complete records the outcome under key.
func (s *IdempotencyStore) Complete(_ context.Context, key, fingerprint string, outcome ports.Outcome, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[key] = idempotencyRecord{fingerprint: fingerprint, outcome: &outcome, expires: s.clock.Now().Add(ttl)}
	return nil
}

// Release forgets key.
func (s *IdempotencyStore) Release(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
	return nil
}

// sweep drops expired records once the map has grown, so that memory stays
// bounded by the keys of one TTL.
func (s *IdempotencyStore) sweep(now time.Time) {
	if len(s.records) < 1024 || len(s.records)&(len(s.records)-1) != 0 {
		return
	}
	for k, r := range s.records {
		if !now.Before(r.expires) {
			delete(s.records, k)
		}
	}
}
