package redis

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

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
	out := ports.Portfolio{Credit: credit, Holdings: make([]domain.Holding, 0, (len(reply)-2)/2)}
	for i := 2; i < len(reply); i += 2 {
		p, err := parsePosition(reply[i+1])
		if err != nil {
			return ports.Portfolio{}, fmt.Errorf("position of %s in %s: %w", user, reply[i], err)
		}
		if !p.Empty() { // written by another tool: "0:0" holds nothing
			out.Holdings = append(out.Holdings, domain.Holding{Stock: reply[i], Position: p})
		}
	}
	slices.SortFunc(out.Holdings, func(a, b domain.Holding) int { return cmp.Compare(a.Stock, b.Stock) })
	return out, nil
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
