package domain_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"stockd/domain"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	const max = math.MaxInt64
	tests := []struct {
		name               string
		credit, price, qty int64
		want               domain.Status
		wantLeft           int64
	}{
		{"exactly covered", 1000, 10, 100, domain.Accepted, 0},
		{"one short", 999, 10, 100, domain.Denied, 999},
		{"plenty", 150000000, 1054, 100, domain.Accepted, 150000000 - 105400},
		{"zero credit", 0, 1, 1, domain.Denied, 0},
		{"product is max int64", max, 1, max, domain.Accepted, 0},
		{"product one past int64", max, 2, max/2 + 1, domain.Denied, max},
		{"product wraps to small value", max, 1 << 32, 1 << 32, domain.Denied, max},
		{"product wraps 2^64 exactly", max, 1 << 62, 4, domain.Denied, max},
		{"max times max", max, max, max, domain.Denied, max},
		{"zero quantity is never accepted", 10, 1, 0, domain.Denied, 10},
		{"negative quantity is never accepted", 10, 1, -5, domain.Denied, 10},
		{"negative credit is never accepted", -1, 1, 1, domain.Denied, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := domain.Judge(tt.credit, tt.price, tt.qty)
			if j.Status != tt.want || j.CreditLeft != tt.wantLeft {
				t.Fatalf("Judge(%d, %d, %d) = %+v, want %s leaving %d", tt.credit, tt.price, tt.qty, j, tt.want, tt.wantLeft)
			}
		})
	}
}

// TestJudgeAgreesWithBigArithmetic checks the overflow boundary on random
// values against float-free 128-bit reasoning: accept iff price×qty <= credit.
func TestJudgeAgreesWithBigArithmetic(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		price := 1 + r.Int64N(math.MaxInt64)>>r.IntN(63)
		qty := 1 + r.Int64N(math.MaxInt64)>>r.IntN(63)
		credit := r.Int64N(math.MaxInt64) >> r.IntN(63)
		// qty <= credit/price  <=>  price*qty <= credit, for positive ints.
		want := qty <= credit/price
		j := domain.Judge(credit, price, qty)
		if (j.Status == domain.Accepted) != want {
			t.Fatalf("Judge(%d, %d, %d) = %s, want accept=%v", credit, price, qty, j.Status, want)
		}
		if want && j.CreditLeft != credit-price*qty {
			t.Fatalf("credit left %d, want %d", j.CreditLeft, credit-price*qty)
		}
	}
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func mustOrder(t *testing.T, id int64, status domain.Status, qty int64, created time.Time) domain.Order {
	t.Helper()
	o, err := domain.OrderFromStore(id, "k", "u", "s", status, 100, qty, created)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestVisibility(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC) // 00:30 on the 27th in Paris
	yesterdayParis := time.Date(2026, 11, 26, 22, 59, 0, 0, time.UTC)
	todayParis := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		status  domain.Status
		qty     int64
		created time.Time
		loc     *time.Location
		want    bool
	}{
		{"accepted long ago", domain.Accepted, 1, now.AddDate(-1, 0, 0), time.UTC, true},
		{"denied today qty 10", domain.Denied, 10, now.Add(-time.Hour), time.UTC, true},
		{"denied today qty 9", domain.Denied, 9, now.Add(-time.Hour), time.UTC, false},
		{"denied yesterday qty 100", domain.Denied, 100, now.AddDate(0, 0, -1), time.UTC, false},
		{"denied at UTC midnight", domain.Denied, 10, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), time.UTC, true},
		{"denied just before UTC midnight", domain.Denied, 10, time.Date(2026, 11, 25, 23, 59, 59, 999999000, time.UTC), time.UTC, false},
		{"denied tomorrow", domain.Denied, 10, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), time.UTC, false},
		{"Paris: denied before its midnight", domain.Denied, 50, yesterdayParis, paris, false},
		{"Paris: denied at its midnight", domain.Denied, 50, todayParis, paris, true},
		{"accepted qty 1 is listed", domain.Accepted, 1, now, time.UTC, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := mustOrder(t, 1, tt.status, tt.qty, tt.created)
			if got := domain.VisibleAt(now, tt.loc).Visible(o); got != tt.want {
				t.Fatalf("Visible = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVisibleAtDaylightSaving(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-01 is 25 hours long in New York.
	v := domain.VisibleAt(time.Date(2026, 11, 1, 12, 0, 0, 0, ny), ny)
	if d := v.DayEnd().Sub(v.DayStart()); d != 25*time.Hour {
		t.Fatalf("day length = %v, want 25h", d)
	}
}

func TestListingOrder(t *testing.T) {
	t.Parallel()
	orders := []domain.Order{
		mustOrder(t, 1, domain.Accepted, 1, t0),
		mustOrder(t, 2, domain.Accepted, 1, t0.Add(time.Second)),
		mustOrder(t, 3, domain.Accepted, 1, t0),
		mustOrder(t, 4, domain.Accepted, 1, t0.Add(-time.Second)),
	}
	slices.SortFunc(orders, domain.ListingLess)
	var ids []int64
	for _, o := range orders {
		ids = append(ids, o.ID())
	}
	if want := []int64{2, 3, 1, 4}; !slices.Equal(ids, want) {
		t.Fatalf("order = %v, want %v", ids, want)
	}
}

func TestNewOrderValidates(t *testing.T) {
	t.Parallel()
	if _, err := domain.NewOrder("k", "u", "s", domain.Accepted, 1, 0, t0); err == nil {
		t.Error("quantity 0 accepted")
	}
	if _, err := domain.NewOrder("k", "", "s", domain.Accepted, 1, 1, t0); err == nil {
		t.Error("empty user accepted")
	}
	if _, err := domain.NewOrder("k", "u", "s", "maybe", 1, 1, t0); err == nil {
		t.Error("unknown status accepted")
	}
	o, err := domain.NewOrder("k", "u", "s", domain.Accepted, 1, 1, t0.Add(1234*time.Nanosecond))
	if err != nil || o.CreatedAt() != t0.Add(time.Microsecond) {
		t.Errorf("CreatedAt = %v, %v; want cut to microseconds", o.CreatedAt(), err)
	}
	if _, err := domain.NewOrderQuery(domain.VisibleAt(t0, time.UTC), nil, 0); err == nil {
		t.Error("limit 0 accepted")
	}
	if _, err := domain.NewOrderQuery(domain.VisibleAt(t0, time.UTC), nil, 1002); err == nil {
		t.Error("limit 1002 accepted")
	}
	for n, ok := range map[int]bool{0: false, 1: true, 1000: true, 1001: false, -1: false} {
		if err := domain.ValidatePageSize(n); (err == nil) != ok {
			t.Errorf("ValidatePageSize(%d) = %v", n, err)
		}
	}
}

func TestOrderQueryOfUser(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	o, err := domain.NewOrder("k1", "user2", "stock1", domain.Accepted, 10, 1, now)
	if err != nil {
		t.Fatal(err)
	}
	q, err := domain.NewOrderQuery(domain.VisibleAt(now, time.UTC), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user string
		want bool
	}{{"", true}, {"user2", true}, {"user1", false}, {"User2", false}} {
		if got := q.OfUser(tc.user).Matches(o); got != tc.want {
			t.Errorf("user %q: matches %v, want %v", tc.user, got, tc.want)
		}
	}
	if q.User() != "" {
		t.Errorf("OfUser changed its receiver: %q", q.User())
	}
}

// TestOrderQueryKeepsItsCursor: a query holds a copy of the position it
// was given, so a caller that reuses its cursor variable cannot move a
// query already built (and a query's After cannot be changed either).
func TestOrderQueryKeepsItsCursor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cursor := domain.OrderPosition{CreatedAt: now, ID: 7}
	q, err := domain.NewOrderQuery(domain.VisibleAt(now, time.UTC), &cursor, 10)
	if err != nil {
		t.Fatal(err)
	}
	cursor.ID = 99
	after, ok := q.After()
	if !ok || after != (domain.OrderPosition{CreatedAt: now, ID: 7}) {
		t.Fatalf("After = %+v, %v; want the position given to NewOrderQuery", after, ok)
	}
	after.ID = 99
	if again, _ := q.After(); again.ID != 7 {
		t.Fatalf("changing After's result changed the query: %+v", again)
	}
	top, err := domain.NewOrderQuery(domain.VisibleAt(now, time.UTC), nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := top.After(); ok {
		t.Fatal("a query from the top has an After")
	}
}
