package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"stockd/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

type idempotencyRecord struct {
	reservation ports.Reservation
	outcome     *ports.Outcome
	expires     time.Time
}

// scopedKey is an idempotency key in its user's scope.
type scopedKey struct{ user, key string }

// IdempotencyStore keeps idempotency records in memory, forgetting them
// when they expire.
type IdempotencyStore struct {
	mu      sync.Mutex
	clock   ports.Clock
	records map[scopedKey]idempotencyRecord
}

// NewIdempotencyStore returns an empty store that reads expiry off clock.
func NewIdempotencyStore(clock ports.Clock) *IdempotencyStore {
	return &IdempotencyStore{clock: clock, records: make(map[scopedKey]idempotencyRecord)}
}

// Reserve claims the key unless a live record holds it.
func (s *IdempotencyStore) Reserve(_ context.Context, r ports.Reservation, ttl time.Duration) (*ports.Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	k := scopedKey{r.User, r.Key}
	if rec, ok := s.records[k]; ok && now.Before(rec.expires) {
		switch {
		case rec.reservation.Fingerprint != r.Fingerprint:
			return nil, ports.ErrKeyReused
		case rec.outcome == nil:
			return nil, ports.ErrKeyInFlight
		}
		out := *rec.outcome
		return &out, nil
	}
	s.sweep(now)
	s.records[k] = idempotencyRecord{reservation: r, expires: now.Add(ttl)}
	return nil, nil
}

// Complete records the outcome under the key if it is still reserved for
// the outcome's order.
func (s *IdempotencyStore) Complete(_ context.Context, user, key, fingerprint string, outcome ports.Outcome, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{user, key}
	if !s.reservedFor(k, outcome.Order.Key()) {
		return nil
	}
	s.records[k] = idempotencyRecord{
		reservation: ports.Reservation{User: user, Key: key, Fingerprint: fingerprint},
		outcome:     &outcome, expires: s.clock.Now().Add(ttl),
	}
	return nil
}

// Release forgets the key if it is still reserved for orderKey.
func (s *IdempotencyStore) Release(_ context.Context, user, key, orderKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{user, key}
	if s.reservedFor(k, orderKey) {
		delete(s.records, k)
	}
	return nil
}

// reservedFor reports whether k is a live reservation for orderKey. s.mu
// must be held.
func (s *IdempotencyStore) reservedFor(k scopedKey, orderKey string) bool {
	rec, ok := s.records[k]
	return ok && rec.outcome == nil && rec.reservation.OrderKey == orderKey && s.clock.Now().Before(rec.expires)
}

// InFlight lists live reservations made before reservedBefore, oldest
// first.
func (s *IdempotencyStore) InFlight(_ context.Context, reservedBefore time.Time) ([]ports.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []ports.Reservation
	for _, rec := range s.records {
		if rec.outcome == nil && now.Before(rec.expires) && rec.reservation.ReservedAt.Before(reservedBefore) {
			out = append(out, rec.reservation)
		}
	}
	slices.SortFunc(out, func(a, b ports.Reservation) int {
		return cmp.Or(a.ReservedAt.Compare(b.ReservedAt), cmp.Compare(a.User, b.User), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// Free deletes r's key if it is still reserved for r.OrderKey. Pending
// orders live in the CreditStore here; the settler checks them first.
func (s *IdempotencyStore) Free(_ context.Context, r ports.Reservation) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{r.User, r.Key}
	if !s.reservedFor(k, r.OrderKey) {
		return false, nil
	}
	delete(s.records, k)
	return true, nil
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
