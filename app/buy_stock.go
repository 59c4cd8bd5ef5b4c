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
// an outcome: a key whose request crashed midway stays "in progress" rather
// than letting a retry debit twice.
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
	prices  ports.PriceStore
	credits ports.CreditStore
	orders  ports.OrderRepository
	keys    ports.IdempotencyStore
	clock   ports.Clock
}

// NewBuyStock wires the use case.
func NewBuyStock(stocks domain.Stocks, prices ports.PriceStore, credits ports.CreditStore, orders ports.OrderRepository, keys ports.IdempotencyStore, clock ports.Clock) (*BuyStock, error) {
	if err := requireAll(map[string]any{"price store": prices, "credit store": credits, "order repository": orders, "idempotency store": keys, "clock": clock}); err != nil {
		return nil, err
	}
	return &BuyStock{stocks: stocks, prices: prices, credits: credits, orders: orders, keys: keys, clock: clock}, nil
}

// Execute judges and records one order. A denied order is a result, not an
// error. Errors before the debit change nothing; after an accepted debit,
// the order is kept as pending and ErrOrderPending is returned if it could
// not be recorded.
func (b *BuyStock) Execute(ctx context.Context, cmd BuyStockCommand) (BuyStockResult, error) {
	stock, err := b.validate(&cmd)
	if err != nil {
		return BuyStockResult{}, err
	}
	fingerprint := fingerprintOf(cmd.User, stock, cmd.Quantity)
	if cmd.IdempotencyKey != "" {
		replay, err := b.keys.Reserve(ctx, cmd.IdempotencyKey, fingerprint, idempotencyTTL)
		if err != nil {
			return BuyStockResult{}, err
		}
		if replay != nil {
			return BuyStockResult{Order: replay.Order, Credit: replay.Credit}, nil
		}
	}
	res, changed, err := b.judge(ctx, cmd, stock, fingerprint)
	if err != nil {
		if cmd.IdempotencyKey != "" && !changed {
			// Nothing happened: free the key so that a retry can run.
			if rerr := b.keys.Release(context.WithoutCancel(ctx), cmd.IdempotencyKey); rerr != nil {
				err = errors.Join(err, fmt.Errorf("release idempotency key: %w", rerr))
			}
		}
		return BuyStockResult{}, err
	}
	if cmd.IdempotencyKey != "" {
		// The order is recorded. Should this write fail, only the replay
		// record is missing, and the reservation still blocks a second
		// debit: the client gets its result now and a 409 on retry.
		_ = b.keys.Complete(context.WithoutCancel(ctx), cmd.IdempotencyKey, fingerprint, ports.Outcome(res), idempotencyTTL)
	}
	return res, nil
}

func (b *BuyStock) validate(cmd *BuyStockCommand) (string, error) {
	if cmd.User == "" {
		return "", domain.ErrBadUser
	}
	if cmd.Quantity < 1 {
		return "", domain.ErrBadQuantity
	}
	return b.stocks.Canonical(cmd.Stock)
}

// judge runs the order; changed reports whether any state was written
// before a failure.
func (b *BuyStock) judge(ctx context.Context, cmd BuyStockCommand, stock, fingerprint string) (res BuyStockResult, changed bool, err error) {
	series, err := b.prices.Series(ctx, stock)
	if err != nil {
		return res, false, fmt.Errorf("read price of %s: %w", stock, err)
	}
	price, ok := series.Latest()
	if !ok {
		return res, false, fmt.Errorf("%w: %s", ErrNoPrice, stock)
	}
	key, err := newOrderKey()
	if err != nil {
		return res, false, err
	}
	now := b.clock.Now()
	var order domain.Order
	change, err := b.credits.UpdateCredit(ctx, cmd.User, func(credit int64) (ports.CreditChange, error) {
		j := domain.Judge(credit, price, cmd.Quantity)
		o, err := domain.NewOrder(key, cmd.User, stock, j.Status, price, cmd.Quantity, now)
		if err != nil {
			return ports.CreditChange{}, err
		}
		order = o
		if j.Status != domain.Accepted {
			return ports.CreditChange{Credit: credit}, nil
		}
		return ports.CreditChange{Credit: j.CreditLeft, Pending: &ports.PendingOrder{
			Order: o, CreditLeft: j.CreditLeft, IdempotencyKey: cmd.IdempotencyKey, Fingerprint: fingerprint,
		}}, nil
	})
	if err != nil {
		// A debit that may have happened keeps the idempotency key
		// reserved: if it did, the settler records its pending order and
		// completes the key; a retry must not debit a second time.
		return res, errors.Is(err, ports.ErrOutcomeUnknown), fmt.Errorf("update credit of %s: %w", cmd.User, err)
	}
	saved, err := b.orders.Save(ctx, order)
	if err != nil {
		if change.Pending != nil {
			return res, true, fmt.Errorf("%w: %w", ErrOrderPending, err)
		}
		return res, false, fmt.Errorf("save order: %w", err)
	}
	if change.Pending != nil {
		// The order is safe in the repository; forgetting the outbox
		// record can wait for the settler if this fails.
		_ = b.credits.SettlePending(context.WithoutCancel(ctx), key)
	}
	return BuyStockResult{Order: saved, Credit: change.Credit}, false, nil
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
