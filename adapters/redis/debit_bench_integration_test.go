//go:build integration

package redis_test

import (
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// BenchmarkDebit measures one-script debits of two hot users (the
// exercise's load: every request on one of two keys) and of 64 users, on
// one server and on the cluster. It asserts nothing about speed.
func BenchmarkDebit(b *testing.B) {
	single, err := redis.Open([]string{testenv.StartRedis(b).Addr})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(single.Close)
	c, err := redis.Open(testenv.RedisCluster(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	for _, target := range []struct {
		name  string
		store *redis.CreditStore
	}{{"single", redis.NewCreditStore(single)}, {"cluster", redis.NewCreditStore(c)}} {
		for _, users := range []int{2, 64} {
			b.Run(target.name+"/users="+strconv.Itoa(users), func(b *testing.B) {
				for u := range users {
					if err := target.store.SetCredit(b.Context(), "bench"+strconv.Itoa(u), math.MaxInt64); err != nil {
						b.Fatal(err)
					}
				}
				var n atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := n.Add(1)
						buy, _ := domain.NewBuy("bench"+strconv.Itoa(int(i)%users), "stock1", 1+i%5)
						o, _ := buy.AtPrice("bench-"+strconv.FormatInt(i, 10), 1054, time.Now())
						if _, err := target.store.Debit(b.Context(), ports.DebitRequest{Order: o}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
