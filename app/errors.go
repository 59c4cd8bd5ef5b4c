package app

import (
	"errors"
	"fmt"
	"reflect"
)

// Errors the use cases report beyond those of domain and ports.
var (
	// ErrNoPrice: the stock has no price yet, so no order can be judged.
	ErrNoPrice = errors.New("stock has no price yet")
	// ErrOrderPending: the order was accepted and the credit debited, but
	// the order store did not take it; it is kept and will be recorded
	// when the store is back (see SettlePendingOrders).
	ErrOrderPending = errors.New("order accepted, recording delayed")
)

// requireAll refuses a nil dependency at construction rather than at the
// first request.
func requireAll(deps map[string]any) error {
	for name, d := range deps {
		if d == nil || (reflect.ValueOf(d).Kind() == reflect.Pointer && reflect.ValueOf(d).IsNil()) {
			return fmt.Errorf("app: %s must not be nil", name)
		}
	}
	return nil
}
