package storetest

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/domain"
	"stockd/ports"
)

// OrderRepository runs the contract of ports.OrderRepository. newStore must
// return an empty repository.
func OrderRepository(t *testing.T, newStore func(t *testing.T) ports.OrderRepository) {
	t.Run("save assigns ids and is idempotent by key", func(t *testing.T) {
		r := newStore(t)
		at := time.Date(2026, 11, 26, 9, 0, 0, 123456789, time.UTC)
		o := newOrder("user2", "stock1", domain.Accepted, 1054, 100, at)
		saved, err := r.Save(t.Context(), o)
		require.NoError(t, err)
		require.Positive(t, saved.ID())
		assert.Equal(t, o.WithID(saved.ID()), saved)
		assert.Equal(t, at.Truncate(time.Microsecond), saved.CreatedAt())

		again, err := r.Save(t.Context(), o)
		require.NoError(t, err)
		assert.Equal(t, saved, again, "the same key is stored once")

		other, err := r.Save(t.Context(), newOrder("user2", "stock1", domain.Denied, 1054, 100, at))
		require.NoError(t, err)
		assert.Greater(t, other.ID(), saved.ID())
	})

	t.Run("by key finds a saved order and only that", func(t *testing.T) {
		r := newStore(t)
		o := newOrder("user1", "stock2", domain.Denied, 990, 12, time.Date(2026, 11, 26, 9, 1, 0, 0, time.UTC))
		_, err := r.ByKey(t.Context(), o.Key())
		require.ErrorIs(t, err, ports.ErrOrderNotFound)
		saved, err := r.Save(t.Context(), o)
		require.NoError(t, err)
		got, err := r.ByKey(t.Context(), o.Key())
		require.NoError(t, err)
		assert.Equal(t, saved, got)
	})

	t.Run("forgo finds a saved order or refuses the denied order for good", func(t *testing.T) {
		r := newStore(t)
		at := time.Date(2026, 11, 26, 9, 2, 0, 0, time.UTC)
		saved, err := r.Save(t.Context(), newOrder("user1", "stock1", domain.Denied, 990, 12, at))
		require.NoError(t, err)
		got, err := r.Forgo(t.Context(), saved.Key())
		require.NoError(t, err)
		assert.Equal(t, saved, got, "an order saved before is found")

		late := newOrder("user1", "stock1", domain.Denied, 990, 12, at)
		for range 2 { // idempotent: several settlers may forgo one key
			_, err = r.Forgo(t.Context(), late.Key())
			require.ErrorIs(t, err, ports.ErrOrderNotFound)
		}
		_, err = r.Save(t.Context(), late)
		require.ErrorIs(t, err, ports.ErrOrderForgone, "a denied order saved after forgo is refused")
		_, err = r.ByKey(t.Context(), late.Key())
		require.ErrorIs(t, err, ports.ErrOrderNotFound, "and not stored")

		// A debited order must stay recordable; its key is fenced by the
		// credit store instead (storetest.DebitFence).
		paid := newOrder("user1", "stock1", domain.Accepted, 990, 1, at)
		_, err = r.Forgo(t.Context(), paid.Key())
		require.ErrorIs(t, err, ports.ErrOrderNotFound)
		stored, err := r.Save(t.Context(), paid)
		require.NoError(t, err)
		got, err = r.Forgo(t.Context(), paid.Key())
		require.NoError(t, err)
		assert.Equal(t, stored, got)
	})

	t.Run("forgo racing saves of a denied order: either the order is stored and found, or it never is", func(t *testing.T) {
		r := newStore(t)
		const keys, savesPerKey = 30, 3
		at := time.Date(2026, 11, 26, 9, 3, 0, 0, time.UTC)
		type outcome struct {
			saved   []domain.Order
			refused int
			forgone *domain.Order // what Forgo found; nil: not found
		}
		results := make([]outcome, keys)
		orders := make([]domain.Order, keys)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range orders {
			orders[i] = newOrder("u", "stock1", domain.Denied, 5, 1, at)
			for range savesPerKey {
				wg.Go(func() {
					saved, err := r.Save(t.Context(), orders[i])
					mu.Lock()
					defer mu.Unlock()
					if errors.Is(err, ports.ErrOrderForgone) {
						results[i].refused++
						return
					}
					if assert.NoError(t, err) {
						results[i].saved = append(results[i].saved, saved)
					}
				})
			}
			wg.Go(func() {
				found, err := r.Forgo(t.Context(), orders[i].Key())
				if errors.Is(err, ports.ErrOrderNotFound) {
					return
				}
				if assert.NoError(t, err) {
					mu.Lock()
					results[i].forgone = &found
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for i, res := range results {
			stored, err := r.ByKey(t.Context(), orders[i].Key())
			if res.forgone == nil {
				require.ErrorIs(t, err, ports.ErrOrderNotFound, "forgo found nothing: nothing is ever stored")
				assert.Equal(t, savesPerKey, res.refused, "and every save was refused")
				continue
			}
			require.NoError(t, err)
			assert.Equal(t, stored, *res.forgone)
			assert.Zero(t, res.refused, "forgo found the order: no save was refused")
			for _, saved := range res.saved {
				assert.Equal(t, stored, saved)
			}
		}
	})

	t.Run("by id finds a saved order and only that", func(t *testing.T) {
		r := newStore(t)
		at := time.Date(2026, 11, 26, 9, 2, 0, 0, time.UTC)
		first, err := r.Save(t.Context(), newOrder("user1", "stock1", domain.Accepted, 1000, 3, at))
		require.NoError(t, err)
		second, err := r.Save(t.Context(), newOrder("user2", "stock2", domain.Denied, 990, 12, at))
		require.NoError(t, err)
		for _, want := range []domain.Order{first, second} {
			got, err := r.ByID(t.Context(), want.ID())
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		for _, id := range []int64{0, -1, second.ID() + 1000} {
			_, err := r.ByID(t.Context(), id)
			require.ErrorIs(t, err, ports.ErrOrderNotFound, "id %d", id)
		}
	})

	t.Run("concurrent saves get distinct ids", func(t *testing.T) {
		r := newStore(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ids := map[int64]bool{}
		for range 50 {
			wg.Go(func() {
				o, err := r.Save(t.Context(), newOrder("u", "stock1", domain.Accepted, 1, 1, time.Now()))
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				ids[o.ID()] = true
				mu.Unlock()
			})
		}
		wg.Wait()
		assert.Len(t, ids, 50)
	})

	t.Run("concurrent saves with shared keys store each key once and answer everyone with it", func(t *testing.T) {
		r := newStore(t)
		const keys, savesPerKey = 40, 5
		at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		orders := make([]domain.Order, keys)
		for i := range orders {
			orders[i] = newOrder("u", "stock1", domain.Accepted, 1+int64(i), 1, at.Add(time.Duration(i)*time.Second))
		}
		// Half the keys are stored before the burst: a retry of a saved order.
		before := map[string]domain.Order{}
		for _, o := range orders[:keys/2] {
			saved, err := r.Save(t.Context(), o)
			require.NoError(t, err)
			before[o.Key()] = saved
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		got := map[string][]domain.Order{}
		for range savesPerKey {
			for _, o := range orders {
				wg.Go(func() {
					saved, err := r.Save(t.Context(), o)
					if !assert.NoError(t, err) {
						return
					}
					mu.Lock()
					got[o.Key()] = append(got[o.Key()], saved)
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		ids := map[int64]bool{}
		for _, o := range orders {
			stored, err := r.ByKey(t.Context(), o.Key())
			require.NoError(t, err)
			assert.Equal(t, o.WithID(stored.ID()), stored)
			if b, ok := before[o.Key()]; ok {
				assert.Equal(t, b, stored, "a key saved before keeps its order")
			}
			require.Len(t, got[o.Key()], savesPerKey)
			for _, saved := range got[o.Key()] {
				assert.Equal(t, stored, saved, "every caller gets the stored order")
			}
			ids[stored.ID()] = true
		}
		assert.Len(t, ids, keys, "distinct keys, distinct ids")
		q, err := domain.NewOrderQuery(domain.VisibleAt(at, time.UTC), nil, 1000)
		require.NoError(t, err)
		listed, err := r.List(t.Context(), q)
		require.NoError(t, err)
		assert.Len(t, listed, keys, "each key listed once")
	})

	t.Run("orders saved while paging never appear twice, and none is skipped", func(t *testing.T) {
		r := newStore(t)
		base := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
		var first []domain.Order
		for i := range 30 {
			o, err := r.Save(t.Context(), newOrder("u", "stock1", domain.Accepted, 1, 1, base.Add(time.Duration(i)*time.Second)))
			require.NoError(t, err)
			first = append(first, o)
		}
		vis := domain.VisibleAt(base, time.UTC)
		seen := map[int64]int{}
		var after *domain.OrderPosition
		for page := 0; ; page++ {
			q, err := domain.NewOrderQuery(vis, after, 7)
			require.NoError(t, err)
			orders, err := r.List(t.Context(), q)
			require.NoError(t, err)
			for _, o := range orders {
				seen[o.ID()]++
			}
			// Meanwhile: a newer order, one older than everything, and
			// one with the very timestamp of the cursor.
			for _, at := range []time.Time{base.Add(time.Hour), base.Add(-time.Hour)} {
				_, err := r.Save(t.Context(), newOrder("u", "stock1", domain.Accepted, 1, 1, at))
				require.NoError(t, err)
			}
			if len(orders) < 7 {
				break
			}
			p := orders[len(orders)-1].Position()
			_, err = r.Save(t.Context(), newOrder("u", "stock1", domain.Accepted, 1, 1, p.CreatedAt))
			require.NoError(t, err)
			after = &p
		}
		for id, n := range seen {
			assert.Equal(t, 1, n, "order %d listed %d times", id, n)
		}
		for _, o := range first {
			assert.Equal(t, 1, seen[o.ID()], "order %d, there when paging began, is listed", o.ID())
		}
	})

	t.Run("listing agrees with the domain rule on random orders, across pages", func(t *testing.T) {
		r := newStore(t)
		rng := rand.New(rand.NewPCG(21, 22))
		zones := []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati"}
		var all []domain.Order
		base := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
		for range 400 {
			offset := time.Duration(rng.Int64N(int64(72*time.Hour))) - 36*time.Hour
			switch rng.IntN(8) {
			case 0:
				offset = offset.Truncate(time.Hour) // on the hour: exactly some zone's midnight
			case 1:
				offset = offset.Truncate(time.Hour) - time.Microsecond
			}
			at := base.Add(offset)
			if len(all) > 0 && rng.IntN(10) == 0 {
				at = all[rng.IntN(len(all))].CreatedAt() // ties on creation time
			}
			status := domain.Accepted
			if rng.IntN(2) == 0 {
				status = domain.Denied
			}
			user := []string{"u1", "u2", "u3"}[rng.IntN(3)]
			// Keys of 27 to about 100 bytes, many longer than the 32 of
			// stockd's own: a store that reads a page's keys into one
			// buffer must grow it without changing the keys it read.
			key := uniqueKey("order") + strings.Repeat("k", rng.IntN(70))
			o, err := domain.NewOrder(key, user, "stock1", status, 1+rng.Int64N(2000), 5+rng.Int64N(11), at)
			require.NoError(t, err)
			if rng.IntN(3) == 0 {
				o, err = o.WithSide(domain.SideSell)
				require.NoError(t, err)
			}
			o, err = r.Save(t.Context(), o)
			require.NoError(t, err)
			all = append(all, o)
		}
		for _, zone := range zones {
			loc, err := time.LoadLocation(zone)
			require.NoError(t, err)
			for i, user := range []string{"", "", "u1", "u3", "", "u2"} {
				side := []domain.Side{"", domain.SideSell, "", domain.SideBuy, domain.SideBuy, domain.SideSell}[i]
				now := base.Add(time.Duration(rng.Int64N(int64(48*time.Hour))) - 24*time.Hour)
				vis := domain.VisibleAt(now, loc)
				rule, err := domain.NewOrderQuery(vis, nil, 1)
				require.NoError(t, err)
				rule = rule.OfUser(user).OfSide(side)
				var want []domain.Order
				for _, o := range all {
					if rule.Matches(o) {
						want = append(want, o)
					}
				}
				slices.SortFunc(want, domain.ListingLess)

				var got []domain.Order
				var after *domain.OrderPosition
				for page := 0; ; page++ {
					require.Less(t, page, 1000)
					limit := 1 + rng.IntN(60)
					q, err := domain.NewOrderQuery(vis, after, limit)
					require.NoError(t, err)
					orders, err := r.List(t.Context(), q.OfUser(user).OfSide(side))
					require.NoError(t, err)
					require.LessOrEqual(t, len(orders), limit)
					got = append(got, orders...)
					if len(orders) < limit {
						break
					}
					p := orders[len(orders)-1].Position()
					after = &p
				}
				require.Equal(t, ids(want), ids(got), "zone %s, now %v, user %q, side %q", zone, now, user, side)
				require.Equal(t, want, got)
			}
		}
	})
}

func ids(orders []domain.Order) []int64 {
	out := make([]int64, len(orders))
	for i, o := range orders {
		out[i] = o.ID()
	}
	return out
}
