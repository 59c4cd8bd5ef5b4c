//go:build integration

package postgres_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"stockd/adapters/postgres"
	"stockd/domain"
	"stockd/internal/testenv"
)

// BenchmarkSave measures concurrent saves through the group commit: an
// accepted order is one row, a denied one also claims its key in
// order_claims (the settler's fence), so the two show what the fence
// costs.
func BenchmarkSave(b *testing.B) {
	p, err := postgres.Open(testenv.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	repo := postgres.NewOrderRepository(p)
	var n atomic.Int64
	for _, status := range []domain.Status{domain.Accepted, domain.Denied} {
		b.Run(string(status), func(b *testing.B) {
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					o, err := domain.NewOrder("bench-"+strconv.FormatInt(n.Add(1), 10), "user1", "stock1", status, 10, 1, time.Now())
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := repo.Save(b.Context(), o); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
