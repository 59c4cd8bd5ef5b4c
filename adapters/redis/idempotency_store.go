package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

var _ ports.IdempotencyStore = (*IdempotencyStore)(nil)

// IdempotencyStore keeps one expiring record per user and idempotency key
// (stockd:idem:{user}:key), and an index of the user's reservations in
// flight (stockd:inflight:{user}, by reservation time) for the settler.
type IdempotencyStore struct {
	clients clientSource
}

// NewIdempotencyStore returns a store on client (see also Connector).
func NewIdempotencyStore(client rueidis.Client) *IdempotencyStore {
	return &IdempotencyStore{clients: connected{client}}
}

// idempotencyJSON is a record: a reservation (OrderKey set, no Order) or
// an outcome (Order set, no OrderKey). The scripts decode it (cjson) to
// tell which, and for which order.
type idempotencyJSON struct {
	Fingerprint string     `json:"fingerprint"`
	OrderKey    string     `json:"order_key,omitempty"`
	ReservedAt  int64      `json:"reserved_at,omitempty"` // unix ms
	Order       *orderJSON `json:"order,omitempty"`
	// Not "credit": no record of the service has the shape of a user.
	Credit int64 `json:"credit_left"`
}

// Reserve is one script: it claims the key and indexes it as in flight,
// or returns what holds it.
func (s *IdempotencyStore) Reserve(ctx context.Context, r ports.Reservation, ttl time.Duration) (*ports.Outcome, error) {
	mine, err := json.Marshal(idempotencyJSON{Fingerprint: r.Fingerprint, OrderKey: r.OrderKey, ReservedAt: r.ReservedAt.UnixMilli()})
	if err != nil {
		return nil, err
	}
	keys := []string{idemKeyOf(r.User, r.Key), inflightKeyOf(r.User)}
	args := []string{string(mine), strconv.FormatInt(ttl.Milliseconds(), 10), strconv.FormatInt(r.ReservedAt.UnixMilli(), 10), r.Key}
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("reserve idempotency key: %w", err)
	}
	prev, err := reserveScript.Exec(ctx, client, keys, args).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil // reserved
	}
	if err != nil {
		return nil, fmt.Errorf("reserve idempotency key: %w", translate(err))
	}
	var rec idempotencyJSON
	if err := json.Unmarshal(prev, &rec); err != nil {
		return nil, fmt.Errorf("idempotency record %q: %w", r.Key, err)
	}
	switch {
	case rec.Fingerprint != r.Fingerprint:
		return nil, ports.ErrKeyReused
	case rec.Order == nil:
		return nil, ports.ErrKeyInFlight
	}
	o, err := rec.Order.order()
	if err != nil {
		return nil, fmt.Errorf("idempotency record %q: %w", r.Key, err)
	}
	return &ports.Outcome{Order: o, Credit: rec.Credit}, nil
}

// Complete stores the outcome under the key if it is still reserved for
// the outcome's order (lua/finish.lua).
func (s *IdempotencyStore) Complete(ctx context.Context, user, key, fingerprint string, outcome ports.Outcome, ttl time.Duration) error {
	o := toOrderJSON(outcome.Order)
	b, err := json.Marshal(idempotencyJSON{Fingerprint: fingerprint, Order: &o, Credit: outcome.Credit})
	if err != nil {
		return err
	}
	return s.finish(ctx, user, key, outcome.Order.Key(), string(b), ttl)
}

// Release deletes the key if it is still reserved for orderKey.
func (s *IdempotencyStore) Release(ctx context.Context, user, key, orderKey string) error {
	return s.finish(ctx, user, key, orderKey, "", 0)
}

func (s *IdempotencyStore) finish(ctx context.Context, user, key, orderKey, record string, ttl time.Duration) error {
	keys := []string{idemKeyOf(user, key), inflightKeyOf(user)}
	args := []string{record, strconv.FormatInt(ttl.Milliseconds(), 10), key, orderKey}
	client, err := s.clients.Client(ctx)
	if err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	if err := finishScript.Exec(ctx, client, keys, args).Error(); err != nil {
		return fmt.Errorf("finish idempotency key: %w", translate(err))
	}
	return nil
}

// InFlight scans every node for the in-flight indexes and reads the
// reservations made before reservedBefore.
func (s *IdempotencyStore) InFlight(ctx context.Context, reservedBefore time.Time) ([]ports.Reservation, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("find reserved idempotency keys: %w", err)
	}
	indexes, err := scanKeys(ctx, client, inflightPrefix+"*", "zset")
	if err != nil {
		return nil, fmt.Errorf("find reserved idempotency keys: %w", err)
	}
	before := "(" + strconv.FormatInt(reservedBefore.UnixMilli(), 10)
	var out []ports.Reservation
	for _, index := range indexes {
		user, ok := userOf(index, inflightPrefix)
		if !ok {
			continue
		}
		keys, err := client.Do(ctx, client.B().Zrangebyscore().Key(index).Min("-inf").Max(before).Build()).AsStrSlice()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", index, translate(err))
		}
		if len(keys) == 0 {
			continue
		}
		cmds := make(rueidis.Commands, len(keys))
		for i, k := range keys {
			cmds[i] = client.B().Get().Key(idemKeyOf(user, k)).Build()
		}
		for i, res := range client.DoMulti(ctx, cmds...) {
			raw, err := res.AsBytes()
			if rueidis.IsRedisNil(err) {
				continue // expired
			}
			if err != nil {
				return nil, fmt.Errorf("read idempotency key: %w", translate(err))
			}
			var rec idempotencyJSON
			if err := json.Unmarshal(raw, &rec); err != nil {
				return nil, fmt.Errorf("idempotency record %q of %s: %w", keys[i], user, err)
			}
			if rec.Order != nil || rec.OrderKey == "" {
				continue // completed
			}
			out = append(out, ports.Reservation{
				User: user, Key: keys[i], Fingerprint: rec.Fingerprint, OrderKey: rec.OrderKey,
				ReservedAt: time.UnixMilli(rec.ReservedAt),
			})
		}
	}
	return out, nil
}

// Free is one script in the user's slot (lua/free.lua).
func (s *IdempotencyStore) Free(ctx context.Context, r ports.Reservation) (bool, error) {
	keys := []string{idemKeyOf(r.User, r.Key), inflightKeyOf(r.User), pendingKeyOf(r.User)}
	client, err := s.clients.Client(ctx)
	if err != nil {
		return false, fmt.Errorf("free idempotency key: %w", err)
	}
	n, err := freeScript.Exec(ctx, client, keys, []string{r.Key, r.OrderKey}).AsInt64()
	if err != nil {
		return false, fmt.Errorf("free idempotency key: %w", translate(err))
	}
	return n == 1, nil
}
