package http

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
	"stockd/internal/pricefeed"
)

// streamWriteWait bounds one write to a stream's client: a client that
// stops reading is cut off rather than holding a goroutine and buffers.
const streamWriteWait = 10 * time.Second

// maxBatchedChanges bounds the changes a multiplexed stream gathers into
// one write (and one id): enough for an ingest batch that changes many of
// its stocks at once, little enough that a flood is still written as it
// comes.
const maxBatchedChanges = 256

// stream serves GET /api/stocks/{stock}/stream: one stock's stream, each
// event with the id of that stock alone (see eventIDs).
func (p *priceHandlers) stream(c echo.Context) error {
	return p.serveStream(c, []string{c.Param("stock")}, false)
}

// streamMany serves GET /api/stream?stocks=a,b,c: one stream of many
// stocks, counted as one stream against the limits, whatever their
// number. It costs one goroutine, one watch (one channel) and a few
// words per stock, and a write changes only the stocks it names.
func (p *priceHandlers) streamMany(c echo.Context) error {
	q, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return fail(probBadQuery, "", errMalformedQuery)
	}
	if !q.Has("stocks") {
		return fail(probBadQuery, "stocks is required: a comma-separated list of the stocks to follow, such as stocks=stock1,stock2", nil)
	}
	names, err := stockNames(q)
	if err != nil {
		return err
	}
	return p.serveStream(c, names, true)
}

// serveStream serves a stream of stocks as Server-Sent Events: each
// stock's latest day's series (or, for a client that resumes with
// Last-Event-ID, the minutes it missed), then a minute event (with its
// stock and day) for every minute a write changes in a latest day, a new
// day's first minutes included, and a ping comment every p.ping, as the
// contract says, busy or quiet. It ends when the client goes away or the
// feed drops the watch (the client was too slow, or changes may have been
// missed); a client that reconnects starts again from fresh series or
// resumes. The watch is tied to the request's context, so nothing
// outlives the connection. many says which events and ids to write: those
// of /api/stream (the stock in every minute, one id for every stock) or
// those of one stock's stream.
func (p *priceHandlers) serveStream(c echo.Context, stocks []string, many bool) error {
	ctx := c.Request().Context()
	w, err := p.watch.Execute(ctx, stocks)
	if errors.Is(err, domain.ErrUnknownStock) {
		return inPath(withInput(err, "", unknownStockOf(err)))
	}
	if err != nil {
		return err
	}

	res := c.Response()
	rc := http.NewResponseController(res)
	// The server's read and write timeouts are for requests, not for a
	// stream: no more reading is due, and each write gets its own bound.
	_ = rc.SetReadDeadline(time.Time{})
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would buffer the events
	res.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil // the headers a GET would get, and no stream
	}

	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteWait))
		if _, err := res.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	ids := newStreamIDs(w.Stocks, many)
	buf, err := ids.appendStart(nil, c.Request().Header.Get("Last-Event-ID"), w, send)
	if err != nil || buf == nil {
		return err // nil, nil: the client went away during the start
	}
	if !send(buf) {
		return nil
	}
	if cap(buf) > maxKeptBuffer {
		buf = nil // the start of many full series: not kept for the stream's life
	}
	ping := time.NewTicker(p.ping)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			if streamEnded(ctx) {
				send(reconnectHint())
			}
			return nil
		case <-ping.C:
			if !send([]byte(": ping\n\n")) {
				return nil
			}
		case change, ok := <-w.Changes:
			if !ok {
				// The watch ends with ctx too, and may be seen first.
				if streamEnded(ctx) {
					send(reconnectHint())
				}
				return nil
			}
			buf = ids.appendChange(buf[:0], change)
			// What else is there already goes in the same write, under
			// one id: an ingest batch changes many stocks at once.
		gather:
			for range maxBatchedChanges {
				select {
				case more, ok := <-w.Changes:
					if !ok {
						break gather // the next receive ends the stream
					}
					buf = ids.appendChange(buf, more)
				default:
					break gather
				}
			}
			if !send(ids.appendBatchID(buf)) {
				return nil
			}
			if cap(buf) > maxKeptBuffer {
				buf = nil // a burst's buffer is not kept for the quiet after it
			}
		}
	}
}

// appendSeriesEvent writes the series event of stock: the body of
// .../prices.
func appendSeriesEvent(b []byte, stock string, s domain.MinuteSeries) ([]byte, error) {
	series, err := json.Marshal(toPricesResponse(stock, s))
	if err != nil {
		return nil, err
	}
	b = append(b, "event: series\ndata: "...)
	b = append(b, series...)
	return append(b, "\n\n"...), nil
}

// appendMinuteEvent writes one minute event of day: the day is in every
// event, so that a client sees a new day start in the first minute of it;
// stock is in it too on a stream of many ("" leaves it out).
func appendMinuteEvent(b []byte, stock string, day domain.Day, m domain.MinuteCandle) []byte {
	b = append(b, "event: minute\ndata: "...)
	if stock == "" {
		b = pricefeed.AppendMinute(b, day, m)
	} else {
		b = pricefeed.AppendStockMinute(b, stock, day, m)
	}
	return append(b, "\n\n"...)
}

// streamIDs is what a stream's client holds of each of its stocks, and
// writes the stream's events with their ids: on one stock's stream every
// event carries that stock's id; on a stream of many, the last event of
// each write carries one id for every stock (an SSE client keeps the last
// id it was sent, so Last-Event-ID then covers every event it got).
type streamIDs struct {
	stocks []string
	held   []eventIDs
	index  map[string]int // by stock, on a stream of many
	many   bool
}

func newStreamIDs(stocks []string, many bool) *streamIDs {
	ids := &streamIDs{stocks: stocks, held: make([]eventIDs, len(stocks)), many: many}
	if many {
		ids.index = make(map[string]int, len(stocks))
		for i, s := range stocks {
			ids.index[s] = i
		}
	}
	return ids
}

// maxKeptBuffer is the most a stream keeps of its write buffer between
// writes, and the size past which its start is written in parts: the
// series of a thousand stocks late in the day are tens of megabytes,
// which neither a stream's whole life nor one write's deadline should
// hold.
const maxKeptBuffer = 64 << 10

// appendStart writes what a stream starts with: per stock, the minutes a
// resuming client missed (lastID says what it holds), or the series. On a
// stream of many, a start past maxKeptBuffer is handed to send in parts,
// each ending with the id of what was sent so far (a stock not sent yet
// is unknown in it, so a client that reconnects then gets its series);
// what is left is returned for the caller to send. nil, nil: send failed.
func (ids *streamIDs) appendStart(b []byte, lastID string, w app.PriceWatch, send func([]byte) bool) ([]byte, error) {
	var held []heldMinutes
	if ids.many {
		held = parseManyID(lastID, ids.stocks)
	} else if h, ok := parseEventID(lastID); ok {
		held = []heldMinutes{h}
	}
	for i, stock := range w.Stocks {
		s := w.Series[i]
		if i < len(held) {
			if missed, ok := resumeCandles(held[i], s); ok {
				ids.held[i].holdSeries(s.Window(0, missed[0].Minute-1)) // what the client still has
				b = ids.appendMinutes(b, i, s.Day(), missed)
				continue
			}
		}
		ids.held[i].holdSeries(s)
		if !ids.many && s.Len() > 0 {
			b = ids.held[i].appendID(b)
		}
		var err error
		if b, err = appendSeriesEvent(b, stock, s); err != nil {
			return nil, err
		}
		if ids.many && len(b) > maxKeptBuffer && i < len(w.Stocks)-1 {
			if !send(ids.appendBatchID(b)) {
				return nil, nil
			}
			b = b[:0]
		}
	}
	return ids.appendBatchID(b), nil
}

// appendChange writes the minute events of one change.
func (ids *streamIDs) appendChange(b []byte, c domain.StockChange) []byte {
	i := 0
	if ids.many {
		var ok bool
		if i, ok = ids.index[c.Stock]; !ok {
			return b // not a stock of this stream: the feed sends none such
		}
	}
	return ids.appendMinutes(b, i, c.Day, c.Minutes)
}

// appendMinutes writes a minute event for each of minutes of day of the
// i-th stock, each with its id on one stock's stream.
func (ids *streamIDs) appendMinutes(b []byte, i int, day domain.Day, minutes []domain.MinuteCandle) []byte {
	stock := ""
	if ids.many {
		stock = ids.stocks[i]
	}
	for _, m := range minutes {
		ids.held[i].hold(day, m)
		if !ids.many {
			b = ids.held[i].appendID(b)
		}
		b = appendMinuteEvent(b, stock, day, m)
	}
	return b
}

// appendBatchID gives the last event of one write, on a stream of many,
// the id of every stock: an SSE client keeps the last id it was sent, so
// its Last-Event-ID covers every event it got, and an id per event would
// repeat a line of a few bytes per stock in each of them. The id line goes
// last in that event, before the blank line that ends it (an event's
// fields may come in any order).
func (ids *streamIDs) appendBatchID(b []byte) []byte {
	if !ids.many || len(b) == 0 {
		return b
	}
	return append(appendManyID(b[:len(b)-1], ids.stocks, ids.held), '\n')
}
