//go:build integration && measure

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
	"stockd/internal/testenv"
)

// TestMeasureStreams measures, and asserts nothing about speed: how much
// memory `stockd serve` holds per open stream, and the delay from a write
// to Redis (by another client, as an updater would) to the minute event
// at every streaming client, at 1k, 5k and 10k streams (STREAMS overrides,
// comma-separated). Run it alone:
//
//	go test -tags 'integration measure' -run TestMeasureStreams -v -timeout 30m ./cmd/stockd/
func TestMeasureStreams(t *testing.T) {
	counts := []int{1000, 5000, 10000}
	if v := os.Getenv("STREAMS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			require.NoError(t, err)
			counts = append(counts, n)
		}
	}
	srv := testenv.StartRedis(t)
	bin := buildBinary(t)
	c, err := redis.Open([]string{srv.Addr})
	require.NoError(t, err)
	defer c.Close()
	store := redis.NewPriceStore(c)
	measureDay := domain.DayOf(time.Now()) // the streams follow the latest day: today

	for _, n := range counts {
		// An hour of ticks a stock, as in price_data.csv: the series event
		// each stream starts with is about 6 KB.
		hour := domain.NewTickBatch()
		for sec := range 3600 {
			for s := 1; s <= 3; s++ {
				hour.Add(domain.Tick{Stock: "stock" + strconv.Itoa(s), Day: measureDay, At: domain.TimeOfDay(9*3600 + sec), Price: int64(1000 + (sec*7+s)%500)})
			}
		}
		require.NoError(t, store.Merge(t.Context(), hour.Histories()))
		addr := testenv.FreeAddr(t)
		serve := exec.Command(bin, "serve")
		serve.Env = append(os.Environ(), "PRICE_STORE=redis", "ORDER_STORE=memory", "REDIS_ADDR="+srv.Addr,
			"HTTP_ADDR="+addr, "LOG_LEVEL=error")
		serve.Stderr = os.Stderr
		require.NoError(t, serve.Start())
		base := "http://" + addr
		waitHealthy(t, base, 20*time.Second)
		// Let the feed subscribe and the process settle before the baseline.
		time.Sleep(time.Second)
		idle := rssKB(t, serve.Process.Pid)

		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		var delays []time.Duration
		sent := map[int64]time.Time{}
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
					}
				}
			}()
		}
		ready.Wait()
		openTook := time.Since(opened)
		time.Sleep(2 * time.Second)
		held := rssKB(t, serve.Process.Pid)

		// Ten writes, one each 300 ms, each to all three stocks: every
		// stream gets ten minute events.
		for k := range 10 {
			price := int64(1_000_000 + k)
			b := domain.NewTickBatch()
			for s := 1; s <= 3; s++ {
				b.Add(domain.Tick{Stock: "stock" + strconv.Itoa(s), Day: measureDay, At: domain.TimeOfDay(10*3600 + 60*k), Price: price})
			}
			mu.Lock()
			sent[price] = time.Now()
			mu.Unlock()
			require.NoError(t, store.Merge(t.Context(), b.Histories()))
			time.Sleep(300 * time.Millisecond)
		}
		time.Sleep(10 * time.Second) // the last events, at the slowest

		mu.Lock()
		got := slices.Clone(delays)
		mu.Unlock()
		slices.Sort(got)
		pct := func(p float64) time.Duration {
			if len(got) == 0 {
				return -1
			}
			return got[min(len(got)-1, int(float64(len(got))*p))]
		}
		mu.Lock()
		endedEarly := ended
		mu.Unlock()
		t.Logf("streams=%d failed=%d ended early=%d opened in %v; serve RSS idle %d KB, with streams %d KB (%.1f KB/stream); events %d of %d; write-to-event p50 %v p99 %v max %v",
			n, failed, endedEarly, openTook.Round(time.Millisecond), idle, held, float64(held-idle)/float64(n), len(got), 10*(n-failed),
			pct(0.50), pct(0.99), pct(1))
		cancel()
		done.Wait()
		_ = serve.Process.Kill()
		_ = serve.Wait()
		// A fresh series for the next round.
		require.NoError(t, c.Do(t.Context(), c.B().Flushall().Build()).Error())
		store = redis.NewPriceStore(c)
	}
}

func rssKB(t *testing.T, pid int) int {
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
