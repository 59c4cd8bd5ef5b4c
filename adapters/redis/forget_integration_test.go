//go:build integration

package redis_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/adapters/redis"
	"stockd/domain"
	"stockd/internal/testenv"
	"stockd/ports"
)

// TestLaterSettlerForgetsWhatItWasGiven: the forgets a LaterSettler
// queues reach Redis by the end of Close, per user, leaving every other
// pending order, whether they came in one call or one a call.
func TestLaterSettlerForgetsWhatItWasGiven(t *testing.T) {
	single := client(t, testenv.StartRedis(t).Addr)
	cluster := client(t, testenv.RedisCluster(t)...)
	for name, c := range map[string]rueidis.Client{"single": single, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			store := redis.NewCreditStore(c)
			later := redis.NewLaterSettler(c)
			// The first user's forgets come in one call, more than a round
			// holds (1024): they go at once. The second's come one key a
			// call, from goroutines of their own, as concurrent buys give
			// them.
			const perUser = 1200
			kept := map[string]bool{} // the order keys not settled
			settled := map[string]bool{}
			var settle sync.WaitGroup
			for u := range 2 {
				user := fmt.Sprintf("later-%s-%d-%d", name, time.Now().UnixNano(), u)
				require.NoError(t, store.SetCredit(t.Context(), user, 1_000_000))
				var keys []string
				for i := range perUser {
					o := laterOrder(t, user, i)
					_, err := store.Debit(t.Context(), ports.DebitRequest{Order: o})
					require.NoError(t, err)
					if i%10 == 0 {
						kept[o.Key()] = true
					} else {
						keys = append(keys, o.Key())
						settled[o.Key()] = true
					}
				}
				if u == 0 {
					require.NoError(t, later.SettlePending(t.Context(), user, keys...))
					continue
				}
				for _, k := range keys {
					settle.Go(func() { assert.NoError(t, later.SettlePending(t.Context(), user, k)) })
				}
			}
			settle.Wait()
			later.Close()

			pending, err := store.PendingOrders(t.Context())
			require.NoError(t, err)
			left := map[string]bool{}
			for _, p := range pending {
				left[p.Order.Key()] = true
			}
			for k := range kept {
				assert.True(t, left[k], "an order nobody settled stays pending")
			}
			for k := range settled {
				assert.False(t, left[k], "order %s was settled and is still pending after Close", k)
			}
		})
	}
}

// TestLaterSettlerLeavesLateForgetsToTheSettler: a forget that comes
// after Close (a buy still finishing as the process stops) sends nothing,
// and its pending record stays for the settler; Close twice is fine.
func TestLaterSettlerLeavesLateForgetsToTheSettler(t *testing.T) {
	c := client(t, testenv.StartRedis(t).Addr)
	store := redis.NewCreditStore(c)
	later := redis.NewLaterSettler(c)
	user := fmt.Sprintf("late-%d", time.Now().UnixNano())
	require.NoError(t, store.SetCredit(t.Context(), user, 100))
	o := laterOrder(t, user, 0)
	_, err := store.Debit(t.Context(), ports.DebitRequest{Order: o})
	require.NoError(t, err)

	later.Close()
	require.NoError(t, later.SettlePending(t.Context(), user, o.Key()))
	later.Close()

	pending, err := store.PendingOrders(t.Context())
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, o.Key(), pending[0].Order.Key())
}

func laterOrder(t *testing.T, user string, i int) domain.BuyOrder {
	t.Helper()
	b, err := domain.NewBuy(user, "stock1", 1)
	require.NoError(t, err)
	o, err := b.AtPrice(fmt.Sprintf("later-order-%s-%d", user, i), 10, time.Now())
	require.NoError(t, err)
	return o
}
