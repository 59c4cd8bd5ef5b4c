package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// ErrShuttingDown is what readiness says while the server drains: the
// process still answers, but a load balancer should send no new work.
var ErrShuttingDown = errors.New("shutting down")

// Draining turns readiness off once a shutdown has begun, and ends the
// server's streams once it stops accepting connections. Its Check goes into
// the readiness checks of the server it drains, and the same value goes into
// the Deps of the handler whose streams it ends.
type Draining struct {
	on atomic.Bool

	once       sync.Once
	streams    context.Context // ends when the streams must end
	endStreams context.CancelCauseFunc
}

// errServerStopping is why a stream is ended by a shutdown.
var errServerStopping = errors.New("the server is shutting down")

// streamsContext is the context the streams watch: it ends when Serve stops
// accepting connections.
func (d *Draining) streamsContext() context.Context {
	d.once.Do(func() { d.streams, d.endStreams = context.WithCancelCause(context.Background()) })
	return d.streams
}

// stopStreams ends every stream, each with a reconnection hint: a stream
// lasts as long as its client, so without this a single open stream would
// hold the shutdown until its deadline, and the process would exit 1.
func (d *Draining) stopStreams() {
	d.streamsContext()
	d.endStreams(errServerStopping)
}

// Check is the readiness check that fails from the start of a shutdown.
func (d *Draining) Check() Check {
	return Check{Name: "shutdown", Ping: func(context.Context) error {
		if d.on.Load() {
			return ErrShuttingDown
		}
		return nil
	}}
}

// ServeOptions says how Serve stops.
type ServeOptions struct {
	// Draining, when not nil, is switched on as soon as ctx ends, so that
	// /readyz answers 503 while the server still serves.
	Draining *Draining
	// DrainDelay is how long the server keeps accepting requests after ctx
	// ends, for a load balancer to see /readyz fail and take the process
	// out of rotation. 0 stops accepting at once.
	DrainDelay time.Duration
	// ShutdownTimeout bounds the wait for in-flight requests after the
	// listener closes; 0 is 25 s, inside the usual 30 s grace of an
	// orchestrator.
	ShutdownTimeout time.Duration
	Logger          *slog.Logger
}

// Serve serves handler on addr, with the timeouts of NewServer, until ctx
// ends; then it turns readiness off, keeps serving for DrainDelay, stops
// accepting, and waits for in-flight requests. It returns nil after a
// clean drain, and the error of a listener that cannot start or stops.
func Serve(ctx context.Context, addr string, handler http.Handler, opts ServeOptions) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 25 * time.Second
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := NewServer(addr, handler, log)
	log.Info("serving", "addr", ln.Addr().String())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	if opts.Draining != nil {
		opts.Draining.on.Store(true)
	}
	if opts.DrainDelay > 0 {
		log.Info("shutting down: readiness is off, still serving", "addr", ln.Addr().String(),
			"drain_ms", float64(opts.DrainDelay)/float64(time.Millisecond))
		select {
		case err := <-served:
			return err
		case <-time.After(opts.DrainDelay):
		}
	}
	log.Info("shutting down: draining in-flight requests", "addr", ln.Addr().String())
	if opts.Draining != nil {
		// Streams are ended now, not when readiness turns off: a client
		// told to reconnect during the delay would come back here, while
		// the load balancer still sends it to this process.
		opts.Draining.stopStreams()
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	// Shutdown has closed the listener, so Serve has returned or is about to.
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	return nil
}

// DebugHandler serves net/http/pprof under /debug/pprof/ on a mux of its
// own: it belongs on an opt-in listener (DEBUG_ADDR), never on the API's,
// where it would show anyone the service's insides and cost CPU on demand.
func DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Probe asks the server on addr for /healthz and returns nil on 200: the
// image's health check, which has no shell or curl to do it. A wildcard
// host (":8080", "0.0.0.0:8080") is asked on the loopback.
func Probe(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", resp.Status)
	}
	return nil
}
