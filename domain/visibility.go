package domain

import (
	"errors"
	"time"
)

// MinVisibleDeniedQuantity is the smallest quantity at which a denied order
// is listed: denied orders for fewer shares are noise.
const MinVisibleDeniedQuantity = 10

// Visibility is the rule that decides which orders are listed, fixed at one
// instant: accepted orders, and orders created on that instant's day in the
// service's time zone, except denied orders below MinVisibleDeniedQuantity.
// It is data, so that a store can translate it (to SQL) and a test can prove
// the translation agrees with Visible.
type Visibility struct {
	dayStart time.Time // the start of "today", inclusive
	dayEnd   time.Time // the start of tomorrow, exclusive
}

// DayStart is the start of the rule's "today" (inclusive), in UTC.
func (v Visibility) DayStart() time.Time { return v.dayStart }

// DayEnd is the start of the day after the rule's "today" (exclusive), in
// UTC.
func (v Visibility) DayEnd() time.Time { return v.dayEnd }

// VisibleAt fixes the rule at now, judging "today" in loc. A day is not
// always 24 hours long (daylight saving), so its end is the next midnight.
func VisibleAt(now time.Time, loc *time.Location) Visibility {
	local := now.In(loc)
	y, m, d := local.Date()
	return Visibility{
		dayStart: time.Date(y, m, d, 0, 0, 0, 0, loc).UTC(),
		dayEnd:   time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC(),
	}
}

// Visible reports whether o is listed.
func (v Visibility) Visible(o Order) bool {
	if o.status == Denied && o.quantity < MinVisibleDeniedQuantity {
		return false
	}
	return o.status == Accepted || (!o.createdAt.Before(v.dayStart) && o.createdAt.Before(v.dayEnd))
}

// OrderPosition is a place in the listing order: newest creation time
// first, ties broken by the higher ID first.
type OrderPosition struct {
	CreatedAt time.Time
	ID        int64
}

// Position returns where o stands in the listing order.
func (o Order) Position() OrderPosition { return OrderPosition{CreatedAt: o.createdAt, ID: o.id} }

// Before reports whether p is listed before q.
func (p OrderPosition) Before(q OrderPosition) bool {
	if !p.CreatedAt.Equal(q.CreatedAt) {
		return p.CreatedAt.After(q.CreatedAt)
	}
	return p.ID > q.ID
}

// ListingLess orders a listing: it is the comparison to sort orders with.
func ListingLess(a, b Order) int {
	switch {
	case a.Position().Before(b.Position()):
		return -1
	case b.Position().Before(a.Position()):
		return 1
	}
	return 0
}

// Page sizes of the listing.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ErrBadPageSize reports a page size out of 1..MaxPageSize.
var ErrBadPageSize = errors.New("limit must be between 1 and 1000")

// ValidatePageSize checks a page size asked for by a caller.
func ValidatePageSize(n int) error {
	if n < 1 || n > MaxPageSize {
		return ErrBadPageSize
	}
	return nil
}

// OrderQuery asks a store for a stretch of the listing: the orders visible
// under Visibility that stand after After (from the top when there is no
// After), at most Limit of them, of User only when User is set. Keeping the
// Visibility of the first page in every following page is what makes paging
// consistent across midnight.
type OrderQuery struct {
	visibility Visibility
	after      OrderPosition
	hasAfter   bool
	limit      int
	user       string // "" for every user's orders
	side       Side   // "" for both sides
}

// NewOrderQuery validates a query. Limit may exceed MaxPageSize by one, so
// that a caller can tell whether another page follows. A nil after starts
// from the top; the query keeps a copy of *after.
func NewOrderQuery(v Visibility, after *OrderPosition, limit int) (OrderQuery, error) {
	if limit < 1 || limit > MaxPageSize+1 {
		return OrderQuery{}, ErrBadPageSize
	}
	q := OrderQuery{visibility: v, limit: limit}
	if after != nil {
		q.after, q.hasAfter = *after, true
	}
	return q, nil
}

// OfUser narrows q to the orders of user ("" for all).
func (q OrderQuery) OfUser(user string) OrderQuery { q.user = user; return q }

// OfSide narrows q to the orders of side ("" for both): the listing rule
// is the same for buys and sales.
func (q OrderQuery) OfSide(side Side) OrderQuery { q.side = side; return q }

// Side is the side asked for, "" for both.
func (q OrderQuery) Side() Side { return q.side }

// Visibility is the rule that decides which orders are listed.
func (q OrderQuery) Visibility() Visibility { return q.visibility }

// After is the position the stretch starts after; ok is false for a query
// from the top of the listing.
func (q OrderQuery) After() (after OrderPosition, ok bool) { return q.after, q.hasAfter }

// Limit is the most orders the stretch holds.
func (q OrderQuery) Limit() int { return q.limit }

// User is the user whose orders are asked for, "" for every user's.
func (q OrderQuery) User() string { return q.user }

// Matches reports whether o belongs to the page range of q (visibility and
// cursor, not the limit).
func (q OrderQuery) Matches(o Order) bool {
	return q.visibility.Visible(o) && (!q.hasAfter || q.after.Before(o.Position())) &&
		(q.user == "" || o.user == q.user) && (q.side == "" || o.side == q.side)
}
