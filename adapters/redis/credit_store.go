package redis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.CreditStore = (*CreditStore)(nil)

// CreditStore keeps each user as JSON {"credit": N, ...} under the user's
// name, other fields kept, and the pending orders in one hash.
type CreditStore struct {
	client rueidis.Client
}

// NewCreditStore returns a store on client.
func NewCreditStore(client rueidis.Client) *CreditStore { return &CreditStore{client: client} }

// readUser returns the raw value and its fields; "" for a missing user.
func (s *CreditStore) readUser(ctx context.Context, user string) (string, map[string]json.RawMessage, int64, error) {
	raw, err := s.client.Do(ctx, s.client.B().Get().Key(user).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", nil, 0, ports.ErrUserNotFound
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("read user %s: %w", user, translate(err))
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return "", nil, 0, fmt.Errorf("user %s: stored value is not a JSON object: %v", user, err)
	}
	c, ok := fields["credit"]
	if !ok {
		return "", nil, 0, fmt.Errorf("user %s: stored value has no credit", user)
	}
	// Exact integer parsing: a float64 would round credits above 2^53.
	credit, err := strconv.ParseInt(string(bytes.TrimSpace(c)), 10, 64)
	if err != nil || credit < 0 {
		return "", nil, 0, fmt.Errorf("user %s: credit %s is not a non-negative integer", user, c)
	}
	return raw, fields, credit, nil
}

func withCredit(fields map[string]json.RawMessage, credit int64) (string, error) {
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	fields["credit"] = json.RawMessage(strconv.FormatInt(credit, 10))
	b, err := json.Marshal(fields)
	return string(b), err
}

// UpdateCredit is optimistic: read, decide in Go, compare-and-set the user
// together with the pending order; retried when another update won.
func (s *CreditStore) UpdateCredit(ctx context.Context, user string, decide func(int64) (ports.CreditChange, error)) (ports.CreditChange, error) {
	for attempt := 0; ; attempt++ {
		if attempt == maxCASAttempts {
			return ports.CreditChange{}, fmt.Errorf("update credit of %s: %w", user, errContention)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return ports.CreditChange{}, err
			}
		}
		old, fields, credit, err := s.readUser(ctx, user)
		if err != nil {
			return ports.CreditChange{}, err
		}
		change, err := decide(credit)
		if err != nil {
			return ports.CreditChange{}, err
		}
		if change.Credit < 0 {
			return ports.CreditChange{}, domain.ErrBadCredit
		}
		if change.Credit == credit && change.Pending == nil {
			return change, nil // nothing to write
		}
		updated, err := withCredit(fields, change.Credit)
		if err != nil {
			return ports.CreditChange{}, err
		}
		args := []string{old, updated}
		if change.Pending != nil {
			p, err := encodePending(*change.Pending)
			if err != nil {
				return ports.CreditChange{}, err
			}
			args = append(args, change.Pending.Order.Key(), p)
		}
		ok, err := casScript.Exec(ctx, s.client, []string{user, pendingKey}, args).AsInt64()
		if err != nil {
			return ports.CreditChange{}, fmt.Errorf("write credit of %s: %w: %w", user, ports.ErrOutcomeUnknown, translate(err))
		}
		if ok == 1 {
			return change, nil
		}
	}
}

// Credit reads user's credit.
func (s *CreditStore) Credit(ctx context.Context, user string) (int64, error) {
	_, _, credit, err := s.readUser(ctx, user)
	return credit, err
}

// SetCredit creates user or overwrites its credit, keeping other fields.
func (s *CreditStore) SetCredit(ctx context.Context, user string, credit int64) error {
	if credit < 0 {
		return domain.ErrBadCredit
	}
	for attempt := 0; attempt < maxCASAttempts; attempt++ {
		old, fields, _, err := s.readUser(ctx, user)
		if err != nil && err != ports.ErrUserNotFound {
			return err
		}
		updated, err := withCredit(fields, credit)
		if err != nil {
			return err
		}
		ok, err := casScript.Exec(ctx, s.client, []string{user, pendingKey}, []string{old, updated}).AsInt64()
		if err != nil {
			return fmt.Errorf("write credit of %s: %w", user, translate(err))
		}
		if ok == 1 {
			return nil
		}
	}
	return fmt.Errorf("set credit of %s: %w", user, errContention)
}

// PendingOrders reads the pending orders, oldest first.
func (s *CreditStore) PendingOrders(ctx context.Context) ([]ports.PendingOrder, error) {
	all, err := s.client.Do(ctx, s.client.B().Hgetall().Key(pendingKey).Build()).AsStrMap()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, fmt.Errorf("read pending orders: %w", translate(err))
	}
	out := make([]ports.PendingOrder, 0, len(all))
	for key, v := range all {
		p, err := decodePending(v)
		if err != nil {
			return nil, fmt.Errorf("pending order %s: %w", key, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b ports.PendingOrder) int {
		return cmp.Or(a.Order.CreatedAt().Compare(b.Order.CreatedAt()), cmp.Compare(a.Order.Key(), b.Order.Key()))
	})
	return out, nil
}

// SettlePending forgets a pending order.
func (s *CreditStore) SettlePending(ctx context.Context, orderKey string) error {
	err := s.client.Do(ctx, s.client.B().Hdel().Key(pendingKey).Field(orderKey).Build()).Error()
	if err != nil {
		return fmt.Errorf("settle pending order %s: %w", orderKey, translate(err))
	}
	return nil
}

// orderJSON is the stored form of an order, in pending records and
// idempotency outcomes.
type orderJSON struct {
	ID        int64     `json:"id,omitempty"`
	Key       string    `json:"key"`
	User      string    `json:"user"`
	Stock     string    `json:"stock"`
	Status    string    `json:"status"`
	Price     int64     `json:"price"`
	Quantity  int64     `json:"quantity"`
	CreatedAt time.Time `json:"created_at"`
}

func toOrderJSON(o domain.Order) orderJSON {
	return orderJSON{ID: o.ID(), Key: o.Key(), User: o.User(), Stock: o.Stock(), Status: string(o.Status()),
		Price: o.Price(), Quantity: o.Quantity(), CreatedAt: o.CreatedAt()}
}

func (j orderJSON) order() (domain.Order, error) {
	status, err := domain.ParseStatus(j.Status)
	if err != nil {
		return domain.Order{}, err
	}
	if j.ID == 0 {
		return domain.NewOrder(j.Key, j.User, j.Stock, status, j.Price, j.Quantity, j.CreatedAt)
	}
	return domain.OrderFromStore(j.ID, j.Key, j.User, j.Stock, status, j.Price, j.Quantity, j.CreatedAt)
}

type pendingJSON struct {
	Order          orderJSON `json:"order"`
	CreditLeft     int64     `json:"credit_left"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Fingerprint    string    `json:"fingerprint,omitempty"`
}

func encodePending(p ports.PendingOrder) (string, error) {
	b, err := json.Marshal(pendingJSON{Order: toOrderJSON(p.Order), CreditLeft: p.CreditLeft, IdempotencyKey: p.IdempotencyKey, Fingerprint: p.Fingerprint})
	return string(b), err
}

func decodePending(v string) (ports.PendingOrder, error) {
	var pj pendingJSON
	if err := json.Unmarshal([]byte(v), &pj); err != nil {
		return ports.PendingOrder{}, err
	}
	o, err := pj.Order.order()
	if err != nil {
		return ports.PendingOrder{}, err
	}
	return ports.PendingOrder{Order: o, CreditLeft: pj.CreditLeft, IdempotencyKey: pj.IdempotencyKey, Fingerprint: pj.Fingerprint}, nil
}
