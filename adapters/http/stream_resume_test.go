package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/internal/domaintest"
)

// streamFrom opens a stream of stock1 with a Last-Event-ID ("" for none).
func streamFrom(t *testing.T, srv *httptest.Server, lastID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/stocks/stock1/stream", nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return readEvents(resp.Body)
}

// tickOn is a tick of stock1 on the fixture's latest day (newPriceServer).
func tickOn(at domain.TimeOfDay, price int64) domain.Tick {
	return domaintest.Tick("stock1", march3, at, price)
}

// TestStreamEventIDsAndResume: each event carries the newest minute sent,
// with its day and a checksum of the earlier minutes, as its id; a client
// that reconnects with Last-Event-ID gets the minutes from that one on as
// minute events instead of the whole series, and a fresh series when the
// id is unknown, of another day, too much was missed, or a minute before
// it changed while the client was away (a late tick).
func TestStreamEventIDsAndResume(t *testing.T) {
	s := newPriceServer(t, time.Hour)
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)

	events := streamFrom(t, srv, "")
	series := next(t, events)
	require.Equal(t, "series", series.name)
	assert.Regexp(t, `^2026-03-03T090200\.[0-9a-f]{16}$`, series.id, "the series' newest minute")
	merge(t, s.prices, tickOn(9*3600+200, 130))
	minute := next(t, events)
	assert.Equal(t, "minute", minute.name)
	assert.Regexp(t, `^2026-03-03T090300\.`, minute.id)

	// Away from 09:03 on: 09:03 changes and 09:05 is new.
	merge(t, s.prices, tickOn(9*3600+230, 140), tickOn(9*3600+300, 150))
	resumed := streamFrom(t, srv, minute.id)
	// The series carries a quiet minute forward, so 09:04 is in it too.
	for _, want := range []sseEvent{
		{name: "minute", id: "2026-03-03T090300", data: `{"date":"2026-03-03","time":"090300","price":140,"open":130,"high":140,"low":130}`},
		{name: "minute", id: "2026-03-03T090400", data: `{"date":"2026-03-03","time":"090400","price":140,"open":140,"high":140,"low":140}`},
		{name: "minute", id: "2026-03-03T090500", data: `{"date":"2026-03-03","time":"090500","price":150,"open":150,"high":150,"low":150}`},
	} {
		got := next(t, resumed)
		assert.True(t, strings.HasPrefix(got.id, want.id+"."), "id %q of %s", got.id, want.id)
		got.id = want.id
		assert.Equal(t, want, got)
	}
	merge(t, s.prices, tickOn(9*3600+360, 160))
	live := next(t, resumed)
	assert.Regexp(t, `^2026-03-03T090600\.`, live.id, "and then live, as any stream")
	again := next(t, streamFrom(t, srv, live.id))
	assert.Equal(t, "minute", again.name, "an id of a resumed stream resumes too")
	assert.Equal(t, live.id, again.id, "the same minutes, the same checksum")

	// A late tick changes 09:01 while the client is away: its 09:01 is no
	// longer the series', so it gets the series again, not just 09:06 on.
	merge(t, s.prices, tickOn(9*3600+90, 95))
	assert.Equal(t, "series", next(t, streamFrom(t, srv, live.id)).name, "an earlier minute changed: a fresh series")

	for _, lastID := range []string{"nonsense", "085900", "09:03:00", "235900", "090300", "2026-03-03T090300",
		"2026-03-03T090300.0000000000000000", "2026-03-02T090300" + live.id[17:], "2026-13-03T090300" + live.id[17:]} {
		assert.Equal(t, "series", next(t, streamFrom(t, srv, lastID)).name, "Last-Event-ID %q", lastID)
	}
	fresh := next(t, streamFrom(t, srv, ""))
	var many []domain.Tick
	for m := range 61 {
		many = append(many, tickOn(domain.TimeOfDay(10*3600+60*m), 100))
	}
	merge(t, s.prices, many...)
	assert.Equal(t, "series", next(t, streamFrom(t, srv, fresh.id)).name, "more than 60 minutes missed: a fresh series")
}
