package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// HeldPosition is one position of a user with its stock's latest price
// (Price 0: the stock has no price yet).
type HeldPosition struct {
	domain.Holding
	Price int64
}

// Positions is a user's credit and positions, in stock name order.
type Positions struct {
	User      string
	Credit    int64
	Positions []HeldPosition
}

// GetPositions reads what a user holds, priced at the latest prices.
type GetPositions struct {
	stocks    domain.Stocks
	positions ports.PositionReader
	quotes    ports.QuotesReader
}

// NewGetPositions wires the use case; stocks are the names that are never
// user names.
func NewGetPositions(stocks domain.Stocks, positions ports.PositionReader, quotes ports.QuotesReader) (*GetPositions, error) {
	if err := requireAll(map[string]any{"position reader": positions, "quotes reader": quotes}); err != nil {
		return nil, err
	}
	return &GetPositions{stocks: stocks, positions: positions, quotes: quotes}, nil
}

// Execute returns user's credit and positions, each with its stock's
// latest price, read in one call for all of them; ports.ErrUserNotFound
// for a name that is not a user's (as GetUser).
func (g *GetPositions) Execute(ctx context.Context, user string) (Positions, error) {
	if domain.ValidateUserName(user) != nil {
		return Positions{}, ports.ErrUserNotFound
	}
	if _, err := g.stocks.Canonical(user); err == nil {
		return Positions{}, ports.ErrUserNotFound
	}
	p, err := g.positions.Positions(ctx, user)
	if err != nil {
		return Positions{}, fmt.Errorf("read positions: %w", err)
	}
	out := Positions{User: user, Credit: p.Credit, Positions: make([]HeldPosition, len(p.Holdings))}
	if len(p.Holdings) == 0 {
		return out, nil
	}
	names := make([]string, len(p.Holdings))
	for i, h := range p.Holdings {
		names[i] = h.Stock
	}
	quotes, err := g.quotes.LatestQuotes(ctx, names)
	if err != nil {
		return Positions{}, fmt.Errorf("read prices: %w", err)
	}
	for i, h := range p.Holdings {
		out.Positions[i] = HeldPosition{Holding: h, Price: quotes[i].Price}
	}
	return out, nil
}
