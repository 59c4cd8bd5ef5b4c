// Package redis holds the Redis adapters (rueidis): the price store, the
// credit store with its pending orders, and the idempotency records.
//
// Every read-modify-write is optimistic: Go reads the JSON value, decides,
// and a compare-and-set Lua script swaps the value only if it is still the
// one read (and, for a debit, writes the pending order in the same step).
// Redis never does arithmetic: Lua numbers are doubles, credit is int64.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

// Keys the service owns. User and stock keys are the bare names the
// contract gives; the service's own keys carry this prefix.
const (
	pendingKey      = "stockd:pending-orders"
	idempotencyPref = "stockd:idempotency:"
)

// Open returns a client of the Redis server at addr. The client is returned
// even when the server cannot be reached (with the dial error): it connects
// when the server comes up, so a long-running command can start anyway and
// report the outage through readiness.
func Open(addr string) (rueidis.Client, error) {
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       []string{addr},
		ForceSingleClient: true, // one server; and it keeps the client when the dial fails
		DisableCache:      false,
		// An outage must fail requests fast (503), not retry them until
		// the client gives up; callers that want retries (the updater) do
		// them with their own backoff.
		DisableRetry:     true,
		Dialer:           net.Dialer{Timeout: 2 * time.Second},
		ConnWriteTimeout: 5 * time.Second,
	})
	if client == nil {
		return nil, fmt.Errorf("redis %s: %w", addr, err)
	}
	if err != nil {
		return client, fmt.Errorf("%w: redis %s: %v", ports.ErrUnavailable, addr, err)
	}
	return client, nil
}

// Ping reports whether the server answers.
func Ping(ctx context.Context, c rueidis.Client) error {
	return translate(c.Do(ctx, c.B().Ping().Build()).Error())
}

// translate maps driver errors to port errors: a nil reply passes through
// for the caller to interpret; a reply of the server is a real error; any
// other failure (refused, reset, timed out) means the server is unavailable.
func translate(err error) error {
	if err == nil || rueidis.IsRedisNil(err) {
		return err
	}
	if _, ok := rueidis.IsRedisErr(err); ok {
		return fmt.Errorf("redis: %w", err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: redis: %v", ports.ErrUnavailable, err)
}

// casScript sets KEYS[1] to ARGV[2] if it still holds ARGV[1] ("" for a
// missing key) and, when ARGV[3] is given, sets field ARGV[3] of the hash
// KEYS[2] to ARGV[4] in the same atomic step. It returns 1 when it wrote.
var casScript = rueidis.NewLuaScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false then cur = '' end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= nil and ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
return 1
`)

// maxCASAttempts bounds the optimistic retries of one update. Contention on
// one key is what makes a CAS fail; 50 concurrent orders of one user need
// at most 50 rounds, so this is far from a normal load.
const maxCASAttempts = 1000

var errContention = errors.New("redis: too much contention on one key")

// backoff sleeps a little, longer after each failed attempt, so that many
// writers of one key do not retry in lockstep.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(min(attempt, 20)) * 50 * time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
