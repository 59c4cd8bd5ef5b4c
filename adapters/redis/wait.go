package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

// WaitTimeout is how long a debit waits for its replicas (see
// CreditStore.WaitForReplicas) before its outcome is called unknown.
const WaitTimeout = time.Second

// debitSHA is the SHA-1 of the debit script, for EVALSHA on a dedicated
// connection (rueidis.Lua runs only on a whole client).
var debitSHA = func() string {
	sum := sha1.Sum([]byte(debitLua))
	return hex.EncodeToString(sum[:])
}()

// WaitForReplicas makes every debit wait until n replicas of its master
// have it (Redis WAIT), so that a failover cannot lose a debit the service
// acknowledged. Replication is asynchronous: without it, a master that
// dies before it forwards a debit leaves a replica that never saw it, and
// the order recorded for it was never paid. A debit that fewer than n
// replicas confirm within WaitTimeout is an unknown outcome
// (ports.ErrOutcomeUnknown): the master has it, a new master may not, and
// the pending order that travels with it tells the settler which. 0 (the
// default) acknowledges a debit once the master has it.
func (s *CreditStore) WaitForReplicas(n int) *CreditStore {
	s.waitReplicas = n
	return s
}

// debit runs the debit script, and with WaitForReplicas, WAIT after it on
// the same connection: WAIT counts the replicas that have every write of
// its connection, so script and WAIT must share one.
func (s *CreditStore) debit(ctx context.Context, keys, args []string) ([]string, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, err
	}
	if s.waitReplicas == 0 {
		reply, err := debitScript.Exec(ctx, client, keys, args).AsStrSlice()
		if err != nil {
			return nil, writeFailed(err)
		}
		return reply, nil
	}
	var reply []string
	err = client.Dedicated(func(c rueidis.DedicatedClient) error {
		wait := c.B().Wait().Numreplicas(int64(s.waitReplicas)).Timeout(WaitTimeout.Milliseconds()).Build()
		res := c.DoMulti(ctx, c.B().Evalsha().Sha1(debitSHA).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(), wait)
		if err := res[0].Error(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			// First use on this server: send the script itself.
			wait = c.B().Wait().Numreplicas(int64(s.waitReplicas)).Timeout(WaitTimeout.Milliseconds()).Build()
			res = c.DoMulti(ctx, c.B().Eval().Script(debitLua).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(), wait)
		}
		var err error
		if reply, err = res[0].AsStrSlice(); err != nil {
			return writeFailed(err)
		}
		acked, err := res[1].AsInt64()
		if err != nil {
			return fmt.Errorf("%w: wait for replicas: %w", ports.ErrOutcomeUnknown, translate(err))
		}
		if acked < int64(s.waitReplicas) {
			return fmt.Errorf("%w: %d of %d replicas confirmed the debit within %v", ports.ErrOutcomeUnknown, acked, s.waitReplicas, WaitTimeout)
		}
		return nil
	})
	return reply, err
}
