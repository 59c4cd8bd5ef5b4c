//go:build integration

package redis_test

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"stockd/internal/testenv"
)

// startCluster starts a throwaway Redis Cluster of three masters (no
// replicas) on free ports and returns their addresses; it is torn down when
// the test ends. It stands in until internal/testenv has a cluster starter.
func startCluster(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli is not installed; install it (Debian: apt-get install redis-tools) — the cluster tests create their own throwaway cluster")
	}
	var addrs []string
	for range 3 {
		port := freeClusterPort(t)
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := "127.0.0.1:" + strconv.Itoa(port)
		waitListening(t, addr)
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		host, port, _ := net.SplitHostPort(addr)
		for {
			info, _ := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
			if strings.Contains(string(info), "cluster_state:ok") {
				break
			}
			require.True(t, time.Now().Before(deadline), "cluster did not become ready: %s", info)
			time.Sleep(50 * time.Millisecond)
		}
	}
	return addrs
}

// freeClusterPort returns a free port whose cluster bus port (+10000) is
// free too.
func freeClusterPort(t *testing.T) int {
	t.Helper()
	for range 100 {
		p := testenv.FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("no free port pair for a cluster node")
	return 0
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "redis-server did not listen on %s", addr)
}

// clusterClient connects to the cluster with the options the service uses
// (client-side caching on, no retries).
func clusterClient(t *testing.T, addrs []string) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: addrs, DisableRetry: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}
