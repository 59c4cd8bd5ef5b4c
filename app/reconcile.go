package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"stockd/domain"
	"stockd/ports"
)

// ErrLedgerOversold marks a difference that Repair leaves alone: the
// accepted orders sell more shares than they buy (see
// domain.PositionLedger.Oversold), so they say no position to set.
var ErrLedgerOversold = errors.New("the accepted orders sell more shares than they buy")

// Reconcile compares every user's positions in the credit store with the
// ledger of the order store, and repairs them from it (stockd reconcile).
//
// The ledger of a user's stock is its accepted orders replayed by
// domain.PositionLedger: the quantity is what the buys bought less what
// the sales sold, and the cost basis follows the average-cost rule in
// creation order. The accepted orders are those of the order store and
// the pending orders of the credit store that it does not hold yet: a
// trade writes its position and its pending order in one step and is
// recorded a moment later (or, after a crash, by the settler), so a
// pending order is a trade the positions already count.
//
// Quantity and cost basis are both compared: a position differs when
// either does, or when its orders cannot be replayed at all (oversold, or
// past 2^63-1). Credit is not reconciled: it is the seeded credit less the
// buys plus the sales, and the seeded credit is nowhere stored.
//
// The two stores are read one after the other, while trades may go on.
// Positions are read first, then the pending orders, then the ledger, so
// that every trade judged before a user's positions were read is in the
// ledger (pending when the pending orders are read, or recorded before it
// was settled); only a trade judged after that read can make a difference
// that is not one. Every user with a difference is read again, in the same
// order, once the whole pass is done, and only what differs both times is
// reported (Transient counts the rest). Repair sets a user's positions
// only if they are still what that second read found (a compare-and-set),
// so a trade that came between is never overwritten; that user is left
// for the next run.
//
// A pass holds every position read in memory, and the orders of one
// user's stock while it merges pending orders into them.
type Reconcile struct {
	positions ports.PositionLister
	setter    ports.PositionSetter
	pending   ports.PendingLister
	ledger    ports.LedgerReader
}

// NewReconcile wires the use case: positions and setter are the credit
// store's positions, pending its pending orders, ledger the order store's
// accepted orders.
func NewReconcile(positions ports.PositionLister, setter ports.PositionSetter, pending ports.PendingLister, ledger ports.LedgerReader) (*Reconcile, error) {
	if err := requireAll(map[string]any{"position lister": positions, "position setter": setter, "pending orders": pending, "ledger": ledger}); err != nil {
		return nil, err
	}
	return &Reconcile{positions: positions, setter: setter, pending: pending, ledger: ledger}, nil
}

// PositionDifference is a user's position in a stock that the credit
// store holds (Held: empty when it holds none) and that the ledger says
// otherwise (Ledger).
type PositionDifference struct {
	User, Stock string
	Held        domain.Position
	// Ledger is the position the accepted orders leave. When Oversold or
	// LedgerErr is set, it is only what they leave before the fault.
	Ledger domain.Position
	// Oversold is the shares the accepted orders sell beyond their buys;
	// LedgerErr is set when buys pass 2^63-1 (domain.ErrLedgerOverflow).
	// Either is a fault of the records that a person has to look at:
	// Repair leaves such a position alone.
	Oversold  int64
	LedgerErr error
	// Repaired, after Repair, says the position is now Ledger; otherwise
	// NotRepaired says why not (ErrLedgerOversold, LedgerErr,
	// ports.ErrPositionsChanged, a store error). Both are zero after
	// Check.
	Repaired    bool
	NotRepaired error
}

// Reconciliation is what Check or Repair found.
type Reconciliation struct {
	// Users and Positions count what was compared: the users, and the
	// positions (a user's stock), that the credit store or the ledger has.
	Users, Positions int
	// Differences are the positions that differed on both reads, by user
	// and stock.
	Differences []PositionDifference
	// Transient counts the differences of the first read that the second
	// did not find again: trades in flight.
	Transient int
}

// Check compares and reports; it writes nothing.
func (r *Reconcile) Check(ctx context.Context) (Reconciliation, error) {
	rec, _, err := r.compare(ctx)
	return rec, err
}

// Repair compares, then sets the positions of each user with a difference
// to the ledger's (the user's other positions as they were), and reports
// what it changed and what it could not.
func (r *Reconcile) Repair(ctx context.Context) (Reconciliation, error) {
	rec, books, err := r.compare(ctx)
	if err != nil {
		return rec, err
	}
	for diffs := range byUser(rec.Differences) {
		user := diffs[0].User
		was := books.held[user]
		want := map[string]domain.Position{}
		for _, h := range was {
			want[h.Stock] = h.Position
		}
		repairable := false
		for i := range diffs {
			switch d := &diffs[i]; {
			case d.LedgerErr != nil:
				d.NotRepaired = d.LedgerErr
			case d.Oversold > 0:
				d.NotRepaired = ErrLedgerOversold
			default:
				want[d.Stock] = d.Ledger
				repairable = true
			}
		}
		if !repairable {
			continue
		}
		err := r.setter.SetPositions(ctx, user, was, holdingsOf(want))
		if ctx.Err() != nil {
			return rec, ctx.Err()
		}
		for i := range diffs {
			if d := &diffs[i]; d.NotRepaired == nil {
				d.Repaired, d.NotRepaired = err == nil, err
			}
		}
	}
	return rec, nil
}

// compare reads everything once, and the users with a difference again,
// and returns what differed both times with the books of the second read.
func (r *Reconcile) compare(ctx context.Context) (Reconciliation, *books, error) {
	first, err := r.read(ctx, nil)
	if err != nil {
		return Reconciliation{}, nil, err
	}
	rec := Reconciliation{Users: first.users(), Positions: len(first.pairs())}
	diffs := first.differences()
	if len(diffs) == 0 {
		return rec, first, nil
	}
	var users []string
	for ds := range byUser(diffs) {
		users = append(users, ds[0].User)
	}
	if len(users) > maxRecheckedUsers {
		users = nil // one more pass costs less than a round trip per user
	}
	second, err := r.read(ctx, users)
	if err != nil {
		return Reconciliation{}, nil, err
	}
	again := map[pair]PositionDifference{}
	for _, d := range second.differences() {
		again[pair{d.User, d.Stock}] = d
	}
	for _, d := range diffs {
		if d2, ok := again[pair{d.User, d.Stock}]; ok {
			rec.Differences = append(rec.Differences, d2)
		}
	}
	rec.Transient = len(diffs) - len(rec.Differences)
	return rec, second, nil
}

// maxRecheckedUsers is how many users with a difference are read again
// one by one; with more (the first run after an upgrade from a version
// without positions: everyone who ever bought), everything is read again.
const maxRecheckedUsers = 1000

// pair is a user's stock.
type pair struct{ user, stock string }

// books are the two sides of one read: the positions held, by user, as
// read (what Repair's compare-and-set expects), and the ledger of each
// user's stock.
type books struct {
	held   map[string][]domain.Holding
	ledger map[pair]domain.PositionLedger
}

// read reads the positions, then the pending orders, then the ledger (see
// Reconcile for why in that order): of users, or of everyone when users
// is nil.
func (r *Reconcile) read(ctx context.Context, users []string) (*books, error) {
	b := &books{held: map[string][]domain.Holding{}}
	if users == nil {
		err := r.positions.AllPositions(ctx, func(user string, hs []domain.Holding) error {
			b.held[user] = hs
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read positions: %w", err)
		}
	}
	for _, u := range users {
		hs, err := r.positions.PositionsOf(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("read positions: %w", err)
		}
		b.held[u] = hs
	}
	pending, err := r.pending.PendingOrders(ctx)
	if err != nil {
		return nil, fmt.Errorf("read pending orders: %w", err)
	}
	f := newLedgerFold(pending, users)
	if users == nil {
		users = []string{""} // everyone's, in one reading
	}
	for _, u := range users {
		if err := r.ledger.AcceptedOrders(ctx, u, f.add); err != nil {
			return nil, fmt.Errorf("read the ledger: %w", err)
		}
	}
	b.ledger = f.finish()
	return b, nil
}

// pairs is every user's stock that the positions or the ledger have.
func (b *books) pairs() map[pair]bool {
	out := map[pair]bool{}
	for user, hs := range b.held {
		for _, h := range hs {
			out[pair{user, h.Stock}] = true
		}
	}
	for p := range b.ledger {
		out[p] = true
	}
	return out
}

// users counts the users that the positions or the ledger have.
func (b *books) users() int {
	seen := map[string]bool{}
	for p := range b.pairs() {
		seen[p.user] = true
	}
	return len(seen)
}

// differences lists the pairs whose position held is not the ledger's,
// by user and stock.
func (b *books) differences() []PositionDifference {
	held := map[pair]domain.Position{}
	for user, hs := range b.held {
		for _, h := range hs {
			held[pair{user, h.Stock}] = h.Position
		}
	}
	var out []PositionDifference
	for p := range b.pairs() {
		l := b.ledger[p]
		if held[p] == l.Position() && l.Oversold() == 0 && l.Err() == nil {
			continue
		}
		out = append(out, PositionDifference{
			User: p.user, Stock: p.stock, Held: held[p], Ledger: l.Position(), Oversold: l.Oversold(), LedgerErr: l.Err(),
		})
	}
	slices.SortFunc(out, func(a, b PositionDifference) int {
		return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Stock, b.Stock))
	})
	return out
}

// ledgerFold replays the ledger as the order store streams it, one
// user's stock after another, with the pending orders it does not hold
// yet merged in.
type ledgerFold struct {
	pending map[pair][]domain.Order // accepted pending orders, by user's stock
	done    map[pair]domain.PositionLedger
	cur     pair
	open    bool
	replay  domain.PositionLedger // of cur, when it has no pending order
	group   []domain.Order        // of cur, when it has: merged at its end
}

// newLedgerFold keeps the accepted pending orders of users (everyone's
// when nil).
func newLedgerFold(pending []ports.PendingOrder, users []string) *ledgerFold {
	f := &ledgerFold{pending: map[pair][]domain.Order{}, done: map[pair]domain.PositionLedger{}}
	for _, p := range pending {
		o := p.Order
		if o.Status() == domain.Accepted && (users == nil || slices.Contains(users, o.User())) {
			k := pair{o.User(), o.Stock()}
			f.pending[k] = append(f.pending[k], o)
		}
	}
	return f
}

// add takes the next order of the ledger.
func (f *ledgerFold) add(o domain.Order) error {
	k := pair{o.User(), o.Stock()}
	if !f.open || k != f.cur {
		f.close()
		if _, seen := f.done[k]; seen {
			return fmt.Errorf("the orders of %s in %s did not come together", k.user, k.stock)
		}
		f.cur, f.open = k, true
	}
	if len(f.pending[k]) > 0 {
		f.group = append(f.group, o)
	} else {
		f.replay.Apply(o)
	}
	return nil
}

// close ends the current user's stock: with pending orders, those the
// order store does not hold are merged into its orders by creation time
// (after the recorded orders of the same instant), and all are replayed.
func (f *ledgerFold) close() {
	if !f.open {
		return
	}
	if pending := f.pending[f.cur]; len(pending) > 0 {
		recorded := map[string]bool{}
		for _, o := range f.group {
			recorded[o.Key()] = true
		}
		orders := f.group
		for _, o := range pending {
			if !recorded[o.Key()] {
				orders = append(orders, o)
			}
		}
		delete(f.pending, f.cur)
		f.replay = replayed(orders)
	}
	f.done[f.cur] = f.replay
	f.open, f.replay, f.group = false, domain.PositionLedger{}, nil
}

// finish closes the last user's stock and replays the pending orders of
// those the order store has no order of, and returns every ledger.
func (f *ledgerFold) finish() map[pair]domain.PositionLedger {
	f.close()
	for k, orders := range f.pending {
		f.done[k] = replayed(orders)
	}
	return f.done
}

// replayed is the ledger of orders in creation order: by creation time,
// then recorded orders (by ID) before pending ones (by key).
func replayed(orders []domain.Order) domain.PositionLedger {
	slices.SortStableFunc(orders, func(a, b domain.Order) int {
		return cmp.Or(a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(recordedID(a), recordedID(b)), cmp.Compare(a.Key(), b.Key()))
	})
	var l domain.PositionLedger
	for _, o := range orders {
		l.Apply(o)
	}
	return l
}

// recordedID orders recorded orders by ID before pending ones, which have
// none.
func recordedID(o domain.Order) uint64 {
	if o.ID() == 0 {
		return ^uint64(0)
	}
	return uint64(o.ID())
}

// byUser yields the runs of diffs (sorted by user) of one user each, as
// slices of diffs itself.
func byUser(diffs []PositionDifference) func(yield func([]PositionDifference) bool) {
	return func(yield func([]PositionDifference) bool) {
		for start := 0; start < len(diffs); {
			end := start + 1
			for end < len(diffs) && diffs[end].User == diffs[start].User {
				end++
			}
			if !yield(diffs[start:end]) {
				return
			}
			start = end
		}
	}
}

// holdingsOf is positions as holdings in stock name order, the empty ones
// left out.
func holdingsOf(positions map[string]domain.Position) []domain.Holding {
	var out []domain.Holding
	for _, stock := range slices.Sorted(maps.Keys(positions)) {
		if p := positions[stock]; !p.Empty() {
			out = append(out, domain.Holding{Stock: stock, Position: p})
		}
	}
	return out
}
