// Package ports holds the interfaces the use cases need from the outside
// world (prices, credit, orders, idempotency records, time) and the errors
// those interfaces speak. Adapters implement them; nothing else lives here.
package ports

import "errors"

// ErrUnavailable wraps every failure to reach a backing server (a refused
// connection, a timeout): the caller may retry later.
var ErrUnavailable = errors.New("store unavailable")
