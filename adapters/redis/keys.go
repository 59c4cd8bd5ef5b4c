package redis

import (
	"strings"
)

// The service's own keys. Each carries its user's name as a hash tag, so
// that a user's record, positions, pending orders, idempotency records and
// their in-flight index share one cluster slot and one script can touch
// them all. User names (domain.ValidateUserName) hold no braces, and the first
// brace pair of a key is its tag, so an idempotency key of any text cannot
// move its record to another slot.
const (
	pendingPrefix  = "stockd:pending:{"  // + user + "}": hash, order key -> pending order
	inflightPrefix = "stockd:inflight:{" // + user + "}": zset, idempotency key by reservation time
	idemPrefix     = "stockd:idem:{"     // + user + "}:" + key: the idempotency record
	// + user + "}": hash, stock -> "quantity:cost_basis" (decimal), only
	// positions with shares (see lua/position.lua)
	positionsPrefix = "stockd:positions:{"
)

func pendingKeyOf(user string) string   { return pendingPrefix + user + "}" }
func inflightKeyOf(user string) string  { return inflightPrefix + user + "}" }
func positionsKeyOf(user string) string { return positionsPrefix + user + "}" }
func idemKeyOf(user, key string) string {
	return idemPrefix + user + "}:" + key
}

// userOf returns the user whose tagged key k is, of the given prefix.
func userOf(k, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(k, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "}")
}
