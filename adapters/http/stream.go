package http

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"stockd/domain"
	"stockd/internal/pricefeed"
)

// streamWriteWait bounds one write to a stream's client: a client that
// stops reading is cut off rather than holding a goroutine and buffers.
const streamWriteWait = 10 * time.Second

// stream serves GET /api/stocks/{stock}/stream as Server-Sent Events: the
// latest day's series, then a minute event (with its day) for every minute
// a write changes in the latest day, a new day's first minutes included, and a ping
// comment every p.ping, as the contract says, busy or quiet. It ends when the
// client goes away or the feed drops the watch (the client was too slow,
// or changes may have been missed); a client that reconnects starts again
// from a fresh series. The watch is tied to the request's context, so
// nothing outlives the connection.
func (p *priceHandlers) stream(c echo.Context) error {
	ctx := c.Request().Context()
	w, err := p.watch.Execute(ctx, c.Param("stock"))
	if errors.Is(err, domain.ErrUnknownStock) {
		return withStatus(http.StatusNotFound, err)
	}
	if err != nil {
		return err
	}
	series, err := json.Marshal(toPricesResponse(w.Stock, w.Series))
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
	// The series is sent and not kept (only a checksum share per minute,
	// for the event ids): a stream held for hours holds little. A client
	// that resumes (Last-Event-ID) gets the minutes it missed instead, when
	// they are few and nothing before them changed.
	var ids eventIDs
	var buf []byte
	if missed, ok := resumeCandles(c.Request().Header.Get("Last-Event-ID"), w.Series); ok {
		ids.holdSeries(w.Series.Window(0, missed[0].Minute-1)) // what the client still has
		buf = ids.appendMinutes(buf, w.Series.Day(), missed)
	} else {
		ids.holdSeries(w.Series)
		if w.Series.Len() > 0 {
			buf = ids.appendID(buf)
		}
		buf = append(append(append(buf, "event: series\ndata: "...), series...), "\n\n"...)
	}
	if !send(buf) {
		return nil
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
			buf = ids.appendMinutes(buf[:0], change.Day, change.Minutes)
			if !send(buf) {
				return nil
			}
		}
	}
}

// appendMinuteEvent writes one minute event of day: the day is in every
// event, so that a client sees a new day start in the first minute of it.
func appendMinuteEvent(b []byte, day domain.Day, m domain.MinuteCandle) []byte {
	b = append(b, "event: minute\ndata: "...)
	b = pricefeed.AppendMinute(b, day, m)
	return append(b, "\n\n"...)
}
