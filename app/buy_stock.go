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
// domain.ErrStalePrice, a buy (and a sale of a SellStock made on it) whose
// stock's latest tick (its day and time
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
	buy, err := validateTrade(b.stocks, cmd.User, cmd.Stock, cmd.Quantity, domain.NewBuy)
	if err != nil {
		return BuyStockResult{}, err
	}
	out, replayed, err := b.trade(ctx, buy, domain.SideBuy, cmd.IdempotencyKey,
		func(ctx context.Context, key string, price int64, now time.Time, r ports.Reservation) (ports.Outcome, error) {
			order, err := buy.AtPrice(key, price, now)
			if err != nil {
				return ports.Outcome{}, err
			}
			req := ports.DebitRequest{Order: order, IdempotencyKey: r.Key, Fingerprint: r.Fingerprint}
			debited, err := b.debits.Debit(ctx, req)
			if err != nil {
				return ports.Outcome{}, fmt.Errorf("debit %s: %w", buy.User(), err)
			}
			return debited, nil
		})
	return BuyStockResult{Outcome: out, Replayed: replayed}, err
}

// tradeRequest is what the steps of a trade read of a checked buy or sale.
type tradeRequest interface {
	User() string
	Stock() string
	Quantity() int64
}

// judgeTrade prices a trade at price, as the order identified by key made
// at now, and judges it in the credit store (a debit, a sale) under the
// reservation r (no Key: none). Its errors say whether it may have written
// anything, as Debiter's do.
type judgeTrade func(ctx context.Context, key string, price int64, now time.Time, r ports.Reservation) (ports.Outcome, error)

// trade runs the steps of a buy or a sale (SellStock) around judge:
// reserve the idempotency key, price the order, judge it, record it, and
// finish the key and the pending record. It returns the outcome and
// whether it is the replay of an earlier request with the key.
func (b *BuyStock) trade(ctx context.Context, t tradeRequest, side domain.Side, idemKey string, judge judgeTrade) (ports.Outcome, bool, error) {
	// The order key exists before the reservation, which records it: the
	// settler can then tell whether the request ever debited or recorded.
	key, err := newOrderKey()
	if err != nil {
		return ports.Outcome{}, false, err
	}
	now := b.clock.Now()
	r := ports.Reservation{User: t.User(), Key: idemKey, OrderKey: key, ReservedAt: now}
	if r.Key != "" {
		// The fingerprint tells a retry from another request under the
		// same key; without a key there is nothing to tell apart.
		r.Fingerprint = fingerprintOf(side, t.User(), t.Stock(), t.Quantity())
		replay, err := b.keys.Reserve(ctx, r, idempotencyTTL)
		if err != nil {
			return ports.Outcome{}, false, err
		}
		if replay != nil {
			return *replay, true, nil
		}
	}
	price, err := b.price(ctx, t.Stock(), now)
	if err != nil {
		return ports.Outcome{}, false, b.release(ctx, r, err)
	}
	judged, err := judge(ctx, key, price, now, r)
	if err != nil {
		if errors.Is(err, ports.ErrOutcomeUnknown) {
			// A debit that may have happened keeps the idempotency key
			// reserved: if it did, the settler records its pending order
			// and completes the key; if not, the settler frees the key.
			return ports.Outcome{}, false, err
		}
		return ports.Outcome{}, false, b.release(ctx, r, err)
	}
	saved, err := b.record(ctx, judged.Order)
	if err != nil {
		return ports.Outcome{}, false, err // the key stays reserved: see record
	}
	res := ports.Outcome{Order: saved, Credit: judged.Credit}
	b.finish(context.WithoutCancel(ctx), r, res)
	return res, false, nil
}

// validateTrade checks a command before anything is read: the rules of a
// buy or a sale are the domain's (newTrade is domain.NewBuy or
// domain.NewSell); that a stock's name is nobody's is the use cases', since
// only they know both.
func validateTrade[T any](stocks domain.Stocks, user, stock string, quantity int64, newTrade func(user, stock string, quantity int64) (T, error)) (T, error) {
	var none T
	stock, err := stocks.Canonical(stock)
	if err != nil {
		return none, err
	}
	t, err := newTrade(user, stock, quantity)
	if err != nil {
		return none, err
	}
	if _, err := stocks.Canonical(user); err == nil {
		return none, fmt.Errorf("%w: %s is a stock", ports.ErrUserNotFound, user)
	}
	return t, nil
}

// price reads the latest quote of stock: the price to judge an order made
// at now at. It writes nothing.
func (b *BuyStock) price(ctx context.Context, stock string, now time.Time) (int64, error) {
	quote, ok, err := b.prices.Latest(ctx, stock)
	if err != nil {
		return 0, fmt.Errorf("read price of %s: %w", stock, err)
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrNoPrice, stock)
	}
	if err := quote.CheckFresh(now, b.zone, b.maxPriceAge); err != nil {
		return 0, fmt.Errorf("price of %s: %w", stock, err)
	}
	return quote.Price, nil
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
// of r with res, then forgets the accepted order's pending record. Either
// step that fails is left to the settler, and the client gets res
// regardless.
func (b *BuyStock) finish(ctx context.Context, r ports.Reservation, res ports.Outcome) {
	if r.Key != "" {
		// Should this write fail, only the replay record is missing: the
		// settler completes the key from the pending record, which must
		// therefore stay, or from the recorded order; the reservation
		// blocks a second debit meanwhile. The client gets its result now
		// and a 409 on retry.
		if err := b.keys.Complete(ctx, res.Order.User(), r.Key, r.Fingerprint, res, idempotencyTTL); err != nil {
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

// fingerprintOf identifies a request under its idempotency key. A sale's
// names its side, so that a buy and a sale of the same shares under one key
// are two requests (ErrKeyReused), never the replay of each other; a buy's
// is what it was before sales, so that keys stored then still replay.
func fingerprintOf(side domain.Side, user, stock string, quantity int64) string {
	text := user + "\x00" + stock + "\x00" + strconv.FormatInt(quantity, 10)
	if side != domain.SideBuy {
		text = string(side) + "\x00" + text
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

func newOrderKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("order key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
