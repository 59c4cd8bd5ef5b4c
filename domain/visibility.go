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
	DayStart time.Time // the start of "today", inclusive
	DayEnd   time.Time // the start of tomorrow, exclusive
}

// VisibleAt fixes the rule at now, judging "today" in loc. A day is not
// always 24 hours long (daylight saving), so its end is the next midnight.
func VisibleAt(now time.Time, loc *time.Location) Visibility {
	local := now.In(loc)
	y, m, d := local.Date()
	return Visibility{
		DayStart: time.Date(y, m, d, 0, 0, 0, 0, loc).UTC(),
		DayEnd:   time.Date(y, m, d+1, 0, 0, 0, 0, loc).UTC(),
	}
}

// Visible reports whether o is listed.
func (v Visibility) Visible(o Order) bool {
	if o.status == Denied && o.quantity < MinVisibleDeniedQuantity {
		return false
	}
	return o.status == Accepted || (!o.createdAt.Before(v.DayStart) && o.createdAt.Before(v.DayEnd))
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
// under Visibility that stand after After (from the top when After is nil),
// at most Limit of them, of User only when User is set. Keeping the
// Visibility of the first page in every following page is what makes paging
// consistent across midnight.
type OrderQuery struct {
	Visibility Visibility
	After      *OrderPosition
	Limit      int
	User       string // "" for every user's orders
}

// OfUser narrows q to the orders of user ("" for all).
func (q OrderQuery) OfUser(user string) OrderQuery { q.User = user; return q }

// NewOrderQuery validates a query. Limit may exceed MaxPageSize by one, so
// that a caller can tell whether another page follows.
func NewOrderQuery(v Visibility, after *OrderPosition, limit int) (OrderQuery, error) {
	if limit < 1 || limit > MaxPageSize+1 {
		return OrderQuery{}, ErrBadPageSize
	}
	return OrderQuery{Visibility: v, After: after, Limit: limit}, nil
}

// Matches reports whether o belongs to the page range of q (visibility and
// cursor, not the limit).
func (q OrderQuery) Matches(o Order) bool {
	return q.Visibility.Visible(o) && (q.After == nil || q.After.Before(o.Position())) &&
		(q.User == "" || o.user == q.User)
}
