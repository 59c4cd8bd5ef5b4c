//go:build integration

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/internal/testenv"
)

// BenchmarkStreams measures, and asserts nothing about speed: how much
// memory `stockd serve` holds per open stream, and the delay from a write
// to Redis (by another client, as an updater would) to the minute event
// at every streaming client, at 1k, 5k and 10k streams (STREAMS overrides,
// comma-separated). It reports them as metrics (KB/stream, p50-ms,
// p99-ms, max-ms, open-ms). Run it alone, once per count:
//
//	go test -tags integration -run '^$' -bench BenchmarkStreams -benchtime 1x -timeout 30m ./cmd/stockd/
func BenchmarkStreams(b *testing.B) {
	counts := []int{1000, 5000, 10000}
	if v := os.Getenv("STREAMS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			require.NoError(b, err)
			counts = append(counts, n)
		}
	}
	srv := testenv.StartRedis(b)
	bin := buildBinary(b)
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(b, err)
	defer c.Close()
	for _, n := range counts {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			for range b.N {
				// A fresh series each round.
				require.NoError(b, c.Do(b.Context(), c.B().Flushall().Build()).Error())
				measureStreams(b, bin, srv.Addr, redis.NewPriceStore(c), n)
			}
		})
	}
}

// measureStreams is one round: stockd serve with n streams open, ten
// writes, each waited for at every stream before the next.
func measureStreams(b *testing.B, bin, redisAddr string, store *redis.PriceStore, n int) {
	// An hour of ticks a stock, as in price_data.csv: the series event
	// each stream starts with is about 6 KB.
	hour := domain.NewTickBatch()
	for sec := range 3600 {
		for s := 1; s <= 3; s++ {
			hour.Add(domaintest.Tick("stock"+strconv.Itoa(s), domain.DayOf(time.Now()), domain.TimeOfDay(9*3600+sec), int64(1000+(sec*7+s)%500)))
		}
	}
	require.NoError(b, store.Merge(b.Context(), hour.Histories()))
	addr := testenv.FreeAddr(b)
	serve := exec.Command(bin, "serve")
	serve.Env = append(os.Environ(), "PRICE_STORE=redis", "ORDER_STORE=memory", "REDIS_ADDR="+redisAddr,
		"HTTP_ADDR="+addr, "LOG_LEVEL=error")
	serve.Stderr = os.Stderr
	require.NoError(b, serve.Start())
	defer func() {
		_ = serve.Process.Kill()
		_ = serve.Wait()
	}()
	waitHealthy(b, "http://"+addr, 20*time.Second)
	idle := rssKB(b, serve.Process.Pid)

	ctx, cancel := context.WithCancel(b.Context())
	var mu sync.Mutex
	var delays []time.Duration
	sent := map[int64]time.Time{}
	progress := make(chan struct{}, 1) // a minute event arrived
	var ready, done sync.WaitGroup
	opened := time.Now()
	var failed, ended int
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
				ready.Done()
				return
			}
			defer conn.Close()
			context.AfterFunc(ctx, func() { conn.Close() })
			fmt.Fprintf(conn, "GET /api/stocks/stock%d/stream HTTP/1.1\r\nHost: x\r\n\r\n", 1+i%3)
			r := bufio.NewReaderSize(conn, 1024)
			first := true
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					if first {
						ready.Done()
					}
					if ctx.Err() == nil {
						mu.Lock()
						ended++
						mu.Unlock()
					}
					return
				}
				if first && strings.HasPrefix(line, "event: series") {
					first = false
					ready.Done()
				}
				if p, ok := strings.CutPrefix(line, `data: {"date":`); ok {
					at := time.Now()
					i := strings.Index(p, `"price":`)
					j := strings.IndexByte(p[i:], ',')
					price, _ := strconv.ParseInt(p[i+8:i+j], 10, 64)
					mu.Lock()
					if w, ok := sent[price]; ok {
						delays = append(delays, at.Sub(w))
					}
					mu.Unlock()
					select {
					case progress <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	ready.Wait()
	openTook := time.Since(opened)
	held := rssKB(b, serve.Process.Pid)

	// Ten writes, each to all three stocks: every stream gets ten minute
	// events. Each write is waited for at every live stream before the
	// next, so that the delays do not pile up behind one another.
	for k := range 10 {
		price := int64(1_000_000 + k)
		batch := domain.NewTickBatch()
		for s := 1; s <= 3; s++ {
			batch.Add(domaintest.Tick("stock"+strconv.Itoa(s), domain.DayOf(time.Now()), domain.TimeOfDay(10*3600+60*k), price))
		}
		mu.Lock()
		sent[price] = time.Now()
		mu.Unlock()
		require.NoError(b, store.Merge(b.Context(), batch.Histories()))
		deadline := time.After(30 * time.Second)
	wait:
		for {
			mu.Lock()
			got, want := len(delays), (k+1)*(n-failed-ended)
			mu.Unlock()
			if got >= want {
				break
			}
			select {
			case <-progress:
			case <-deadline:
				// Go on: the figures say what arrived.
				b.Errorf("write %d: %d of %d minute events after 30 s", k, got, want)
				break wait
			}
		}
	}
	mu.Lock()
	got := slices.Clone(delays)
	endedEarly := ended
	mu.Unlock()
	cancel()
	done.Wait()
	slices.Sort(got)
	pct := func(p float64) float64 {
		if len(got) == 0 {
			return -1
		}
		return float64(got[min(len(got)-1, int(float64(len(got))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(held-idle)/float64(n), "KB/stream")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(openTook)/float64(time.Millisecond), "open-ms")
	b.Logf("streams=%d failed=%d ended early=%d; serve RSS idle %d KB, with streams %d KB; events %d of %d",
		n, failed, endedEarly, idle, held, len(got), 10*(n-failed))
}

func rssKB(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
