package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// IdempotencyStore keeps one expiring key per idempotency key.
type IdempotencyStore struct {
	client rueidis.Client
}

// NewIdempotencyStore returns a store on client.
func NewIdempotencyStore(client rueidis.Client) *IdempotencyStore {
	return &IdempotencyStore{client: client}
}

type idempotencyJSON struct {
	Fingerprint string     `json:"fingerprint"`
	Order       *orderJSON `json:"order,omitempty"` // nil while in flight
	Credit      int64      `json:"credit"`
}

// Reserve is one SET NX GET: it claims the key or returns what holds it.
func (s *IdempotencyStore) Reserve(ctx context.Context, key, fingerprint string, ttl time.Duration) (*ports.Outcome, error) {
	mine, err := json.Marshal(idempotencyJSON{Fingerprint: fingerprint})
	if err != nil {
		return nil, err
	}
	prev, err := s.client.Do(ctx, s.client.B().Set().Key(idempotencyPref+key).Value(string(mine)).Nx().Get().
		Px(ttl).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil // reserved
	}
	if err != nil {
		return nil, fmt.Errorf("reserve idempotency key: %w", translate(err))
	}
	var rec idempotencyJSON
	if err := json.Unmarshal(prev, &rec); err != nil {
		return nil, fmt.Errorf("idempotency record %q: %w", key, err)
	}
	switch {
	case rec.Fingerprint != fingerprint:
		return nil, ports.ErrKeyReused
	case rec.Order == nil:
		return nil, ports.ErrKeyInFlight
	}
	o, err := rec.Order.order()
	if err != nil {
		return nil, fmt.Errorf("idempotency record %q: %w", key, err)
	}
	return &ports.Outcome{Order: o, Credit: rec.Credit}, nil
}

// Complete stores the outcome under key.
func (s *IdempotencyStore) Complete(ctx context.Context, key, fingerprint string, outcome ports.Outcome, ttl time.Duration) error {
	o := toOrderJSON(outcome.Order)
	b, err := json.Marshal(idempotencyJSON{Fingerprint: fingerprint, Order: &o, Credit: outcome.Credit})
	if err != nil {
		return err
	}
	if err := s.client.Do(ctx, s.client.B().Set().Key(idempotencyPref+key).Value(string(b)).Px(ttl).Build()).Error(); err != nil {
		return fmt.Errorf("complete idempotency key: %w", translate(err))
	}
	return nil
}

// Release deletes key.
func (s *IdempotencyStore) Release(ctx context.Context, key string) error {
	if err := s.client.Do(ctx, s.client.B().Del().Key(idempotencyPref+key).Build()).Error(); err != nil {
		return fmt.Errorf("release idempotency key: %w", translate(err))
	}
	return nil
}
