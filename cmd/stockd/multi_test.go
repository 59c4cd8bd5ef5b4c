//go:build multi

package main

// The multi-process test (make test-multi): two `stockd serve` and two
// `stockd update` behind a real nginx, on one throwaway Redis, one unique
// PostgreSQL database and an in-process kfake cluster, behave as one
// service. See docs/several-processes.md.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"stockd/adapters/redis"
	"stockd/internal/testenv"
)

const (
	multiStocks    = "stock1,stock2,stock3,stock4"
	multiParts     = 4 // one stock a partition, so that both updaters get work
	multiRateLimit = 100
	multiCredit    = 40000 // about 90 buys: the load ends in denials
)

// proc is a stockd child process.
type proc struct {
	cmd    *exec.Cmd
	addr   string // its HTTP address (API or updater operations)
	exited chan struct{}
	err    error // how it exited, once exited is closed
}

// wait waits for the process to exit and returns how it did.
func (p *proc) wait() error {
	<-p.exited
	return p.err
}

func startProc(t *testing.T, bin string, env []string, addr string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, addr: addr, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = p.wait()
	})
	waitHealthy(t, "http://"+addr, 20*time.Second)
	return p
}

// startNginx runs nginx in the foreground with everything it writes in a
// temp dir, balancing over upstreams, and returns its address.
func startNginx(t *testing.T, upstreams ...string) string {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Fatal("nginx is not installed; install it (Debian: apt-get install nginx); .ci/run does")
	}
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	var servers strings.Builder
	for _, u := range upstreams {
		fmt.Fprintf(&servers, "    server %s max_fails=1 fail_timeout=1s;\n", u)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers must reach the temp dir
	}
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  upstream stockd {
%[3]s    keepalive 16;
  }
  server {
    listen %[4]s;
    location / {
      proxy_pass http://stockd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 1h;
    }
  }
}
`, user, dir, servers.String(), addr)
	path := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
	cmd := exec.Command("nginx", "-c", path, "-p", dir, "-g", "daemon off;")
	cmd.Stderr = os.Stderr
	// A group of its own: the master's workers go with it. Killing the
	// master alone left each worker running, orphaned, after the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(-cmd.Process.Pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Errorf("nginx's process group %d still runs after the test", cmd.Process.Pid)
				return
			}
			time.Sleep(10 * time.Millisecond) // polling the kernel, with a deadline
		}
	})
	waitHealthy(t, "http://"+addr, 10*time.Second)
	return addr
}

// tick is one produced record.
type tick struct {
	stock string
	at    int // seconds of the day
	price int64
}

func (k tick) hhmmss() string { return fmt.Sprintf("%02d%02d%02d", k.at/3600, k.at/60%60, k.at%60) }

func TestTwoByTwoBehindNginx(t *testing.T) {
	bin := buildBinary(t)
	rs := testenv.StartRedis(t)
	dbURL := testenv.Postgres(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(multiParts, "main_topic", "main_topic.dlq"))
	require.NoError(t, err)
	t.Cleanup(kc.Close)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	stocks := strings.Split(multiStocks, ",")
	users := []string{"u1", "u2", "u3", "burst"}
	var seed []string
	for _, u := range users {
		seed = append(seed, u+":"+strconv.Itoa(multiCredit))
	}
	env := append(os.Environ(), "PRICE_STORE=redis", "ORDER_STORE=postgres", "REDIS_ADDR="+rs.Addr,
		"DATABASE_URL="+dbURL, "KAFKA_BROKERS="+brokers, "KAFKA_TOPIC=main_topic", "KAFKA_GROUP=multi",
		"PRICE_SOURCE=kafka", "STOCKS="+multiStocks, "SEED_USERS="+strings.Join(seed, ","),
		"AUTH=tokens", "RATE_LIMIT="+strconv.Itoa(multiRateLimit), "LOG_LEVEL=warn", "SHUTDOWN_DELAY=0")
	oneShot := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		require.NoError(t, err, "stockd %v", args)
		return strings.TrimSpace(string(out))
	}
	oneShot("seed-users")
	tokens := map[string]string{}
	for _, u := range users {
		tokens[u] = oneShot("token", u)
	}

	rdb, err := redis.Open([]string{rs.Addr})
	require.NoError(t, err)
	t.Cleanup(rdb.Close)

	// Two API processes and two updaters in one group, nginx in front.
	serveEnv := func(addr string) []string { return append(env, "HTTP_ADDR="+addr) }
	apiA, apiB := testenv.FreeAddr(t), testenv.FreeAddr(t)
	serveA := startProc(t, bin, serveEnv(apiA), apiA, "serve")
	serveB := startProc(t, bin, serveEnv(apiB), apiB, "serve")
	updater := func() *proc {
		ops := testenv.FreeAddr(t)
		return startProc(t, bin, append(env, "UPDATER_ADDR="+ops), ops, "update")
	}
	upd1, upd2 := updater(), updater()
	lb := "http://" + startNginx(t, apiA, apiB)

	// Ticks: stock i on partition i, minute by minute.
	producer, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	require.NoError(t, err)
	t.Cleanup(producer.Close)
	var produced []tick
	produce := func(from, to int) {
		var recs []*kgo.Record
		for at := from; at < to; at += 7 {
			for i, s := range stocks {
				k := tick{stock: s, at: at, price: int64(100 + (at*7+i*13)%97)}
				produced = append(produced, k)
				v, _ := json.Marshal(map[string]any{"stock": s, "time": k.hhmmss(), "price": k.price})
				recs = append(recs, &kgo.Record{Topic: "main_topic", Key: []byte(s), Value: v, Partition: int32(i)})
			}
		}
		require.NoError(t, producer.ProduceSync(t.Context(), recs...).FirstErr())
	}
	// A stream on process A for every stock, from the start.
	streams := map[string]*minuteStream{}
	for _, s := range stocks {
		streams[s] = openStream(t, "http://"+apiA, tokens["u1"], s)
	}
	// Ticks a minute at a time until both updaters have applied some: the
	// group gives the second one its partitions once it has joined.
	next := 9 * 3600
	require.Eventually(t, func() bool {
		produce(next, next+60)
		next += 60
		return ticksApplied(t, upd1.addr) > 0 && ticksApplied(t, upd2.addr) > 0
	}, 60*time.Second, 50*time.Millisecond, "both updaters apply ticks")

	client := &http.Client{Timeout: 10 * time.Second}
	// Keep-alive connections are goroutines too (goleak in TestMain).
	t.Cleanup(func() { client.CloseIdleConnections(); http.DefaultClient.CloseIdleConnections() })
	call := func(method, base, path, token, key, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}

	// get is a GET that waits out the rate limit (the load has used the
	// users' budgets) and a process that is not there.
	get := func(base, path, token string) []byte {
		t.Helper()
		var body []byte
		require.Eventually(t, func() bool {
			code, b, err := call("GET", base, path, token, "", "")
			if err == nil && code != http.StatusTooManyRequests && code < 500 {
				require.Equal(t, http.StatusOK, code, "%s", b)
				body = b
				return true
			}
			return false
		}, 30*time.Second, 20*time.Millisecond, "GET %s", path)
		return body
	}

	t.Run("the rate limit is shared", func(t *testing.T) {
		const burst = 5 * multiRateLimit / 2 // more than two processes would let through
		var passed atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range burst {
			wg.Go(func() {
				code, _, err := call("GET", lb, "/api/stocks/stock1/prices", tokens["burst"], "", "")
				if err == nil && code == http.StatusOK {
					passed.Add(1)
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		// GCRA: a burst of the limit, then the limit per second. Per
		// process it would have been twice the burst.
		most := int64(multiRateLimit) + int64(elapsed.Seconds()*multiRateLimit) + 1
		t.Logf("%d of %d passed in %v through two processes (at most %d)", passed.Load(), burst, elapsed, most)
		assert.LessOrEqual(t, passed.Load(), most)
		assert.Positive(t, passed.Load())
	})

	// Buys and sales under load through the balancer, each with its key,
	// retried until answered and replayed once; meanwhile an API process
	// is killed and an updater stopped during a rebalance.
	type outcome struct {
		user     string
		id       float64
		accepted bool
	}
	var mu sync.Mutex
	outcomes := map[string]outcome{} // idempotency key -> the order answered
	var answered atomic.Int64
	retried := map[string]int{} // why a request was sent again: its status or error
	trade := func(path, user, key, body string) {
		var first map[string]any
		deadline := time.Now().Add(120 * time.Second)
		for replays := 0; replays < 2; {
			// assert, not require: this runs on a load goroutine.
			if !assert.True(t, time.Now().Before(deadline), "key %s never answered", key) {
				return
			}
			code, b, err := call("POST", lb, path, tokens[user], key, body)
			if err != nil || code == http.StatusTooManyRequests || code == http.StatusConflict || code >= 500 {
				why := strconv.Itoa(code)
				if err != nil {
					why = "connection error"
				}
				mu.Lock()
				retried[why]++
				mu.Unlock()
				<-time.After(20 * time.Millisecond) // back off, then retry the same key and body
				continue
			}
			var got map[string]any
			if !assert.Equal(t, http.StatusCreated, code, "%s", b) || !assert.NoError(t, json.Unmarshal(b, &got)) {
				return
			}
			if first == nil {
				first = got
			} else {
				assert.Equal(t, first["order"], got["order"], "a replay answers the first order")
			}
			replays++
		}
		mu.Lock()
		order := first["order"].(map[string]any)
		outcomes[key] = outcome{user: user, id: order["id"].(float64), accepted: order["status"] == "accepted"}
		mu.Unlock()
		answered.Add(1)
	}
	stop := make(chan struct{})
	var load sync.WaitGroup
	for _, u := range users[:3] {
		for w := range 4 {
			load.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("%s-%d-%d", u, w, n)
					// Mixed: every third a sale of what the buys before it
					// may have bought (some denied: not enough held).
					path, qty := "/api/buy-stock", 1+n%5
					if n%3 == 2 {
						path, qty = "/api/sell-stock", 1+n%4
					}
					body := fmt.Sprintf(`{"user":%q,"stockname":%q,"quantity":%d}`, u, stocks[n%len(stocks)], qty)
					trade(path, u, key, body)
				}
			})
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		require.Eventually(t, cond, 60*time.Second, 20*time.Millisecond, what)
	}
	waitFor("the first buys", func() bool { return answered.Load() >= 200 })
	require.NoError(t, serveB.cmd.Process.Signal(syscall.SIGKILL))
	_ = serveB.wait()
	t.Log("API process B killed after", answered.Load(), "answered buys")

	// A third updater joins; while the group rebalances, updater 2 is
	// told to stop. Ticks keep coming.
	upd3 := updater()
	require.NoError(t, upd2.cmd.Process.Signal(syscall.SIGTERM))
	produce(next, next+180)
	require.NoError(t, upd2.wait(), "an updater stopped by SIGTERM commits and exits 0")
	waitFor("more buys through the one API process left", func() bool { return answered.Load() >= 400 })
	close(stop)
	load.Wait()
	t.Logf("%d keys answered; requests sent again: %v", answered.Load(), retried)

	// B comes back on its address; the balancer uses it again.
	startProc(t, bin, serveEnv(apiB), apiB, "serve")

	t.Run("every tick applied once", func(t *testing.T) {
		want := expectedSeries(t, bin, produced)
		waitFor("the stored series equal those of the produced ticks", func() bool {
			for _, s := range stocks {
				if v, _ := rdb.Do(t.Context(), rdb.B().Get().Key(s).Build()).ToString(); v != want[s] {
					return false
				}
			}
			return true
		})
		assert.Positive(t, ticksApplied(t, upd1.addr)+ticksApplied(t, upd3.addr), "the group went on without updater 2")
	})

	t.Run("a stream on one process sees the ticks of every updater", func(t *testing.T) {
		for _, s := range stocks {
			var series struct {
				Time  []string `json:"time"`
				Price []int64  `json:"price"`
			}
			require.NoError(t, json.Unmarshal(get(lb, "/api/stocks/"+s+"/prices", tokens["u1"]), &series))
			last := len(series.Time) - 1
			streams[s].waitFor(t, series.Time[last], series.Price[last])
		}
	})

	t.Run("money reconciles per user and every key is one order", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), dbURL)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		for _, u := range users[:3] {
			// Orders B debited but did not record are settled by A.
			waitFor("pending orders of "+u+" settled", func() bool {
				n, err := rdb.Do(t.Context(), rdb.B().Hlen().Key("stockd:pending:{"+u+"}").Build()).AsInt64()
				return err == nil && n == 0
			})
			var spent, rows, sold int64
			require.NoError(t, conn.QueryRow(t.Context(),
				`SELECT coalesce(sum(price*quantity) FILTER (WHERE status = 'accepted' AND side = 'buy'), 0),
				        coalesce(sum(price*quantity) FILTER (WHERE status = 'accepted' AND side = 'sell'), 0), count(*)
				 FROM orders WHERE "user" = $1`, u).Scan(&spent, &sold, &rows))
			assert.Positive(t, sold, "%s: some sales were accepted", u)
			assert.Equal(t, int64(multiCredit), creditOf(t, rdb, u)+spent-sold, "%s: credit + bought - sold = seed", u)
			// Every quantity held is the accepted buys less the accepted
			// sales of its stock, and never below zero.
			ledger, held := ledgerOf(t, dbURL, u), heldIn(t, rdb, u)
			assert.Equal(t, ledger, held, "%s: quantities held = accepted buys - accepted sales", u)
			keys := 0
			for _, o := range outcomes {
				if o.user == u {
					keys++
				}
			}
			assert.Equal(t, int64(keys), rows, "%s: one order per idempotency key", u)
		}
	})

	t.Run("paging through either process", func(t *testing.T) {
		for _, u := range users[:3] {
			// The listing shows accepted orders, and denied ones of 10
			// shares or more: the load asks 1 to 5.
			want := map[float64]bool{}
			denied := 0
			for _, o := range outcomes {
				if o.user == u && o.accepted {
					want[o.id] = true
				}
				if o.user == u && !o.accepted {
					denied++
				}
			}
			require.Positive(t, denied, "%s: the credit ran out during the load", u)
			got := map[float64]bool{}
			cursor := ""
			for page := 0; ; page++ {
				base := []string{"http://" + apiA, "http://" + apiB}[page%2]
				path := "/api/orders?limit=7"
				if cursor != "" {
					path += "&cursor=" + cursor
				}
				b := get(base, path, tokens[u])
				var p struct {
					Results []struct {
						ID float64 `json:"id"`
					} `json:"results"`
					Next *string `json:"next"`
				}
				require.NoError(t, json.Unmarshal(b, &p))
				for _, r := range p.Results {
					assert.False(t, got[r.ID], "order %v listed twice", r.ID)
					got[r.ID] = true
				}
				if p.Next == nil {
					break
				}
				cursor = *p.Next
			}
			assert.Equal(t, want, got, "%s: every order once", u)
		}
	})
	_ = serveA
}

func creditOf(t *testing.T, rdb rueidis.Client, user string) int64 {
	t.Helper()
	var rec struct {
		Credit int64 `json:"credit"`
	}
	v, err := rdb.Do(t.Context(), rdb.B().Get().Key(user).Build()).ToString()
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(v), &rec))
	return rec.Credit
}

// expectedSeries is what the produced ticks make, computed apart: the
// same ticks as a CSV file, applied by `stockd update` to a Redis of
// their own.
func expectedSeries(t *testing.T, bin string, ticks []tick) map[string]string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("Time,Stock,Price\n")
	for _, k := range ticks {
		fmt.Fprintf(&csv, "%s,%s,%d\n", k.hhmmss(), k.stock, k.price)
	}
	rs := testenv.StartRedis(t)
	cmd := exec.Command(bin, "update")
	cmd.Env = append(os.Environ(), "PRICE_STORE=redis", "REDIS_ADDR="+rs.Addr, "PRICE_SOURCE=csv",
		"PRICE_CSV="+writeCSV(t, csv.String()), "STOCKS="+multiStocks, "LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	c, err := redis.Open([]string{rs.Addr})
	require.NoError(t, err)
	defer c.Close()
	want := map[string]string{}
	for _, s := range strings.Split(multiStocks, ",") {
		want[s], err = c.Do(t.Context(), c.B().Get().Key(s).Build()).ToString()
		require.NoError(t, err)
	}
	return want
}

func ticksApplied(t *testing.T, ops string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + ops + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "stockd_ticks_applied_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatal("no stockd_ticks_applied_total")
	return 0
}

// minuteStream holds the minute events of one stream, as they come.
type minuteStream struct {
	mu      sync.Mutex
	minutes map[string]int64 // time -> the latest price announced
}

func openStream(t *testing.T, base, token, stock string) *minuteStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/stocks/"+stock+"/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	s := &minuteStream{minutes: map[string]int64{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if e, ok := strings.CutPrefix(line, "event: "); ok {
				event = e
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok && event == "minute" {
				var m struct {
					Time  string `json:"time"`
					Price int64  `json:"price"`
				}
				if json.Unmarshal([]byte(d), &m) == nil {
					s.mu.Lock()
					s.minutes[m.Time] = m.Price
					s.mu.Unlock()
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close(); <-done })
	return s
}

// waitFor waits until the stream announced minute at price.
func (s *minuteStream) waitFor(t *testing.T, minute string, price int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.minutes[minute] == price
	}, 30*time.Second, 20*time.Millisecond, "the stream announces %s at %d", minute, price)
}
