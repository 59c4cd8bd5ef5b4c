//go:build integration

package redis

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/internal/testenv"
	"stockd/ports"
)

// server starts a redis-server with extra arguments on a free port.
func server(t *testing.T, args ...string) string {
	t.Helper()
	port := testenv.FreePort(t)
	dir := t.TempDir()
	args = append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--loglevel", "warning"}, args...)
	cmd := exec.Command("redis-server", args...)
	require.NoError(t, cmd.Start(), "redis-server must be installed (Debian: apt-get install redis-server)")
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	require.Eventually(t, func() bool {
		out, err := exec.Command("redis-cli", "-p", strconv.Itoa(port), "ping").CombinedOutput()
		return err == nil && len(out) > 0
	}, 10*time.Second, 20*time.Millisecond)
	return addr
}

// single is a plain client of one node, whatever it is.
func single(t *testing.T, addr string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableRetry: true, DisableCache: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// TestNotReadyRepliesAreOutages: real replies of servers that answer but
// cannot serve are ErrUnavailable (503), not store errors (500).
func TestNotReadyRepliesAreOutages(t *testing.T) {
	ctx := t.Context()
	outage := func(t *testing.T, err error, word string) {
		t.Helper()
		require.Error(t, err)
		re, ok := rueidis.IsRedisErr(err)
		require.True(t, ok, "a reply of the server: %v", err)
		assert.Contains(t, re.Error(), word)
		assert.ErrorIs(t, translate(err), ports.ErrUnavailable, "%v", err)
	}

	t.Run("READONLY from a replica", func(t *testing.T) {
		master := server(t)
		host, port := splitAddr(master)
		replica := single(t, server(t, "--replicaof", host, port))
		outage(t, replica.Do(ctx, replica.B().Set().Key("k").Value("v").Build()).Error(), "READONLY")
	})

	t.Run("MASTERDOWN from a replica that will not serve stale data", func(t *testing.T) {
		replica := single(t, server(t, "--replicaof", "127.0.0.1", strconv.Itoa(testenv.FreePort(t)), "--replica-serve-stale-data", "no"))
		outage(t, replica.Do(ctx, replica.B().Get().Key("k").Build()).Error(), "MASTERDOWN")
	})

	t.Run("CLUSTERDOWN from a node that serves no slot", func(t *testing.T) {
		dir := t.TempDir()
		node := single(t, server(t, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf"))
		outage(t, node.Do(ctx, node.B().Get().Key("k").Build()).Error(), "CLUSTERDOWN")
	})

	t.Run("BUSY while a script runs too long", func(t *testing.T) {
		addr := server(t, "--busy-reply-threshold", "20")
		busy, c := single(t, addr), single(t, addr)
		done := make(chan error, 1)
		go func() {
			done <- busy.Do(context.WithoutCancel(ctx), busy.B().Eval().Script("while true do end").Numkeys(0).Build()).Error()
		}()
		var err error
		require.Eventually(t, func() bool {
			err = c.Do(ctx, c.B().Get().Key("k").Build()).Error()
			return err != nil && !rueidis.IsRedisNil(err)
		}, 10*time.Second, 10*time.Millisecond)
		outage(t, err, "BUSY")
		require.NoError(t, c.Do(ctx, c.B().ScriptKill().Build()).Error())
		require.Error(t, <-done, "the killed script fails")
	})

	t.Run("LOADING while the data set loads", func(t *testing.T) {
		dir := t.TempDir()
		port := strconv.Itoa(testenv.FreePort(t))
		args := []string{"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--loglevel", "warning"}
		first := exec.Command("redis-server", args...)
		require.NoError(t, first.Start())
		addr := "127.0.0.1:" + port
		require.Eventually(t, func() bool { return exec.Command("redis-cli", "-p", port, "ping").Run() == nil }, 10*time.Second, 20*time.Millisecond)
		out, err := exec.Command("redis-cli", "-p", port, "debug", "populate", "100000").CombinedOutput()
		require.NoError(t, err, "%s", out)
		out, err = exec.Command("redis-cli", "-p", port, "save").CombinedOutput()
		require.NoError(t, err, "%s", out)
		_ = first.Process.Kill()
		_ = first.Wait()

		// Restart on the saved data set, loading each key slowly.
		second := exec.Command("redis-server", append(args, "--key-load-delay", "100", "--loading-process-events-interval-bytes", "1024")...)
		require.NoError(t, second.Start())
		t.Cleanup(func() { _ = second.Process.Kill(); _ = second.Wait() })
		var loadErr error
		require.Eventually(t, func() bool {
			c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, ForceSingleClient: true, DisableRetry: true, DisableCache: true})
			if c == nil {
				return false
			}
			defer c.Close()
			if err != nil && !errors.Is(translate(err), ports.ErrUnavailable) {
				return false
			}
			loadErr = c.Do(ctx, c.B().Get().Key("k").Build()).Error()
			_, isReply := rueidis.IsRedisErr(loadErr)
			return isReply
		}, 10*time.Second, 10*time.Millisecond)
		outage(t, loadErr, "LOADING")
	})
}

func splitAddr(addr string) (string, string) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}
