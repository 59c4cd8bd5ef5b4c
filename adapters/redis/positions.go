package redis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/rueidis"

	"stockd/domain"
	"stockd/ports"
)

// Positions is one script (lua/positions.lua): the user record and the
// positions hash read together, so that no trade is seen half done.
func (s *CreditStore) Positions(ctx context.Context, user string) (ports.Portfolio, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return ports.Portfolio{}, fmt.Errorf("read positions of %s: %w", user, err)
	}
	reply, err := positionsScript.Exec(ctx, client, []string{user, positionsKeyOf(user)}, nil).AsStrSlice()
	if err != nil {
		return ports.Portfolio{}, fmt.Errorf("read positions of %s: %w", user, translate(err))
	}
	if len(reply) == 1 && reply[0] == "nouser" {
		return ports.Portfolio{}, fmt.Errorf("%w: %s holds no user record", ports.ErrUserNotFound, user)
	}
	if len(reply) < 2 || reply[0] != "ok" || len(reply)%2 != 0 {
		return ports.Portfolio{}, fmt.Errorf("read positions of %s: unexpected reply %q", user, reply)
	}
	credit, err := strconv.ParseInt(reply[1], 10, 64)
	if err != nil {
		return ports.Portfolio{}, fmt.Errorf("read positions of %s: credit %q: %w", user, reply[1], err)
	}
	fields := make(map[string]string, (len(reply)-2)/2)
	for i := 2; i < len(reply); i += 2 {
		fields[reply[i]] = reply[i+1]
	}
	holdings, err := holdingsOf(user, fields)
	if err != nil {
		return ports.Portfolio{}, err
	}
	return ports.Portfolio{Credit: credit, Holdings: holdings}, nil
}

// holdingsOf reads user's positions hash, stock -> stored value, into its
// positions of at least one share in stock name order: "0:0" (written by
// another tool) holds nothing, and a value that is not a position is an
// error that names it.
func holdingsOf(user string, fields map[string]string) ([]domain.Holding, error) {
	out := make([]domain.Holding, 0, len(fields))
	for stock, v := range fields {
		p, err := parsePosition(v)
		if err != nil {
			return nil, fmt.Errorf("position of %s in %s: %w", user, stock, err)
		}
		if !p.Empty() {
			out = append(out, domain.Holding{Stock: stock, Position: p})
		}
	}
	slices.SortFunc(out, func(a, b domain.Holding) int { return cmp.Compare(a.Stock, b.Stock) })
	return out, nil
}

// positionsBatch is how many positions hashes AllPositions reads in one
// pipelined round.
const positionsBatch = 500

// AllPositions scans every node for the positions hashes (every master of
// a cluster holds some), then reads them positionsBatch at a time, one
// pipelined round of HGETALL each (one HGETALL is one atomic read of a
// user's positions).
func (s *CreditStore) AllPositions(ctx context.Context, each func(user string, holdings []domain.Holding) error) error {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return fmt.Errorf("list positions: %w", err)
	}
	keys, err := scanKeys(ctx, client, positionsPrefix+"*", "hash")
	if err != nil {
		return fmt.Errorf("list positions: %w", err)
	}
	for batch := range slices.Chunk(keys, positionsBatch) {
		cmds := make(rueidis.Commands, len(batch))
		for i, k := range batch {
			cmds[i] = client.B().Hgetall().Key(k).Build()
		}
		for i, r := range client.DoMulti(ctx, cmds...) {
			user, ok := userOf(batch[i], positionsPrefix)
			if !ok {
				continue // matched the pattern, but not a key of ours
			}
			holdings, err := readHoldings(user, r)
			if err != nil {
				return err
			}
			if len(holdings) == 0 {
				continue // emptied since the scan, or only "0:0"
			}
			if err := each(user, holdings); err != nil {
				return err
			}
		}
	}
	return nil
}

// PositionsOf reads user's positions hash in one HGETALL.
func (s *CreditStore) PositionsOf(ctx context.Context, user string) ([]domain.Holding, error) {
	client, err := s.clients.Client(ctx)
	if err != nil {
		return nil, fmt.Errorf("read positions of %s: %w", user, err)
	}
	return readHoldings(user, client.Do(ctx, client.B().Hgetall().Key(positionsKeyOf(user)).Build()))
}

// readHoldings reads the reply of an HGETALL of user's positions hash.
func readHoldings(user string, r rueidis.RedisResult) ([]domain.Holding, error) {
	fields, err := r.AsStrMap()
	if err != nil && !rueidis.IsRedisNil(err) {
		return nil, fmt.Errorf("read positions of %s: %w", user, translate(err))
	}
	return holdingsOf(user, fields)
}

// SetPositions is one script (lua/set_positions.lua): it compares the
// stored positions with was, as read_position reads them, and only if
// they agree replaces them with holdings, in the user's slot. With
// WaitForReplicas it waits for the replicas as a trade does.
func (s *CreditStore) SetPositions(ctx context.Context, user string, was, holdings []domain.Holding) error {
	args := appendPositions([]string{""}, was)
	args[0] = strconv.Itoa((len(args) - 1) / 2)
	args = appendPositions(args, holdings)
	reply, err := s.write(ctx, setPositionsScript, []string{positionsKeyOf(user)}, args)
	if err != nil {
		return fmt.Errorf("set positions of %s: %w", user, err)
	}
	switch {
	case len(reply) == 1 && reply[0] == "ok":
		return nil
	case len(reply) == 1 && reply[0] == "changed":
		return fmt.Errorf("set positions of %s: %w", user, ports.ErrPositionsChanged)
	}
	return fmt.Errorf("set positions of %s: unexpected reply %q", user, reply)
}

// appendPositions appends the stock and stored value of every position of
// hs with shares: the value as the trade scripts write it.
func appendPositions(args []string, hs []domain.Holding) []string {
	for _, h := range hs {
		if !h.Position.Empty() {
			args = append(args, h.Stock, positionValue(h.Position))
		}
	}
	return args
}

// positionValue is p as stored: "quantity:cost_basis", canonical decimal.
func positionValue(p domain.Position) string {
	return strconv.FormatInt(p.Quantity(), 10) + ":" + strconv.FormatInt(p.CostBasis(), 10)
}

// parsePosition reads a stored position, "quantity:cost_basis", as
// read_position of lua/position.lua reads it (FuzzPositionRecord): two
// runs of ASCII digits (leading zeros allowed) of at most 2^63-1 each,
// joined by one ':', making a position by domain.NewPosition's rules.
func parsePosition(v string) (domain.Position, error) {
	q, c, ok := strings.Cut(v, ":")
	if !ok || !allDigits(q) || !allDigits(c) {
		return domain.Position{}, fmt.Errorf("%w: %q", domain.ErrBadPosition, v)
	}
	quantity, errQ := strconv.ParseInt(q, 10, 64)
	cost, errC := strconv.ParseInt(c, 10, 64)
	if errQ != nil || errC != nil {
		return domain.Position{}, fmt.Errorf("%w: %q", domain.ErrBadPosition, v)
	}
	return domain.NewPosition(quantity, cost)
}

// allDigits reports whether s is one or more ASCII digits (what Lua's %d+
// matches in Redis's C locale): strconv.ParseInt alone would take a sign.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
