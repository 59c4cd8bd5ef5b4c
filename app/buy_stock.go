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

// BuyStockResult is the judged and stored order and the credit left.
type BuyStockResult struct {
	Order  domain.Order
	Credit int64
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
	fingerprint := fingerprintOf(buy.User(), buy.Stock(), buy.Quantity())
	if cmd.IdempotencyKey != "" {
		r := ports.Reservation{User: buy.User(), Key: cmd.IdempotencyKey, Fingerprint: fingerprint, OrderKey: key, ReservedAt: now}
		replay, err := b.keys.Reserve(ctx, r, idempotencyTTL)
		if err != nil {
			return BuyStockResult{}, err
		}
		if replay != nil {
			return BuyStockResult{Order: replay.Order, Credit: replay.Credit}, nil
		}
	}
	res, changed, err := b.judge(ctx, buy, key, now, cmd.IdempotencyKey, fingerprint)
	if err != nil {
		if cmd.IdempotencyKey != "" && !changed {
			// Nothing happened: free the key so that a retry can run.
			if rerr := b.keys.Release(context.WithoutCancel(ctx), buy.User(), cmd.IdempotencyKey, key); rerr != nil {
				err = errors.Join(err, fmt.Errorf("release idempotency key: %w", rerr))
			}
		}
		return BuyStockResult{}, err
	}
	return res, nil
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

// judge runs the order; changed reports whether any state was written
// before a failure.
func (b *BuyStock) judge(ctx context.Context, buy domain.Buy, key string, now time.Time, idemKey, fingerprint string) (res BuyStockResult, changed bool, err error) {
	quote, ok, err := b.prices.Latest(ctx, buy.Stock())
	if err != nil {
		return res, false, fmt.Errorf("read price of %s: %w", buy.Stock(), err)
	}
	if !ok {
		return res, false, fmt.Errorf("%w: %s", ErrNoPrice, buy.Stock())
	}
	if err := quote.CheckFresh(now, b.zone, b.maxPriceAge); err != nil {
		return res, false, fmt.Errorf("price of %s: %w", buy.Stock(), err)
	}
	order, err := buy.At(key, quote.Price, now)
	if err != nil {
		return res, false, err
	}
	debit, err := b.debits.Debit(ctx, ports.DebitRequest{Order: order, IdempotencyKey: idemKey, Fingerprint: fingerprint})
	if err != nil {
		// A debit that may have happened keeps the idempotency key
		// reserved: if it did, the settler records its pending order and
		// completes the key; if not, the settler frees the key.
		return res, errors.Is(err, ports.ErrOutcomeUnknown), fmt.Errorf("debit %s: %w", buy.User(), err)
	}
	accepted := debit.Order.Status() == domain.Accepted
	saved, err := b.orders.Save(ctx, debit.Order)
	if err != nil {
		if accepted {
			return res, true, fmt.Errorf("%w: %w", ErrOrderPending, err)
		}
		// No Save error proves that nothing was stored: the PostgreSQL
		// group commit goes on with an order its caller gave up on
		// (context.Canceled), and a connection lost during a commit
		// leaves the commit unknown (ErrUnavailable). Releasing the key
		// would let a retry record a second order, so it stays reserved:
		// the settler completes it with the order if it was stored, or
		// frees it once the repository says it was not.
		return res, true, fmt.Errorf("save order: %w: %w", ports.ErrOutcomeUnknown, err)
	}
	res = BuyStockResult{Order: saved, Credit: debit.Credit}
	bg := context.WithoutCancel(ctx)
	if idemKey != "" {
		// The order is recorded. Should this write fail, only the replay
		// record is missing: the settler completes the key from the
		// pending record (which stays) or from the recorded order, and the
		// reservation blocks a second debit meanwhile. The client gets its
		// result now and a 409 on retry.
		if err := b.keys.Complete(bg, buy.User(), idemKey, fingerprint, ports.Outcome(res), idempotencyTTL); err != nil {
			return res, false, nil
		}
	}
	if accepted {
		// The order is safe in the repository; forgetting the outbox
		// record can wait for the settler if this fails. It is one HDEL
		// that rueidis pipelines with the concurrent requests' commands on
		// the same connection, which is the batch the settler would make.
		_ = b.pending.SettlePending(bg, buy.User(), key)
	}
	return res, false, nil
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
