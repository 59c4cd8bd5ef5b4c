package storetest

import (
	"fmt"
	"sync/atomic"
	"time"

	"stockd/domain"
)

var keySeq atomic.Int64

// uniqueKey returns a key no other test of this process uses. It is a
// valid user name too (letters, digits and '-').
func uniqueKey(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), keySeq.Add(1))
}

func newOrder(user, stock string, status domain.Status, price, qty int64, at time.Time) domain.Order {
	o, err := domain.NewOrder(uniqueKey("order"), user, stock, status, price, qty, at)
	if err != nil {
		panic(err)
	}
	return o
}
