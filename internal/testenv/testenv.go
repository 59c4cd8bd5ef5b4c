// Package testenv gives integration tests their own servers, so that no
// test ever touches a user's data: a throwaway redis-server on a free port,
// a uniquely named PostgreSQL database dropped after the run, and a TCP
// proxy that can cut a connection to simulate an outage. A missing server
// fails the test with the command that starts it; nothing is skipped.
package testenv

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RedisServer is a redis-server process of one test.
type RedisServer struct {
	Addr string
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartRedis starts a redis-server on a free port, with nothing saved to
// disk, and stops it when the test ends.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("testenv: redis-server is not installed; install it (Debian: apt-get install redis-server) — the integration tests start their own throwaway instance")
	}
	s := &RedisServer{port: FreePort(t), dir: t.TempDir()}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.port)
	s.start(t)
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *RedisServer) start(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("testenv: start redis-server: %v", err)
	}
	waitForPort(t, s.Addr, "redis-server")
}

// Stop kills the server: the outage of a test.
func (s *RedisServer) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Restart starts the server again on the same port, empty.
func (s *RedisServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.start(t)
}

func waitForPort(t testing.TB, addr, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s did not listen on %s: %v", what, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// UniqueName returns prefix followed by random hex, for databases and keys.
func UniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Proxy forwards TCP connections to a target and can cut them all, which
// is how the tests take a server away without stopping it for anyone else.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	held   bool       // bytes towards the target wait (Hold)
	parked int        // chunks waiting for the hold to end
	resume *sync.Cond // on mu: broadcast when held ends
	conns  map[net.Conn]struct{}
}

// StartProxy listens on a free port and forwards to target.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: proxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.resume = sync.NewCond(&p.mu)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.Hold(false); p.SetDown(true) })
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		if !down {
			p.conns[c] = struct{}{}
		}
		p.mu.Unlock()
		if down {
			c.Close() // refused, as by a server that is gone
			continue
		}
		go p.pipe(c)
	}
}

func (p *Proxy) pipe(c net.Conn) {
	u, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[u] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		buf := bufio.NewReader(src)
		_, _ = buf.WriteTo(dst)
		done <- struct{}{}
	}
	go func() { p.forward(u, c); done <- struct{}{} }()
	go cp(c, u)
	<-done
	c.Close()
	u.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// forward copies what the client sends to the target, holding each chunk
// while the proxy is held.
func (p *Proxy) forward(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if p.held {
				p.parked++
				for p.held {
					p.resume.Wait()
				}
				p.parked--
			}
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Hold stalls every connection towards the target without cutting it
// (held), as a client stopped by SIGSTOP or a stalled network would: what
// clients send meanwhile is kept and delivered, in order, once the hold
// ends. Answers already on their way still arrive.
func (p *Proxy) Hold(held bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held = held
	if !held {
		p.resume.Broadcast()
	}
}

// Parked is how many sends wait for the hold to end: a test holds the
// proxy, starts a request, and waits until it is parked here.
func (p *Proxy) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.parked
}

// SetDown cuts every connection and refuses new ones (down) or lets them
// through again (up).
func (p *Proxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

// Getenv returns the variable or the fallback.
func Getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// FreeAddr is FreePort as a loopback address, host:port.
func FreeAddr(t testing.TB) string {
	return "127.0.0.1:" + strconv.Itoa(FreePort(t))
}
