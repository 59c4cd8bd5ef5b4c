package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"stockd/domain"
	"stockd/ports"
)

// How long an idempotency key is remembered. A reservation lasts as long as
// an outcome: a key whose request crashed midway stays "in progress" until
// the settler settles its order or proves there was none (see
// SettlePendingOrders.FreeStuckKeys), rather than letting a retry debit
// twice.
const idempotencyTTL = 24 * time.Hour

// BuyStockCommand asks to buy Quantity shares of Stock for User.
type BuyStockCommand struct {
	User           string
	Stock          string
	Quantity       int64
	IdempotencyKey string // optional: makes a retry return the first outcome
}

// BuyStockResult is what a buy answers: the judged and stored order and the
// credit left, and whether it is the replay of an earlier request with the
// same idempotency key (so that it is not counted as a new order).
type BuyStockResult struct {
	ports.Outcome
	Replayed bool
}

// BuyStock judges a buy order against the user's credit, debits an
// accepted order, and records every judged order.
type BuyStock struct {
	stocks  domain.Stocks
	prices  ports.QuoteReader
	debits  ports.Debiter
	pending ports.PendingSettler
	orders  ports.OrderSaver
	keys    ports.IdempotencyKeys
	clock   ports.Clock
	// maxPriceAge is MAX_PRICE_AGE (zero: off), judged in zone.
	maxPriceAge time.Duration
	zone        *time.Location
}

// NewBuyStock wires the use case. debits and pending are usually one
// credit store.
func NewBuyStock(stocks domain.Stocks, prices ports.QuoteReader, debits ports.Debiter, pending ports.PendingSettler, orders ports.OrderSaver, keys ports.IdempotencyKeys, clock ports.Clock) (*BuyStock, error) {
	if err := requireAll(map[string]any{"price store": prices, "debiter": debits, "pending orders": pending, "order repository": orders, "idempotency store": keys, "clock": clock}); err != nil {
		return nil, err
	}
	return &BuyStock{stocks: stocks, prices: prices, debits: debits, pending: pending, orders: orders, keys: keys, clock: clock, zone: time.UTC}, nil
}

// WithMaxPriceAge returns the use case refusing, with an error wrapping
// domain.ErrStalePrice, a buy whose stock's latest tick (its day and time
// read in zone) is older than maxAge by the use case's clock; zero is no
// limit. The refusal comes before any write: no key is kept, nothing is
// debited or recorded. A separate step rather than a constructor argument,
// so that wiring without a limit stays as it was.
func (b *BuyStock) WithMaxPriceAge(maxAge time.Duration, zone *time.Location) *BuyStock {
	limited := *b
	limited.maxPriceAge = maxAge
	if zone != nil {
		limited.zone = zone
	}
	return &limited
}

// Execute judges and records one order. A denied order is a result, not an
// error. Errors before the debit change nothing; after an accepted debit,
// the order is kept as pending and ErrOrderPending is returned if it could
// not be recorded; a denied order that could not be recorded may still
// have been (ports.ErrOutcomeUnknown), and its key stays reserved until
// the settler finds out.
func (b *BuyStock) Execute(ctx context.Context, cmd BuyStockCommand) (BuyStockResult, error) {
	buy, err := b.validate(cmd)
	if err != nil {
		return BuyStockResult{}, err
	}
	// The order key exists before the reservation, which records it: the
	// settler can then tell whether the request ever debited or recorded.
	key, err := newOrderKey()
	if err != nil {
		return BuyStockResult{}, err
	}
	now := b.clock.Now()
	r := ports.Reservation{User: buy.User(), Key: cmd.IdempotencyKey, OrderKey: key, ReservedAt: now}
	if r.Key != "" {
		// The fingerprint tells a retry from another request under the
		// same key; without a key there is nothing to tell apart.
		r.Fingerprint = fingerprintOf(buy.User(), buy.Stock(), buy.Quantity())
		replay, err := b.keys.Reserve(ctx, r, idempotencyTTL)
		if err != nil {
			return BuyStockResult{}, err
		}
		if replay != nil {
			return BuyStockResult{Outcome: *replay, Replayed: true}, nil
		}
	}
	order, err := b.price(ctx, buy, key, now)
	if err != nil {
		return BuyStockResult{}, b.release(ctx, r, err)
	}
	req := ports.DebitRequest{Order: order, IdempotencyKey: r.Key, Fingerprint: r.Fingerprint}
	debited, err := b.debits.Debit(ctx, req)
	if err != nil {
		err = fmt.Errorf("debit %s: %w", buy.User(), err)
		if errors.Is(err, ports.ErrOutcomeUnknown) {
			// A debit that may have happened keeps the idempotency key
			// reserved: if it did, the settler records its pending order
			// and completes the key; if not, the settler frees the key.
			return BuyStockResult{}, err
		}
		return BuyStockResult{}, b.release(ctx, r, err)
	}
	saved, err := b.record(ctx, debited.Order)
	if err != nil {
		return BuyStockResult{}, err // the key stays reserved: see record
	}
	res := ports.Outcome{Order: saved, Credit: debited.Credit}
	b.finish(context.WithoutCancel(ctx), req, res)
	return BuyStockResult{Outcome: res}, nil
}

// validate checks the command before anything is read: the rules of a buy
// are the domain's (NewBuy); that a stock's name is nobody's is this use
// case's, since only it knows both.
func (b *BuyStock) validate(cmd BuyStockCommand) (domain.Buy, error) {
	stock, err := b.stocks.Canonical(cmd.Stock)
	if err != nil {
		return domain.Buy{}, err
	}
	buy, err := domain.NewBuy(cmd.User, stock, cmd.Quantity)
	if err != nil {
		return domain.Buy{}, err
	}
	if _, err := b.stocks.Canonical(cmd.User); err == nil {
		return domain.Buy{}, fmt.Errorf("%w: %s is a stock", ports.ErrUserNotFound, cmd.User)
	}
	return buy, nil
}

// price reads the stock's latest quote and prices the buy at it: the order
// to judge, identified by key. It writes nothing.
func (b *BuyStock) price(ctx context.Context, buy domain.Buy, key string, now time.Time) (domain.BuyOrder, error) {
	quote, ok, err := b.prices.Latest(ctx, buy.Stock())
	if err != nil {
		return domain.BuyOrder{}, fmt.Errorf("read price of %s: %w", buy.Stock(), err)
	}
	if !ok {
		return domain.BuyOrder{}, fmt.Errorf("%w: %s", ErrNoPrice, buy.Stock())
	}
	if err := quote.CheckFresh(now, b.zone, b.maxPriceAge); err != nil {
		return domain.BuyOrder{}, fmt.Errorf("price of %s: %w", buy.Stock(), err)
	}
	return buy.AtPrice(key, quote.Price, now)
}

// release frees the idempotency key that r reserved for a request that
// failed with cause before it wrote anything, so that a retry can run, and
// returns cause (joined with the release's own failure, if any). A request
// without a key has nothing to free.
func (b *BuyStock) release(ctx context.Context, r ports.Reservation, cause error) error {
	if r.Key == "" {
		return cause
	}
	if err := b.keys.Release(context.WithoutCancel(ctx), r.User, r.Key, r.OrderKey); err != nil {
		return errors.Join(cause, fmt.Errorf("release idempotency key: %w", err))
	}
	return cause
}

// record saves the judged order. Its errors say what a failed save leaves
// behind: an accepted order is pending (ErrOrderPending), and a denied one
// may have been stored after all (ports.ErrOutcomeUnknown).
func (b *BuyStock) record(ctx context.Context, judged domain.Order) (domain.Order, error) {
	saved, err := b.orders.Save(ctx, judged)
	if err == nil {
		return saved, nil
	}
	if judged.Status() == domain.Accepted {
		return domain.Order{}, fmt.Errorf("%w: %w", ErrOrderPending, err)
	}
	// No Save error proves that nothing was stored: the PostgreSQL group
	// commit goes on with an order its caller gave up on
	// (context.Canceled), and a connection lost during a commit leaves the
	// commit unknown (ErrUnavailable). Releasing the key would let a retry
	// record a second order, so it stays reserved: the settler completes
	// it with the order if it was stored, or frees it once the repository
	// says it was not.
	return domain.Order{}, fmt.Errorf("save order: %w: %w", ports.ErrOutcomeUnknown, err)
}

// finish tidies up after a recorded order: it completes the idempotency key
// with res, then forgets the accepted order's pending record. Either step
// that fails is left to the settler, and the client gets res regardless.
func (b *BuyStock) finish(ctx context.Context, req ports.DebitRequest, res ports.Outcome) {
	if req.IdempotencyKey != "" {
		// Should this write fail, only the replay record is missing: the
		// settler completes the key from the pending record, which must
		// therefore stay, or from the recorded order; the reservation
		// blocks a second debit meanwhile. The client gets its result now
		// and a 409 on retry.
		if err := b.keys.Complete(ctx, res.Order.User(), req.IdempotencyKey, req.Fingerprint, res, idempotencyTTL); err != nil {
			return
		}
	}
	if res.Order.Status() == domain.Accepted {
		// The order is safe in the repository; forgetting the outbox
		// record can wait for the settler if this fails, and may be
		// done a moment later with other buys' (redis.LaterSettler).
		_ = b.pending.SettlePending(ctx, res.Order.User(), res.Order.Key())
	}
}

func fingerprintOf(user, stock string, quantity int64) string {
	sum := sha256.Sum256([]byte(user + "\x00" + stock + "\x00" + strconv.FormatInt(quantity, 10)))
	return hex.EncodeToString(sum[:])
}

func newOrderKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("order key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
