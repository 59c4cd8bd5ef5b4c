package http_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "stockd/adapters/http"
	"stockd/internal/testenv"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeDrains: on cancel, /readyz turns 503 at once while the server
// keeps answering for the drain delay; a request in flight when the
// listener closes is answered; then Serve returns nil.
func TestServeDrains(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	base := "http://" + addr
	draining := &httpapi.Draining{}
	ops := httpapi.NewOpsHandler([]httpapi.Check{draining.Check()}, prometheus.NewRegistry(), quietLog)
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("/", ops)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "done")
	})

	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpapi.Serve(ctx, addr, mux, httpapi.ServeOptions{Draining: draining, DrainDelay: 2 * time.Second, Logger: quietLog})
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "ready before the shutdown")

	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		slow <- string(b)
	}()
	<-entered

	cancel()
	require.Eventually(t, func() bool { return status(t, base+"/readyz") == http.StatusServiceUnavailable },
		time.Second, 5*time.Millisecond, "readiness turns off first")
	assert.Equal(t, http.StatusOK, status(t, base+"/healthz"), "and the server still serves")

	close(release)
	assert.Equal(t, "done", <-slow, "the request in flight is answered")
	require.NoError(t, <-served, "a clean drain")
	_, err := net.Dial("tcp", addr)
	assert.Error(t, err, "the listener is closed")
}

func TestServeWithoutDelayStopsAtOnce(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, httpapi.Serve(ctx, addr, http.NotFoundHandler(), httpapi.ServeOptions{Logger: quietLog}))
}

func TestServeReportsAListenerThatCannotStart(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = httpapi.Serve(t.Context(), ln.Addr().String(), http.NotFoundHandler(), httpapi.ServeOptions{Logger: quietLog})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "address already in use")
}

// TestDebugHandlerServesPprof: the profiles are on the debug mux. That the
// API has none is checked where the API is assembled (cmd/stockd).
func TestDebugHandlerServesPprof(t *testing.T) {
	t.Parallel()
	addr := testenv.FreeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpapi.Serve(ctx, addr, httpapi.DebugHandler(), httpapi.ServeOptions{Logger: quietLog})
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && len(b) > 0
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-served)
}
