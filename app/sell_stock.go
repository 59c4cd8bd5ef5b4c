package app

import (
	"context"
	"fmt"
	"time"

	"stockd/domain"
	"stockd/ports"
)

// SellStockCommand asks to sell Quantity shares of Stock for User.
type SellStockCommand struct {
	User           string
	Stock          string
	Quantity       int64
	IdempotencyKey string // optional: makes a retry return the first outcome
}

// SellStockResult is what a sale answers, as BuyStockResult is a buy's:
// the judged and stored order, the credit after it, and whether it is a
// replay.
type SellStockResult struct {
	ports.Outcome
	Replayed bool
}

// SellStock judges a sale against the user's position, credits an
// accepted one and takes its shares, and records every judged sale. It
// runs the steps of a buy (validation, MAX_PRICE_AGE, the idempotency key
// and its fence, the pending record, the order store) with a sale in the
// credit store for the debit.
type SellStock struct {
	buys  *BuyStock
	sales ports.SaleCrediter
}

// NewSellStock wires the use case on the stocks, price store, pending
// orders, order store, idempotency keys, clock and MAX_PRICE_AGE of buys
// (as WithMaxPriceAge returned it), so that a sale is priced, fenced and
// recorded by exactly the rules of a buy. sales is usually the credit store
// that debits the buys.
func NewSellStock(buys *BuyStock, sales ports.SaleCrediter) (*SellStock, error) {
	if err := requireAll(map[string]any{"buy use case": buys, "sale crediter": sales}); err != nil {
		return nil, err
	}
	return &SellStock{buys: buys, sales: sales}, nil
}

// Execute judges and records one sale, with the errors of
// BuyStock.Execute: a denied sale is a result; errors before the sale
// change nothing; an accepted sale that could not be recorded is pending
// (ErrOrderPending), and a denied one may have been recorded
// (ports.ErrOutcomeUnknown), its key reserved until the settler finds out.
func (s *SellStock) Execute(ctx context.Context, cmd SellStockCommand) (SellStockResult, error) {
	sale, err := validateTrade(s.buys.stocks, cmd.User, cmd.Stock, cmd.Quantity, domain.NewSell)
	if err != nil {
		return SellStockResult{}, err
	}
	out, replayed, err := s.buys.trade(ctx, sale, domain.SideSell, cmd.IdempotencyKey,
		func(ctx context.Context, key string, price int64, now time.Time, r ports.Reservation) (ports.Outcome, error) {
			order, err := sale.AtPrice(key, price, now)
			if err != nil {
				return ports.Outcome{}, err
			}
			req := ports.SaleRequest{Order: order, IdempotencyKey: r.Key, Fingerprint: r.Fingerprint}
			sold, err := s.sales.CreditSale(ctx, req)
			if err != nil {
				return ports.Outcome{}, fmt.Errorf("sell for %s: %w", sale.User(), err)
			}
			return sold, nil
		})
	return SellStockResult{Outcome: out, Replayed: replayed}, err
}
