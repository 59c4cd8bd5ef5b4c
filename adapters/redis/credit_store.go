package redis

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.CreditStore = (*CreditStore)(nil)

// CreditStore keeps each user as JSON {"credit": N, ...} under the user's
// name, other fields kept, and each user's positions and pending orders in
// hashes of the user's slot (see keys.go).
type CreditStore struct {
	clients      clientSource
	waitReplicas int // see WaitForReplicas
	tracer       trace.Tracer
}

// CreditStoreOption configures a CreditStore.
type CreditStoreOption func(*CreditStore)

// WithCreditTracing makes Debit and CreditSale spans of tp; nil keeps the default, the
// global provider (a no-op unless one is set).
func WithCreditTracing(tp trace.TracerProvider) CreditStoreOption {
	return func(s *CreditStore) {
		if tp != nil {
			s.tracer = tp.Tracer(tracerName)
		}
	}
}

// NewCreditStore returns a store on client (see also Connector).
func NewCreditStore(client rueidis.Client, opts ...CreditStoreOption) *CreditStore {
	return newCreditStore(connected{client}, opts)
}

func newCreditStore(clients clientSource, opts []CreditStoreOption) *CreditStore {
	s := &CreditStore{clients: clients, tracer: otel.GetTracerProvider().Tracer(tracerName)}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Debit is one script (lua/debit.lua): it reads the user record and the
// position in the order's stock, judges exactly as domain.JudgeBuy does,
// and writes the new credit and position with the pending order. No
// read-then-compare-and-set, so a hot user costs no retries.
func (s *CreditStore) Debit(ctx context.Context, req ports.DebitRequest) (ports.Outcome, error) {
	return s.trade(ctx, "redis debit", debitScript, req.Order, req.IdempotencyKey, req.Fingerprint)
}

// CreditSale is one script (lua/sell.lua), the debit's twin: it judges
// exactly as domain.JudgeSale does and writes the new credit and position
// (none once sold out) with the pending order.
func (s *CreditStore) CreditSale(ctx context.Context, req ports.SaleRequest) (ports.Outcome, error) {
	return s.trade(ctx, "redis sell", sellScript, req.Order, req.IdempotencyKey, req.Fingerprint)
}

// tradeOrder is what the trade scripts take of a priced buy or sale.
type tradeOrder interface {
	User() string
	Stock() string
	Key() string
	Price() int64
	Quantity() int64
	Judged(domain.Status) domain.Order
}

// trade runs script, debit.lua or sell.lua (see lua/trade.lua), on o as
// a span named name.
func (s *CreditStore) trade(ctx context.Context, name string, script writeScript, o tradeOrder, idemKey, fingerprint string) (res ports.Outcome, err error) {
	ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNameRedis, semconv.DBOperationName("EVALSHA")))
	defer func() {
		if err == nil {
			span.SetAttributes(attribute.String("stockd.order.status", string(res.Order.Status())))
		}
		endSpan(span, err)
	}()
	user := o.User()
	pending, err := json.Marshal(pendingJSON{
		Order:          toOrderJSON(o.Judged(domain.Accepted)),
		IdempotencyKey: idemKey, Fingerprint: fingerprint,
	})
	if err != nil {
		return ports.Outcome{}, err
	}
	// The script appends the credit left and the closing brace.
	prefix := string(pending[:len(pending)-1]) + `,"credit_left":`
	keys := []string{user, pendingKeyOf(user), positionsKeyOf(user)}
	if idemKey != "" {
		keys = append(keys, idemKeyOf(user, idemKey))
	}
	args := []string{strconv.FormatInt(o.Price(), 10), strconv.FormatInt(o.Quantity(), 10), o.Key(), prefix, o.Stock()}
	reply, err := s.write(ctx, script, keys, args)
	if err != nil {
		return ports.Outcome{}, fmt.Errorf("%s: %w", script.name, err)
	}
	return tradeResult(script.name, o, reply)
}

func tradeResult(name string, o tradeOrder, reply []string) (ports.Outcome, error) {
	switch {
	case len(reply) == 1 && reply[0] == "nouser":
		return ports.Outcome{}, fmt.Errorf("%w: %s holds no user record", ports.ErrUserNotFound, o.User())
	case len(reply) == 1 && reply[0] == "lost":
		return ports.Outcome{}, fmt.Errorf("%w: the key was freed meanwhile", ports.ErrKeyInFlight)
	case len(reply) == 1 && reply[0] == "badposition":
		return ports.Outcome{}, fmt.Errorf("%s: position of %s in %s: %w", name, o.User(), o.Stock(), domain.ErrBadPosition)
	case len(reply) != 2:
		return ports.Outcome{}, fmt.Errorf("%s: unexpected reply %q", name, reply)
	}
	status, err := domain.ParseStatus(reply[0])
	if err != nil {
		return ports.Outcome{}, fmt.Errorf("%s: %w", name, err)
	}
	credit, err := strconv.ParseInt(reply[1], 10, 64)
	if err != nil {
		return ports.Outcome{}, fmt.Errorf("%s: credit %q: %w", name, reply[1], err)
	}
	return ports.Outcome{Order: o.Judged(status), Credit: credit}, nil
}

// Credit reads user's credit.
func (s *CreditStore) Credit(ctx context.Context, user string) (int64, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return 0, fmt.Errorf("read user %s: %w", user, err)
	}
	raw, err := client.Do(ctx, client.B().Get().Key(user).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return 0, ports.ErrUserNotFound
	}
	if err != nil {
		if _, ok := rueidis.IsRedisErr(err); ok && !errors.Is(translate(err), ports.ErrUnavailable) {
			return 0, fmt.Errorf("%w: %s holds no user record", ports.ErrUserNotFound, user) // WRONGTYPE
		}
		return 0, fmt.Errorf("read user %s: %w", user, translate(err))
	}
	credit, ok := creditOf(raw)
	if !ok {
		return 0, fmt.Errorf("%w: %s holds no user record", ports.ErrUserNotFound, user)
	}
	return credit, nil
}

// maxUserDepth is how deeply a user record may nest (the object itself is
// level 1): the one limit both readers apply (MAX_DEPTH in lua/user.lua),
// below encoding/json's own 10000.
const maxUserDepth = 1000

// creditOf reads a user record: a JSON object whose "credit" is a
// non-negative integer, parsed exactly (a float64 would round credits
// above 2^53), nested at most maxUserDepth deep. It agrees with read_user
// of lua/user.lua (FuzzUserRecord).
func creditOf(raw []byte) (int64, bool) {
	if !nestedAtMost(raw, maxUserDepth) {
		return 0, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return 0, false
	}
	c, ok := fields["credit"]
	if !ok {
		return 0, false
	}
	// Digits only, as int_text in the script reads it: "-0" is not a credit.
	text := bytes.TrimSpace(c)
	if len(text) == 0 || text[0] < '0' || text[0] > '9' {
		return 0, false
	}
	credit, err := strconv.ParseInt(string(text), 10, 64)
	if err != nil {
		return 0, false
	}
	return credit, true
}

// nestedAtMost reports whether the brackets of raw, outside strings, nest
// at most limit deep. It is only a depth count: json.Unmarshal judges the
// rest.
func nestedAtMost(raw []byte, limit int) bool {
	depth, inString, escaped := 0, false, false
	for _, b := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > limit {
				return false
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return true
}

// SetCredit creates user or overwrites its credit, keeping other fields.
// A key that holds something other than a JSON object is left alone.
func (s *CreditStore) SetCredit(ctx context.Context, user string, credit int64) error {
	if _, err := domain.NewAccount(credit); err != nil {
		return err
	}
	client, err := s.clients.Client(ctx)
	if err != nil {
		return fmt.Errorf("write credit of %s: %w", user, err)
	}
	reply, err := setCreditScript.Exec(ctx, client, []string{user}, []string{strconv.FormatInt(credit, 10)}).ToAny()
	if err != nil {
		return fmt.Errorf("write credit of %s: %w", user, translate(err))
	}
	if reply == "notuser" {
		return fmt.Errorf("write credit of %s: the key holds something other than a user", user)
	}
	return nil
}

// PendingOrders reads the pending orders of every user, oldest first: it
// scans every node for the pending hashes, then reads them in one
// pipelined round.
func (s *CreditStore) PendingOrders(ctx context.Context) ([]ports.PendingOrder, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("find pending orders: %w", err)
	}
	keys, err := scanKeys(ctx, client, pendingPrefix+"*", "hash")
	if err != nil {
		return nil, fmt.Errorf("find pending orders: %w", err)
	}
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = client.B().Hgetall().Key(k).Build()
	}
	var out []ports.PendingOrder
	for i, r := range client.DoMulti(ctx, cmds...) {
		all, err := r.AsStrMap()
		if err != nil && !rueidis.IsRedisNil(err) {
			return nil, fmt.Errorf("read pending orders: %w", translate(err))
		}
		for key, v := range all {
			p, err := decodePending(v)
			if err != nil {
				return nil, fmt.Errorf("pending order %s of %s: %w", key, keys[i], err)
			}
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b ports.PendingOrder) int {
		return cmp.Or(a.Order.CreatedAt().Compare(b.Order.CreatedAt()), cmp.Compare(a.Order.Key(), b.Order.Key()))
	})
	return out, nil
}

// SettlePending forgets user's pending orders in one HDEL.
func (s *CreditStore) SettlePending(ctx context.Context, user string, orderKeys ...string) error {
	if len(orderKeys) == 0 {
		return nil
	}
	client, err := s.clients.Client(ctx)
	if err == nil {
		err = client.Do(ctx, forgetPending(client, user, orderKeys)).Error()
	}
	if err != nil {
		return fmt.Errorf("settle pending orders of %s: %w", user, translate(err))
	}
	return nil
}

// forgetPending is the one command that forgets user's pending orders
// with these order keys, for SettlePending and the LaterSettler alike.
func forgetPending(client rueidis.Client, user string, orderKeys []string) rueidis.Completed {
	return client.B().Hdel().Key(pendingKeyOf(user)).Field(orderKeys...).Build()
}

// scanKeys returns the keys matching pattern of type typ on every node
// (every master of a cluster holds some), each once.
func scanKeys(ctx context.Context, c rueidis.Client, pattern, typ string) ([]string, error) {
	nodes, err := nodesOf(c)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for addr, n := range nodes {
		var cursor uint64
		for {
			e, err := n.Do(ctx, n.B().Scan().Cursor(cursor).Match(pattern).Count(1000).Type(typ).Build()).AsScanEntry()
			if err != nil {
				return nil, fmt.Errorf("scan %s: %w", addr, translate(err))
			}
			for _, k := range e.Elements {
				if !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// orderJSON is the stored form of an order, in pending records and
// idempotency outcomes.
type orderJSON struct {
	ID        int64     `json:"id,omitempty"`
	Key       string    `json:"key"`
	User      string    `json:"user"`
	Stock     string    `json:"stock"`
	Side      string    `json:"side,omitempty"` // none in records written before sales: a buy
	Status    string    `json:"status"`
	Price     int64     `json:"price"`
	Quantity  int64     `json:"quantity"`
	CreatedAt time.Time `json:"created_at"`
}

func toOrderJSON(o domain.Order) orderJSON {
	return orderJSON{ID: o.ID(), Key: o.Key(), User: o.User(), Stock: o.Stock(), Side: string(o.Side()), Status: string(o.Status()),
		Price: o.Price(), Quantity: o.Quantity(), CreatedAt: o.CreatedAt()}
}

func (j orderJSON) order() (domain.Order, error) {
	status, err := domain.ParseStatus(j.Status)
	if err != nil {
		return domain.Order{}, err
	}
	side := domain.SideBuy
	if j.Side != "" {
		if side, err = domain.ParseSide(j.Side); err != nil {
			return domain.Order{}, err
		}
	}
	var o domain.Order
	if j.ID == 0 {
		o, err = domain.NewOrder(j.Key, j.User, j.Stock, status, j.Price, j.Quantity, j.CreatedAt)
	} else {
		o, err = domain.OrderFromStore(j.ID, j.Key, j.User, j.Stock, status, j.Price, j.Quantity, j.CreatedAt)
	}
	if err != nil {
		return domain.Order{}, err
	}
	return o.WithSide(side)
}

// pendingJSON is a pending record. CreditLeft comes last: the debit script
// writes it (see Debit).
type pendingJSON struct {
	Order          orderJSON `json:"order"`
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Fingerprint    string    `json:"fingerprint,omitempty"`
	CreditLeft     int64     `json:"credit_left,omitempty"`
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
