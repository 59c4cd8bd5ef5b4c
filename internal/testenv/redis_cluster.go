package testenv

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
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
	return startCluster(t, 0).Seeds
}

// ReplicatedCluster is a throwaway Redis Cluster of three masters, each
// with one replica: what a failover test needs.
type ReplicatedCluster struct {
	Seeds []string // every node, masters first
	nodes map[string]*exec.Cmd
}

// RedisReplicatedCluster starts three masters and three replicas
// (`--cluster-replicas 1`), and waits until the cluster is ok and every
// replica is in sync with its master.
func RedisReplicatedCluster(t testing.TB) *ReplicatedCluster {
	t.Helper()
	c := startCluster(t, 1)
	for _, addr := range c.Seeds {
		waitFor(t, 20*time.Second, "replica "+addr+" in sync", func() bool {
			info := cli(addr, "info", "replication")
			return strings.Contains(info, "role:master") || strings.Contains(info, "master_link_status:up")
		})
	}
	return c
}

func startCluster(t testing.TB, replicas int) *ReplicatedCluster {
	t.Helper()
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("testenv: %s is not installed; install it (Debian: apt-get install redis-server redis-tools) — the cluster tests start their own throwaway nodes", tool)
		}
	}
	c := &ReplicatedCluster{nodes: map[string]*exec.Cmd{}}
	for range 3 * (1 + replicas) {
		port := clusterPort(t)
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf", "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no", "--dir", dir, "--daemonize", "no", "--loglevel", "warning")
		if err := cmd.Start(); err != nil {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		t.Cleanup(func() { c.Kill(addr) })
		waitForPort(t, addr, "redis-server (cluster node)")
		c.Seeds = append(c.Seeds, addr)
		c.nodes[addr] = cmd
	}
	// redis-cli makes the first three the masters.
	args := append([]string{"--cluster", "create"}, c.Seeds...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every node must agree before the first command, or it may answer
	// CLUSTERDOWN.
	for _, addr := range c.Seeds {
		c.WaitOK(t, addr)
	}
	return c
}

// WaitOK waits until the node at addr says the cluster is ok.
func (c *ReplicatedCluster) WaitOK(t testing.TB, addr string) {
	t.Helper()
	waitFor(t, 30*time.Second, "cluster node "+addr+" ok", func() bool {
		return strings.Contains(cli(addr, "cluster", "info"), "cluster_state:ok")
	})
}

// MasterOf returns the address of the master that serves key, as the
// node at via sees the cluster.
func (c *ReplicatedCluster) MasterOf(t testing.TB, via, key string) string {
	t.Helper()
	slot, err := strconv.Atoi(strings.TrimSpace(cli(via, "cluster", "keyslot", key)))
	if err != nil {
		t.Fatalf("testenv: keyslot of %s: %v", key, err)
	}
	for _, n := range c.nodeLines(via) {
		if !strings.Contains(n.flags, "master") || strings.Contains(n.flags, "fail") {
			continue
		}
		for _, r := range n.slots {
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			if l <= slot && slot <= h {
				return n.addr
			}
		}
	}
	t.Fatalf("testenv: no master serves slot %d", slot)
	return ""
}

// ReplicaOf returns the address of master's replica.
func (c *ReplicatedCluster) ReplicaOf(t testing.TB, master string) string {
	t.Helper()
	lines := c.nodeLines(master)
	id := ""
	for _, n := range lines {
		if n.addr == master {
			id = n.id
		}
	}
	for _, n := range lines {
		if n.master == id && id != "" {
			return n.addr
		}
	}
	t.Fatalf("testenv: %s has no replica", master)
	return ""
}

// Kill SIGKILLs the node at addr: a master dies without a word.
func (c *ReplicatedCluster) Kill(addr string) {
	cmd := c.nodes[addr]
	if cmd.ProcessState == nil {
		_ = cmd.Process.Signal(syscall.SIGCONT) // a stopped node dies too
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// Restart starts the killed node at addr again, empty, with its cluster
// configuration: it rejoins as a replica of whoever took its slots.
func (c *ReplicatedCluster) Restart(t testing.TB, addr string) {
	t.Helper()
	old := c.nodes[addr]
	c.Kill(addr)
	cmd := exec.Command(old.Path, old.Args[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: restart redis-server: %v", err)
	}
	c.nodes[addr] = cmd
	waitForPort(t, addr, "redis-server (cluster node)")
}

// Stop and Continue pause a node (SIGSTOP, SIGCONT): a replica that lags.
func (c *ReplicatedCluster) Stop(addr string)     { _ = c.nodes[addr].Process.Signal(syscall.SIGSTOP) }
func (c *ReplicatedCluster) Continue(addr string) { _ = c.nodes[addr].Process.Signal(syscall.SIGCONT) }

// CutReplicas closes master's replication links. With its replica
// stopped, what the master writes next reaches no replica (what was sent
// before may still sit in the stopped replica's socket, and arrives).
func (c *ReplicatedCluster) CutReplicas(t testing.TB, master string) {
	t.Helper()
	if out := cli(master, "client", "kill", "type", "replica"); strings.TrimSpace(out) == "" {
		t.Fatalf("testenv: client kill type replica on %s failed", master)
	}
}

// WaitPromoted waits until replica says it is a master and the cluster is
// ok again.
func (c *ReplicatedCluster) WaitPromoted(t testing.TB, replica string) {
	t.Helper()
	waitFor(t, 60*time.Second, replica+" promoted", func() bool {
		return strings.Contains(cli(replica, "info", "replication"), "role:master")
	})
	c.WaitOK(t, replica)
}

type nodeLine struct {
	id, addr, flags, master string
	slots                   []string
}

// nodeLines parses CLUSTER NODES as the node at via sees it.
func (c *ReplicatedCluster) nodeLines(via string) []nodeLine {
	var out []nodeLine
	for _, l := range strings.Split(cli(via, "cluster", "nodes"), "\n") {
		f := strings.Fields(l)
		if len(f) < 8 {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		out = append(out, nodeLine{id: f[0], addr: addr, flags: f[2], master: f[3], slots: f[8:]})
	}
	return out
}

// cli runs redis-cli against addr and returns its output ("" on error).
func cli(addr string, args ...string) string {
	host, port, _ := strings.Cut(addr, ":")
	out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
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
