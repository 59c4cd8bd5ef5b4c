package http

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// priceHandlers serve the price routes: the list of stocks, a stock's
// series and its live stream.
type priceHandlers struct {
	prices *app.GetPrices
	days   *app.ListDays
	stocks *app.ListStocks
	watch  *app.WatchPrices
	zone   string        // the market's time zone (APP_TIMEZONE), told to clients
	ping   time.Duration // between the comments that keep a stream open through proxies
	// cursors sign the stock listing's pages, as they do the orders'.
	cursors *cursorCodecs
}

// DefaultStreamPing is how often a stream sends a comment, so that
// proxies do not close it.
const DefaultStreamPing = 15 * time.Second

func newPriceHandlers(d Deps, cursors *cursorCodecs) *priceHandlers {
	p := &priceHandlers{prices: d.GetPrices, days: d.ListDays, stocks: d.ListStocks, watch: d.WatchPrices, zone: "UTC", ping: d.StreamPing, cursors: cursors}
	if d.Zone != nil {
		p.zone = d.Zone.String()
	}
	if p.ping <= 0 {
		p.ping = DefaultStreamPing
	}
	return p
}

// pricesResponse is the body of .../prices and the stream's series event:
// one trading day's series, Date null when the stock has none.
type pricesResponse struct {
	Stock string   `json:"stock"`
	Date  *string  `json:"date"`
	Time  []string `json:"time"`
	Price []int64  `json:"price"`
	Open  []int64  `json:"open"`
	High  []int64  `json:"high"`
	Low   []int64  `json:"low"`
}

func toPricesResponse(stock string, s domain.MinuteSeries) pricesResponse {
	resp := pricesResponse{Stock: stock, Date: dayJSON(s.Day()), Time: make([]string, len(s.Minutes())), Price: s.Closes(), Open: s.Opens(), High: s.Highs(), Low: s.Lows()}
	for i, m := range s.Minutes() {
		resp.Time[i] = m.String()
	}
	return resp
}

// dayJSON is a day as the API writes it, null for no day.
func dayJSON(d domain.Day) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

func (p *priceHandlers) stockPrices(c echo.Context) error {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return fail(probBadQuery, "", err)
	}
	day, err := dayParam(q)
	if err != nil {
		return err
	}
	from, err := minuteParam(q, "from", 0)
	if err != nil {
		return err
	}
	to, err := minuteParam(q, "to", domain.SecondsPerDay-1)
	if err != nil {
		return err
	}
	if from > to {
		return fail(probBadQuery, fmt.Sprintf("from %s is after to %s", from, to), nil)
	}
	stock, s, err := p.prices.Execute(c.Request().Context(), c.Param("stock"), day)
	if errors.Is(err, domain.ErrUnknownStock) {
		return withStatus(http.StatusNotFound, err)
	}
	if errors.Is(err, ports.ErrDayNotFound) {
		return fail(probDayNotFound, fmt.Sprintf("%s has no prices of %s; GET /api/stocks/%s/days lists the days kept", stock, day, stock), err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPricesResponse(stock, s.Window(from, to)))
}

// dayParam reads the optional date parameter; zero (the latest day) when
// it is absent.
func dayParam(q url.Values) (domain.Day, error) {
	if !q.Has("date") {
		return 0, nil
	}
	d, err := domain.ParseDay(q.Get("date"))
	if err != nil {
		return 0, fail(probBadDate, "date must be a real date written YYYY-MM-DD, such as 2026-03-02; got "+quoteInput(q.Get("date")), err)
	}
	return d, nil
}

type daysResponse struct {
	Stock string   `json:"stock"`
	Days  []string `json:"days"`
}

// stockDays serves GET /api/stocks/{stock}/days: the days of which the
// stock has a series, ascending.
func (p *priceHandlers) stockDays(c echo.Context) error {
	if _, err := url.ParseQuery(c.Request().URL.RawQuery); err != nil {
		return fail(probBadQuery, "", err)
	}
	stock, days, err := p.days.Execute(c.Request().Context(), c.Param("stock"))
	if errors.Is(err, domain.ErrUnknownStock) {
		return withStatus(http.StatusNotFound, err)
	}
	if err != nil {
		return err
	}
	resp := daysResponse{Stock: stock, Days: make([]string, len(days))}
	for i, d := range days {
		resp.Days[i] = d.String()
	}
	return c.JSON(http.StatusOK, resp)
}

// minuteParam reads an optional hhmmss query parameter.
func minuteParam(q url.Values, name string, fallback domain.TimeOfDay) (domain.TimeOfDay, error) {
	v := q.Get(name)
	if v == "" && !q.Has(name) {
		return fallback, nil
	}
	t, err := domain.ParseTimeOfDay(v)
	if len(v) != 6 || err != nil {
		return 0, fail(probBadQuery, name+" must be a time of day as six digits hhmmss", err)
	}
	return t, nil
}

type stockQuoteJSON struct {
	Stock string  `json:"stock"`
	Date  *string `json:"date"`
	Time  *string `json:"time"`
	Price *int64  `json:"price"`
}

// stocksResponse names the market's zone beside the quotes: their dates
// and times are in it, and the dashboard shows orders in it too. Next is
// the cursor of the next page, null on the last one and for a listing
// that is not paged.
type stocksResponse struct {
	Zone    string           `json:"zone"`
	Results []stockQuoteJSON `json:"results"`
	Next    *string          `json:"next"`
}

// MaxStocksPerRequest bounds the stocks one request names (stocks= of
// the listing, and of the stream).
const MaxStocksPerRequest = 1000

// listStocks serves GET /api/stocks: every stock (no parameters), a page
// in name order (limit, cursor, q), or the stocks named (stocks=).
func (p *priceHandlers) listStocks(c echo.Context) error {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return fail(probBadQuery, "", errMalformedQuery)
	}
	listing, err := p.stockListing(c, q)
	if err != nil {
		return err
	}
	page, err := p.stocks.Execute(c.Request().Context(), listing)
	if len(listing.Names) > 0 {
		err = inPath(withInput(err, "", unknownStockOf(err)))
	}
	if err != nil {
		return err
	}
	resp := stocksResponse{Zone: p.zone, Results: make([]stockQuoteJSON, len(page.Quotes))}
	for i, q := range page.Quotes {
		resp.Results[i].Stock = q.Stock
		if q.HasPrice {
			t, price := q.Minute.String(), q.Price
			resp.Results[i].Date, resp.Results[i].Time, resp.Results[i].Price = dayJSON(q.Day), &t, &price
		}
	}
	if page.More {
		cursors, err := p.cursors.get(c.Request().Context())
		if err != nil {
			return err
		}
		next := cursors.encodeStocks(listing.Page.Prefix, page.Quotes[len(page.Quotes)-1].Stock)
		resp.Next = &next
		c.Response().Header().Set("Link", nextLink(c.Request().URL, next))
	}
	return c.JSON(http.StatusOK, resp)
}

// stockListing reads what a listing asks for. A page is asked by limit,
// cursor or q: a cursor goes on with its own q (another q beside it is
// refused), and q alone lists every stock of the prefix; stocks= names
// the stocks and takes none of the others.
func (p *priceHandlers) stockListing(c echo.Context, q url.Values) (app.StockListing, error) {
	if q.Has("stocks") {
		if q.Has("limit") || q.Has("cursor") || q.Has("q") {
			return app.StockListing{}, fail(probBadQuery, "stocks names the stocks to list and takes no limit, cursor or q", nil)
		}
		names, err := stockNames(q)
		return app.StockListing{Names: names}, err
	}
	var l app.StockListing
	if q.Has("q") {
		l.Page.Prefix = strings.ToLower(q.Get("q"))
		if err := domain.ValidateStockPrefix(l.Page.Prefix); err != nil {
			return l, fail(probBadQuery, "q must be the start of a stock name: up to 32 of a-z 0-9 _ . -, starting with a letter or digit", err)
		}
		l.Page.Limit = math.MaxInt // every stock of the prefix, unless limit says otherwise
	}
	if q.Has("limit") || q.Has("cursor") {
		l.Page.Limit = domain.DefaultPageSize
	}
	if q.Has("limit") {
		n, err := pageSize(q.Get("limit"))
		if err != nil || n < 1 || n > domain.MaxPageSize {
			return l, fail(probBadLimit, "", err)
		}
		l.Page.Limit = n
	}
	if q.Has("cursor") {
		cursors, err := p.cursors.get(c.Request().Context())
		if err != nil {
			return l, err
		}
		prefix, after, err := cursors.decodeStocks(q.Get("cursor"))
		if err != nil {
			return l, fail(probBadCursor, "", err)
		}
		if q.Has("q") && prefix != l.Page.Prefix {
			return l, fail(probBadCursor, "the cursor is of another q; pass it with the q of its first page, or without q", nil)
		}
		l.Page.Prefix, l.Page.After = prefix, after
	}
	return l, nil
}

// stockNames reads stocks=a,b,c: 1 to MaxStocksPerRequest names, each of
// the form of a stock name (whether it is traded is the use case's to
// say).
func stockNames(q url.Values) ([]string, error) {
	if len(q["stocks"]) != 1 {
		return nil, fail(probBadQuery, "stocks must be given once, as a comma-separated list", nil)
	}
	names := strings.Split(q.Get("stocks"), ",")
	if len(names) > MaxStocksPerRequest {
		return nil, fail(probBadQuery, fmt.Sprintf("stocks names %d stocks; at most %d may be asked at once", len(names), MaxStocksPerRequest), nil)
	}
	for _, n := range names {
		if err := domain.ValidateStockName(strings.ToLower(n)); err != nil {
			return nil, fail(probBadQuery, "stocks must be a comma-separated list of stock names, such as stock1,stock2; got "+quoteInput(n), err)
		}
	}
	return names, nil
}

// unknownStockOf is the name that err says is not traded, for its
// problem's detail.
func unknownStockOf(err error) string {
	var unknown *domain.UnknownStockError
	if errors.As(err, &unknown) {
		return unknown.Name
	}
	return ""
}
