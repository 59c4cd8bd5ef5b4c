// Package redis holds the Redis adapters (rueidis): the price store, the
// credit store with its pending orders, the idempotency records and the
// API tokens, on one server or a Redis Cluster.
//
// Keys: users and stocks are the bare names of the contract; every other
// key starts with "stockd:" and carries its user's name as a cluster hash
// tag (keys.go), so that every script touches one slot. A debit and a
// sale are one script each (lua/debit.lua, lua/sell.lua) that translate
// domain.JudgeBuy and domain.JudgeSale exactly on decimal text, credit and
// position together: Lua numbers are doubles, credit and positions are
// int64. Every script is a file of lua/, loaded in lua.go.
//
// A long-running command starts before Redis answers through a Connector,
// which builds the client once a seed does.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"stockd/ports"
)

// Open returns a client of the Redis server or cluster at the seed
// addresses, dialled now; rueidis tells a cluster from a single server.
// Client-side caching is on (RESP3, Redis 6 or newer), for DoCache reads.
// When no seed answers, the error is ErrUnavailable; a command that must
// start anyway uses a Connector.
func Open(seeds []string) (rueidis.Client, error) {
	opt, err := clientOption(seeds)
	if err != nil {
		return nil, err
	}
	client, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %w", strings.Join(seeds, ","), translate(err))
	}
	return client, nil
}

// clientOption is how every client of the seeds is built.
func clientOption(seeds []string) (rueidis.ClientOption, error) {
	if len(seeds) == 0 {
		return rueidis.ClientOption{}, errors.New("redis: no address")
	}
	for _, s := range seeds {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return rueidis.ClientOption{}, fmt.Errorf("redis address %q: %w", s, err)
		}
	}
	return rueidis.ClientOption{
		InitAddress: seeds,
		// An outage must fail requests fast (503), not retry them until
		// the client gives up; callers that want retries (the updater) do
		// them with internal/retry.
		DisableRetry:     true,
		Dialer:           net.Dialer{Timeout: 2 * time.Second},
		ConnWriteTimeout: 5 * time.Second,
		// One connection per node, for every command. rueidis sends a
		// command with keys down a random one of its connections to a
		// node but reads a cached key through the one its slot picks, so
		// with several a process's own write and its own cached read of
		// the same key could pass each other: the invalidation of the
		// write reaches the reading connection at some later moment. On
		// one connection the write, its invalidation and the command
		// that follows (see priceWriter.syncCache) arrive in order, and a
		// process reads its own write on its next call. rueidis already
		// uses one per node on a cluster.
		PipelineMultiplex: -1,
	}, nil
}

// Ping reports whether the server (every known node of a cluster) answers.
func Ping(ctx context.Context, c rueidis.Client) error {
	nodes, err := nodesOf(c)
	if err != nil {
		return err
	}
	for addr, n := range nodes {
		if err := translate(n.Do(ctx, n.B().Ping().Build()).Error()); err != nil {
			return fmt.Errorf("%s: %w", addr, err)
		}
	}
	return nil
}

// nodesOf returns the nodes of c to scan or ping, each once: the server,
// or every node of a cluster.
func nodesOf(c rueidis.Client) (map[string]rueidis.Client, error) {
	nodes := c.Nodes()
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: redis: no node known", ports.ErrUnavailable)
	}
	return nodes, nil
}

// notReady are the first words of the replies of a server that answers but
// cannot serve yet: loading its data set, a cluster or a replica failing
// over, a script running too long. They are outages like a server that does
// not answer.
var notReady = []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "BUSY", "NOREPLICAS"}

// translate maps driver errors to port errors: a nil reply, and a port
// error, pass through; a server that is not ready, or a failure to
// reach it (refused, reset, timed out), is ErrUnavailable; any other reply
// of the server is a real error.
func translate(err error) error {
	if err == nil || rueidis.IsRedisNil(err) || errors.Is(err, ports.ErrUnavailable) {
		return err // nothing to translate, or translated already (by the lazy client)
	}
	if re, ok := rueidis.IsRedisErr(err); ok {
		word, _, _ := strings.Cut(re.Error(), " ")
		for _, w := range notReady {
			if word == w {
				return fmt.Errorf("%w: redis: %v", ports.ErrUnavailable, err)
			}
		}
		return fmt.Errorf("redis: %w", err)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: redis: %v", ports.ErrUnavailable, err)
}

// writeFailed wraps the failure of a script that writes: a reply of the
// server means the script did not run, but a broken connection may have
// lost the reply of a script that ran.
func writeFailed(err error) error {
	if _, ok := rueidis.IsRedisErr(err); ok {
		return translate(err)
	}
	return fmt.Errorf("%w: %w", ports.ErrOutcomeUnknown, translate(err))
}
