package testenv

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisCluster starts a throwaway Redis Cluster of three masters (no
// replicas) on free loopback ports whose cluster bus ports (port+10000)
// are free too, waits until the cluster says ok, and tears it down when
// the test ends. It returns the seed addresses, for redis.Open and
// REDIS_ADDR (joined with commas).
func RedisCluster(t testing.TB) []string {
	t.Helper()
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("testenv: %s is not installed; install it (Debian: apt-get install redis-server redis-tools) — the cluster tests start their own throwaway nodes", tool)
		}
	}
	var seeds []string
	for range 3 {
		port := clusterPort(t)
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := "127.0.0.1:" + strconv.Itoa(port)
		waitForPort(t, addr, "redis-server (cluster node)")
		seeds = append(seeds, addr)
	}
	args := append([]string{"--cluster", "create"}, seeds...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every node must agree before the first command, or it may answer
	// CLUSTERDOWN.
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range seeds {
		host, port, _ := strings.Cut(addr, ":")
		for {
			out, err := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testenv: cluster node %s is not ok: %v\n%s", addr, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return seeds
}

// clusterPort returns a free port whose bus port (port+10000) is free too.
func clusterPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		p := FreePort(t)
		if p+10000 > 65535 {
			continue
		}
		if portFree(p + 10000) {
			return p
		}
	}
	t.Fatal("testenv: no free port with a free cluster bus port")
	return 0
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}
