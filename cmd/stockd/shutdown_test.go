package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"stockd/internal/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary the tests built, and fails the package when
// a run of stockd left a goroutine behind: every goroutine the root starts
// has an owner that waits for it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if binPath != "" {
			_ = os.RemoveAll(filepath.Dir(binPath))
		}
		os.Exit(code)
	}))
}

// testVersion is the version the test binary is built with, the way `make
// build` sets the one of git describe.
const testVersion = "v0.0.0-test"

// buildBinary builds the stockd binary once per test run.
func buildBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "stockd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "stockd")
		out, err := exec.Command("go", "build", "-ldflags=-X main.version="+testVersion, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// TestBadConfigurationExitsOneWithOneLine checks the process, not run: exit
// code 1 and a single line on stderr naming the variable.
func TestBadConfigurationExitsOneWithOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"PRICE_STORE=mongo"}, nil, "PRICE_STORE"},
		{[]string{"PRICE_CSV=/nonexistent.csv", "HTTP_ADDR=127.0.0.1:0"}, nil, "/nonexistent.csv"},
		{nil, []string{"update"}, "PRICE_STORE"},
		{nil, []string{"seed-users"}, "PRICE_STORE"},
		{nil, []string{"token", "user1"}, "PRICE_STORE"},
		{nil, []string{"reconcile"}, "PRICE_STORE"},
		{nil, []string{"reconcile", "--fix"}, "stockd reconcile [--repair]"},
		{[]string{"REDIS_ADDR=127.0.0.1:1", "PRICE_STORE=redis"}, []string{"seed-users"}, "redis"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), tc.env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, tc.env)
		assert.Equal(t, 1, ee.ExitCode(), tc.env)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		assert.Len(t, lines, 1, "one line: %q", stderr.String())
		assert.Contains(t, lines[len(lines)-1], tc.want)
	}
}

func TestVersionIsSetAtBuildTime(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		require.NoError(t, err, arg)
		assert.True(t, strings.HasPrefix(string(out), "stockd "+testVersion+" (go"), "%s: %q", arg, out)
	}
}

// TestSIGTERMDrainsInFlightRequests runs the real binary under load and
// sends it SIGTERM: every request the server handled (its access log says
// 201) reached its client whole, and the process exits 0. Connections the
// kernel queued but the server never accepted are reset when the listener
// closes; those requests were never read and changed nothing.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)

	addr := testenv.FreeAddr(t)
	csvPath := writeCSV(t, "Time,Stock,Price\n90006,stock1,1\n")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "HTTP_ADDR="+addr, "PRICE_CSV="+csvPath, "SEED_USERS=user1:1000000000", "LOG_LEVEL=info")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	base := "http://" + addr
	waitHealthy(t, base, 10*time.Second)

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	var ok, refused atomic.Int64
	var mu sync.Mutex
	var broken, cut []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(base+"/api/buy-stock", "application/json",
					strings.NewReader(`{"user":"user1","stockname":"stock1","quantity":1}`))
				if err != nil {
					if strings.Contains(err.Error(), "connection refused") {
						refused.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					cut = append(cut, err.Error())
					mu.Unlock()
					continue
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"result":"Accept"`) {
					mu.Lock()
					broken = append(broken, fmt.Sprintf("%d %q %v", resp.StatusCode, body, err))
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		})
	}
	require.Eventually(t, func() bool { return ok.Load() > 200 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	// Readiness turns off first, while the server still answers (for
	// SHUTDOWN_DELAY, 5 s by default), so that a load balancer can stop
	// sending work before the listener closes.
	require.Eventually(t, func() bool {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 5*time.Second, 10*time.Millisecond, "/readyz is 503 during the drain")
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	var exitErr error
	select {
	case exitErr = <-waitErr:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("stockd did not exit after SIGTERM")
	}
	require.Eventually(t, func() bool { return refused.Load() > 0 }, 5*time.Second, 10*time.Millisecond)
	close(stop)
	wg.Wait()

	var ee *exec.ExitError
	if errors.As(exitErr, &ee) {
		t.Fatalf("exit code %d; stderr: %s", ee.ExitCode(), stderr.String())
	}
	require.NoError(t, exitErr)
	assert.Empty(t, broken, "requests answered with an error during the shutdown")
	for _, c := range cut {
		assert.Regexp(t, `EOF|connection reset`, c, "only never-accepted connections may fail")
	}
	handled := int64(0)
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && strings.Contains(line, `"status":201`) {
			handled++
		}
	}
	assert.Equal(t, handled, ok.Load(), "every handled request's answer reached its client")
	assert.Positive(t, ok.Load())
}
