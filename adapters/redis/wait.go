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

// WaitTimeout is how long a trade waits for its replicas (see
// CreditStore.WaitForReplicas) before its outcome is called unknown.
const WaitTimeout = time.Second

// writeScript is a script that writes a user's books (a debit, a sale),
// with its text and SHA-1 for the WAIT path, which sends it on a
// dedicated connection (rueidis.Lua runs only on a whole client).
type writeScript struct {
	name string // for errors: "debit", "sell"
	lua  *rueidis.Lua
	text string
	sha  string
}

func newWriteScript(name, text string) writeScript {
	sum := sha1.Sum([]byte(text))
	return writeScript{name: name, lua: rueidis.NewLuaScript(text), text: text, sha: hex.EncodeToString(sum[:])}
}

// WaitForReplicas makes every debit and sale wait until n replicas of its
// master have it (Redis WAIT), so that a failover cannot lose a trade the
// service acknowledged. Replication is asynchronous: without it, a master
// that dies before it forwards a debit leaves a replica that never saw it,
// and the order recorded for it was never paid (a sale: its shares were
// never taken, and could be sold again). A trade that fewer than n
// replicas confirm within WaitTimeout is an unknown outcome
// (ports.ErrOutcomeUnknown): the master has it, a new master may not, and
// the pending order that travels with it tells the settler which. 0 (the
// default) acknowledges a trade once the master has it.
func (s *CreditStore) WaitForReplicas(n int) *CreditStore {
	s.waitReplicas = n
	return s
}

// write runs script, and with WaitForReplicas, WAIT after it on the same
// connection: WAIT counts the replicas that have every write of its
// connection, so script and WAIT must share one.
func (s *CreditStore) write(ctx context.Context, script writeScript, keys, args []string) ([]string, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, err
	}
	if s.waitReplicas == 0 {
		reply, err := script.lua.Exec(ctx, client, keys, args).AsStrSlice()
		if err != nil {
			return nil, writeFailed(err)
		}
		return reply, nil
	}
	var reply []string
	err = client.Dedicated(func(c rueidis.DedicatedClient) error {
		wait := c.B().Wait().Numreplicas(int64(s.waitReplicas)).Timeout(WaitTimeout.Milliseconds()).Build()
		res := c.DoMulti(ctx, c.B().Evalsha().Sha1(script.sha).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(), wait)
		if err := res[0].Error(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			// First use on this server: send the script itself.
			wait = c.B().Wait().Numreplicas(int64(s.waitReplicas)).Timeout(WaitTimeout.Milliseconds()).Build()
			res = c.DoMulti(ctx, c.B().Eval().Script(script.text).Numkeys(int64(len(keys))).Key(keys...).Arg(args...).Build(), wait)
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
			return fmt.Errorf("%w: %d of %d replicas confirmed the %s within %v", ports.ErrOutcomeUnknown, acked, s.waitReplicas, script.name, WaitTimeout)
		}
		return nil
	})
	return reply, err
}
