//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/memory"
	"stockd/adapters/redis"
	"stockd/app"
	"stockd/domain"
	"stockd/internal/domaintest"
	"stockd/internal/testenv"
)

// TestRedisFailover: buys and sales under load through `stockd serve` on a cluster
// of three masters with a replica each. The replica of the master that
// holds u0 falls behind (SIGSTOP, and the master drops its link), the master is SIGKILLed, the replica
// comes back and is promoted, the dead node returns as its replica, and
// the load goes on. Then every user's money is reconciled: credit left +
// accepted buys - accepted sales = seed credit, and every quantity held is
// the accepted buys' less the accepted sales'.
//
// With the default (REDIS_WAIT_REPLICAS=0) a debit is acknowledged once
// the master has it, so debits the replica never received vanish with the
// master while their orders stay recorded: money is created. The test
// reports how much. With REDIS_WAIT_REPLICAS=1 a debit is acknowledged only
// once its replica has it, and the run reconciles exactly.
func TestRedisFailover(t *testing.T) {
	for _, wait := range []int{0, 1} {
		t.Run("REDIS_WAIT_REPLICAS="+strconv.Itoa(wait), func(t *testing.T) {
			created := failoverRun(t, wait)
			if wait > 0 {
				assert.Zero(t, created, "every acknowledged debit survived the failover")
			} else {
				// A lost debit leaves its order: money is created, never
				// taken from a user.
				assert.GreaterOrEqual(t, created, int64(0))
			}
		})
	}
}

// failoverRun runs the scenario and returns the money created (positive)
// or lost (negative) over all users.
func failoverRun(t *testing.T, waitReplicas int) int64 {
	cluster := testenv.RedisReplicatedCluster(t)
	seeds := cluster.Seeds
	c, err := redis.Open(seeds)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	w := &realWorld{redisAddr: strings.Join(seeds, ","), dbURL: testenv.Postgres(t), rdb: c}
	const price, users, credit = 100, 6, 1_000_000
	w.set(t, "stock1", `{"time": ["090000"], "price": [`+strconv.Itoa(price)+`]}`)
	var seed []string
	for i := range users {
		seed = append(seed, fmt.Sprintf("u%d:%d", i, credit))
	}
	env := w.env(map[string]string{"SEED_USERS": strings.Join(seed, ","), "REDIS_WAIT_REPLICAS": strconv.Itoa(waitReplicas), "LOG_LEVEL": "error"})
	require.NoError(t, run(t.Context(), []string{"seed-users"}, envOf(env), io.Discard, io.Discard))
	base := serveFor(t, env)
	victim := cluster.MasterOf(t, seeds[0], "u0")
	replica := cluster.ReplicaOf(t, victim)

	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	var answered, unknown, abandoned atomic.Int64
	stop := make(chan struct{})
	trade := func(path, user, key string) {
		body := fmt.Sprintf(`{"user":%q,"stockname":"stock1","quantity":1}`, user)
		stopped := time.Time{}
		for {
			select {
			case <-stop:
				if stopped.IsZero() {
					stopped = time.Now()
				}
			default:
			}
			// A client gives a key up at last; its pending order, if the
			// debit happened, is the settler's.
			if !stopped.IsZero() && time.Since(stopped) > 20*time.Second {
				abandoned.Add(1)
				return
			}
			req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
			resp, err := client.Do(req)
			if err == nil {
				var p struct {
					Type string `json:"type"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					answered.Add(1)
					return
				}
				if strings.HasSuffix(p.Type, "outcome-unknown") {
					unknown.Add(1)
				}
			}
			<-time.After(20 * time.Millisecond) // back off, retry the same key
		}
	}
	var load sync.WaitGroup
	for i := range users {
		load.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Mixed: every third a sale of a share the buys bought.
				path := "/api/buy-stock"
				if n%3 == 2 {
					path = "/api/sell-stock"
				}
				trade(path, "u"+strconv.Itoa(i), fmt.Sprintf("k%d", n))
			}
		})
	}
	more := func(n int64, what string) {
		t.Helper()
		from := answered.Load()
		require.Eventually(t, func() bool { return answered.Load() >= from+n }, 60*time.Second, 10*time.Millisecond, what)
	}
	more(100, "buys before the failover")
	cluster.Stop(replica) // it falls behind: the master goes on alone
	cluster.CutReplicas(t, victim)
	more(100, "buys while the replica lags")
	cluster.Kill(victim)
	cluster.Continue(replica)
	cluster.WaitPromoted(t, replica)
	cluster.Restart(t, victim) // back as the new master's replica
	more(100, "buys after the failover")
	close(stop)
	load.Wait()

	// Orders whose debit outcome was unknown are the settler's (grace
	// 30 s, every 10 s).
	require.Eventually(t, func() bool {
		for i := range users {
			n, err := c.Do(t.Context(), c.B().Hlen().Key("stockd:pending:{u"+strconv.Itoa(i)+"}").Build()).AsInt64()
			if err != nil || n != 0 {
				return false
			}
		}
		return true
	}, 90*time.Second, 100*time.Millisecond, "pending orders settled")
	var created int64
	for i := range users {
		user := "u" + strconv.Itoa(i)
		left, spent := w.creditOf(t, user), w.spent(t, user)
		assert.GreaterOrEqual(t, left, int64(0))
		if d := left + spent - credit; d != 0 {
			t.Logf("%s: credit %d + bought - sold %d = seed %+d (%+d orders' worth)", user, left, spent, d, d/price)
			created += d
		}
		// Shares follow the money: a lost write loses both or neither.
		if held, ledger := w.held(t, user), w.ledger(t, user); waitReplicas > 0 {
			assert.Equal(t, ledger, held, "%s: quantities held = accepted buys - accepted sales", user)
		} else if !assert.ObjectsAreEqual(ledger, held) {
			t.Logf("%s: held %v, ledger %v", user, held, ledger)
		}
	}
	t.Logf("REDIS_WAIT_REPLICAS=%d: %d buys answered, %d outcome-unknown answers, %d keys given up, money created %+d (%+d orders' worth)",
		waitReplicas, answered.Load(), unknown.Load(), abandoned.Load(), created, created/price)
	return created
}

// BenchmarkBuyStockWaitReplicas measures BuyStock (with an Idempotency-Key,
// Redis price, credit and key stores, orders in memory) on the replicated
// cluster, with debits acknowledged by the master alone and after one
// replica confirmed them: what REDIS_WAIT_REPLICAS=1 costs. 64 users; it
// asserts nothing about speed.
func BenchmarkBuyStockWaitReplicas(b *testing.B) {
	cluster := testenv.RedisReplicatedCluster(b)
	c, err := redis.Open(cluster.Seeds)
	require.NoError(b, err)
	b.Cleanup(c.Close)
	stocks, err := domain.NewStocks([]string{"stock1"})
	require.NoError(b, err)
	prices := redis.NewPriceStore(c)
	batch := domain.NewTickBatch()
	batch.Add(domaintest.Tick("stock1", domain.DayOf(time.Now()), 9*3600, 1))
	require.NoError(b, prices.Merge(b.Context(), batch.Histories()))
	const users = 64
	for _, wait := range []int{0, 1} {
		b.Run("REDIS_WAIT_REPLICAS="+strconv.Itoa(wait), func(b *testing.B) {
			credits := redis.NewCreditStore(c).WaitForReplicas(wait)
			for u := range users {
				require.NoError(b, credits.SetCredit(b.Context(), "bench"+strconv.Itoa(u), math.MaxInt64/2))
			}
			buy, err := app.NewBuyStock(stocks, prices, credits, credits, memory.NewOrderRepository(), redis.NewIdempotencyStore(c), memory.SystemClock{})
			require.NoError(b, err)
			var n atomic.Int64
			b.SetParallelism(8) // 16 requests in flight on 2 CPUs, as HTTP clients would keep
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					_, err := buy.Execute(b.Context(), app.BuyStockCommand{User: "bench" + strconv.FormatInt(i%users, 10),
						Stock: "stock1", Quantity: 1, IdempotencyKey: fmt.Sprintf("w%d-%d", wait, i)})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
