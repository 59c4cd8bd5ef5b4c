package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
)

// priceHandlers serve the price routes: the list of stocks, a stock's
// series and its live stream.
type priceHandlers struct {
	prices *app.GetPrices
	stocks *app.ListStocks
	watch  *app.WatchPrices
	ping   time.Duration // between the comments that keep a stream open through proxies
}

// DefaultStreamPing is how often a stream sends a comment, so that
// proxies do not close it.
const DefaultStreamPing = 15 * time.Second

func newPriceHandlers(d Deps) *priceHandlers {
	p := &priceHandlers{prices: d.GetPrices, stocks: d.ListStocks, watch: d.WatchPrices, ping: d.StreamPing}
	if p.ping <= 0 {
		p.ping = DefaultStreamPing
	}
	return p
}

// pricesResponse is the body of .../prices and the stream's series event.
type pricesResponse struct {
	Stock string   `json:"stock"`
	Time  []string `json:"time"`
	Price []int64  `json:"price"`
	Open  []int64  `json:"open"`
	High  []int64  `json:"high"`
	Low   []int64  `json:"low"`
}

func toPricesResponse(stock string, s domain.MinuteSeries) pricesResponse {
	resp := pricesResponse{Stock: stock, Time: make([]string, len(s.Minutes)), Price: s.Prices, Open: s.Open, High: s.High, Low: s.Low}
	for i, m := range s.Minutes {
		resp.Time[i] = m.String()
	}
	return resp
}

func (p *priceHandlers) stockPrices(c echo.Context) error {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return fail(probBadQuery, "", err)
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
	stock, s, err := p.prices.Execute(c.Request().Context(), c.Param("stock"))
	if errors.Is(err, domain.ErrUnknownStock) {
		return withStatus(http.StatusNotFound, err)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toPricesResponse(stock, s.Window(from, to)))
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
	Time  *string `json:"time"`
	Price *int64  `json:"price"`
}

type stocksResponse struct {
	Results []stockQuoteJSON `json:"results"`
}

func (p *priceHandlers) listStocks(c echo.Context) error {
	quotes, err := p.stocks.Execute(c.Request().Context())
	if err != nil {
		return err
	}
	resp := stocksResponse{Results: make([]stockQuoteJSON, len(quotes))}
	for i, q := range quotes {
		resp.Results[i].Stock = q.Stock
		if q.HasPrice {
			t, price := q.Minute.String(), q.Price
			resp.Results[i].Time, resp.Results[i].Price = &t, &price
		}
	}
	return c.JSON(http.StatusOK, resp)
}
