package http_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "stockd/adapters/http"
	"stockd/domain"
	"stockd/internal/testenv"
)

// openStream opens a stream on srv and returns its events; the stream is
// closed at the end of the test.
func openStream(t *testing.T, srv *httptest.Server, stock string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/stocks/"+stock+"/stream", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return readEvents(resp.Body), resp
}

// TestStreamLimitPerClient: past STREAM_LIMIT_PER_CLIENT a client's new
// stream is a 429 with Retry-After, while its open streams still get
// their events and the rest of the API still answers.
func TestStreamLimitPerClient(t *testing.T) {
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) { d.StreamLimitPerClient = 2 })
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close) // after the streams' cleanups: Close waits for them

	var open []<-chan sseEvent
	for range 2 {
		events, resp := openStream(t, srv, "stock1")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "series", next(t, events).name)
		open = append(open, events)
	}
	resp, err := srv.Client().Get(srv.URL + "/api/stocks/stock1/stream")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, string(body))
	assert.Contains(t, string(body), `"type":"/problems/too-many-streams"`)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, 2, s.prices.Feed().Watchers(), "a refused stream holds no watch")

	resp, err = srv.Client().Get(srv.URL + "/api/stocks/stock1/prices")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the rest of the API answers")

	b := domain.NewTickBatch()
	b.Add(tickOn(9*3600+200, 130))
	require.NoError(t, s.prices.Merge(t.Context(), b.Histories()))
	for _, events := range open {
		assert.Equal(t, "minute", next(t, events).name, "the open streams go on")
	}
}

// TestStreamLimitInAll: past STREAM_LIMIT any new stream is a 503 with
// Retry-After, whoever asks; a closed stream frees its place.
func TestStreamLimitInAll(t *testing.T) {
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) { d.StreamLimitPerClient, d.StreamLimit = 2, 3 })
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Streams served straight by the handler, so that each can come from
	// an address of its own; nothing reads their bodies.
	openFrom := func(addr string) (context.CancelFunc, *httptest.ResponseRecorder) {
		ctx, stop := context.WithCancel(ctx)
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/stocks/stock1/stream", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		wg.Go(func() { s.handler.ServeHTTP(rec, req) })
		return stop, rec
	}
	closeFirst, _ := openFrom("10.0.0.1:1000")
	openFrom("10.0.0.1:1001")
	openFrom("10.0.0.2:1000")
	require.Eventually(t, func() bool { return s.prices.Feed().Watchers() == 3 }, 5*time.Second, time.Millisecond)

	refuse := func(addr string, status int, slug string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/stocks/stock1/stream", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		require.Equal(t, status, rec.Code, addr)
		assertProblem(t, rec, status, slug)
		assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	}
	refuse("10.0.0.3:1000", http.StatusServiceUnavailable, "streams-full")
	refuse("10.0.0.1:1002", http.StatusTooManyRequests, "too-many-streams")

	closeFirst()
	// The closed stream's watch ends a moment before its place is given
	// back, so a new stream is tried until one is let in; those refused
	// meanwhile end at once.
	require.Eventually(t, func() bool {
		if s.prices.Feed().Watchers() == 3 {
			return true
		}
		openFrom("10.0.0.3:1000")
		return false
	}, 5*time.Second, 10*time.Millisecond, "a closed stream frees its place")
}

// TestStreamEndsAtItsLifetime: the server ends a stream at its lifetime
// with a retry field, so that a browser reconnects (and gets a fresh
// series) instead of holding one connection forever.
func TestStreamEndsAtItsLifetime(t *testing.T) {
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) { d.StreamLifetime = 200 * time.Millisecond })
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close) // after the streams' cleanups: Close waits for them
	events, _ := openStream(t, srv, "stock1")
	require.Equal(t, "series", next(t, events).name)
	last := next(t, events)
	assert.Regexp(t, `^[1-4][0-9]{3}$`, last.retry, "a reconnection delay of 1 to 4 s")
	select {
	case ev, ok := <-events:
		assert.False(t, ok, "the stream ends after the hint: %+v", ev)
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
}

// TestShutdownEndsStreams: a stream lasts as long as its client, so
// without ending it a shutdown would wait out its timeout and fail. Serve
// ends the streams with a retry hint and returns nil.
func TestShutdownEndsStreams(t *testing.T) {
	draining := &httpapi.Draining{}
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) { d.Draining = draining })
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpapi.Serve(ctx, addr, s.handler, httpapi.ServeOptions{
			Draining: draining, ShutdownTimeout: 3 * time.Second,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	var resp *http.Response
	require.Eventually(t, func() bool {
		var err error
		resp, err = http.Get("http://" + addr + "/api/stocks/stock1/stream")
		return err == nil
	}, 5*time.Second, 10*time.Millisecond)
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	require.Equal(t, "series", next(t, events).name)

	cancel()
	assert.NotEmpty(t, next(t, events).retry, "the stream is told when to reconnect")
	select {
	case err := <-served:
		require.NoError(t, err, "the shutdown did not wait for the stream")
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// serveOn serves h with NewServer's settings on a fresh loopback port.
func serveOn(t *testing.T, h http.Handler, log *slog.Logger) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httpapi.NewServer("", h, log)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		assert.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return ln.Addr().String()
}

// TestHeadersOver32KiBAre431: a bound on headers, so that a few clients
// sending megabytes of them cannot take the memory.
func TestHeadersOver32KiBAre431(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addr := serveOn(t, f.handler, slog.New(slog.NewTextHandler(io.Discard, nil)))
	get := func(headerBytes int) int {
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/healthz", nil)
		require.NoError(t, err)
		for i := 0; headerBytes > 0; i++ {
			n := min(headerBytes, 4000)
			req.Header.Set("X-Filler-"+string(rune('a'+i)), strings.Repeat("x", n))
			headerBytes -= n
		}
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, get(28<<10), "28 KiB of headers pass")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, get(33<<10), "33 KiB of headers do not")
}

// TestTransferEncodingClosesTheConnection: on one raw connection, a
// request with Transfer-Encoding (here beside a Content-Length, the
// smuggling case) is answered with Connection: close and the connection
// ends, so that nothing sent behind it is read as another request.
func TestTransferEncodingClosesTheConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addr := serveOn(t, f.handler, slog.New(slog.NewTextHandler(io.Discard, nil)))

	send := func(request string) (*http.Response, *bufio.Reader, net.Conn) {
		conn, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { conn.Close() })
		require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
		_, err = io.WriteString(conn, request)
		require.NoError(t, err)
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return resp, r, conn
	}
	body := `{"user":"user1","stockname":"stock1","quantity":1}`
	smuggled := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	chunked := "POST /api/buy-stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
		strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n" + smuggled
	resp, r, _ := send(chunked)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.True(t, resp.Close, "Connection: close")
	_, err := r.ReadByte()
	assert.True(t, errors.Is(err, io.EOF), "the server closed the connection without answering what followed: %v", err)

	// The same request without Transfer-Encoding keeps its connection.
	plain := "POST /api/buy-stock HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	resp, r, conn := send(plain)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.False(t, resp.Close)
	_, err = io.WriteString(conn, smuggled)
	require.NoError(t, err)
	again, err := http.ReadResponse(r, nil)
	require.NoError(t, err, "a kept connection answers the next request")
	again.Body.Close()
	assert.Equal(t, http.StatusOK, again.StatusCode)
}

// TestServerErrorsAreLoggedAsJSON: net/http's own complaints (here a
// handler's second WriteHeader; in production "http: Accept error") go
// through slog like every other line, not as bare text on stderr.
func TestServerErrorsAreLoggedAsJSON(t *testing.T) {
	t.Parallel()
	var logs testenv.LogBuffer
	addr := serveOn(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.WriteHeader(http.StatusTeapot)
	}), slog.New(slog.NewJSONHandler(&logs, nil)))
	resp, err := http.Get("http://" + addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "superfluous") }, 5*time.Second, time.Millisecond)
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		assert.Regexp(t, `^\{"time":.*"level":"WARN".*\}$`, line)
	}
}

// TestStreamLimitCountsClientsBehindTrustedProxies: behind a trusted load
// balancer, the per-client stream limit counts the clients that
// X-Forwarded-For names, not the balancer; a peer that is not trusted is
// counted by its own address whatever X-Forwarded-For it sends.
func TestStreamLimitCountsClientsBehindTrustedProxies(t *testing.T) {
	_, balancers, err := net.ParseCIDR("10.1.0.0/16")
	require.NoError(t, err)
	s := newPriceServer(t, time.Hour, func(d *httpapi.Deps) {
		d.StreamLimitPerClient, d.TrustedProxies = 1, []*net.IPNet{balancers}
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	open := func(peer, forwardedFor string) {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/stocks/stock1/stream", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", forwardedFor)
		wg.Go(func() { s.handler.ServeHTTP(httptest.NewRecorder(), req) })
	}
	refused := func(peer, forwardedFor string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/stocks/stock1/stream", nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", forwardedFor)
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		assertProblem(t, rec, http.StatusTooManyRequests, "too-many-streams")
	}
	open("10.1.0.9:4000", "203.0.113.1")
	open("10.1.0.9:4001", "203.0.113.2") // another client through the same balancer
	require.Eventually(t, func() bool { return s.prices.Feed().Watchers() == 2 }, 5*time.Second, time.Millisecond,
		"two clients behind one balancer have a stream each")
	refused("10.1.0.9:4002", "203.0.113.1")
	open("198.51.100.7:4000", "203.0.113.3")
	require.Eventually(t, func() bool { return s.prices.Feed().Watchers() == 3 }, 5*time.Second, time.Millisecond)
	refused("198.51.100.7:4001", "203.0.113.4") // not a balancer: counted by its own address
}
