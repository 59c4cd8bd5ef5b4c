package app

import (
	"context"
	"fmt"

	"stockd/domain"
	"stockd/ports"
)

// ListStocks tells traded stocks' latest day, minute and price: every
// stock, a page of them in name order (of a prefix), or the ones asked
// for by name. What a listing costs follows its length, not the number of
// stocks traded: the page is found by binary search, and its quotes are
// read in one call.
type ListStocks struct {
	stocks domain.Stocks
	quotes ports.QuotesReader
}

// NewListStocks wires the use case.
func NewListStocks(stocks domain.Stocks, quotes ports.QuotesReader) (*ListStocks, error) {
	if err := requireAll(map[string]any{"price store": quotes}); err != nil {
		return nil, err
	}
	return &ListStocks{stocks: stocks, quotes: quotes}, nil
}

// StockQuote is a stock's latest day, the last minute of that day and its
// close; HasPrice is false (and the rest zero) for a stock with no price
// yet. Day is zero, too, for a series of no known day (see domain.Day).
type StockQuote struct {
	Stock    string
	Day      domain.Day
	Minute   domain.TimeOfDay
	Price    int64
	HasPrice bool
}

// StockListing says which stocks to list: Names, when given, those (in
// that order, each once); else, with Page.Limit above 0, a page in name
// order; else every stock, in the configured order.
type StockListing struct {
	Names []string
	Page  domain.StockQuery
}

// StockPage is a listing's quotes; More says that a page is followed by
// more stocks, from the last one of this page on.
type StockPage struct {
	Quotes []StockQuote
	More   bool
}

// Execute lists the stocks l asks for; domain.ErrUnknownStock when one of
// l.Names is not traded.
func (u *ListStocks) Execute(ctx context.Context, l StockListing) (StockPage, error) {
	var names []string
	var page StockPage
	switch {
	case len(l.Names) > 0:
		var err error
		if names, err = u.stocks.Select(l.Names); err != nil {
			return StockPage{}, err
		}
	case l.Page.Limit > 0:
		names, page.More = u.stocks.Page(l.Page)
	default:
		names = u.stocks.Names()
	}
	quotes, err := u.quotes.LatestQuotes(ctx, names)
	if err != nil {
		return StockPage{}, fmt.Errorf("read the quotes of %d stocks: %w", len(names), err)
	}
	page.Quotes = make([]StockQuote, len(names))
	for i, name := range names {
		page.Quotes[i] = StockQuote{Stock: name}
		if q := quotes[i]; q.Price > 0 {
			// The quote is the close's tick; the series' last minute is
			// the minute of that tick.
			page.Quotes[i].Day, page.Quotes[i].Minute, page.Quotes[i].Price, page.Quotes[i].HasPrice = q.Day, q.At.Minute(), q.Price, true
		}
	}
	return page, nil
}
