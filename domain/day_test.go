package domain_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has installed

	"stockd/domain"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestParseDay(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want domain.Day
		err  error
	}{
		{"2026-03-02", 20260302, nil},
		{"0001-01-01", 10101, nil},
		{"9999-12-31", 99991231, nil},
		{"2024-02-29", 20240229, nil}, // leap year
		{"2026-02-29", 0, domain.ErrBadDay},
		{"2100-02-29", 0, domain.ErrBadDay}, // a century is no leap year
		{"2000-02-29", 20000229, nil},       // but every fourth century is
		{"2026-04-31", 0, domain.ErrBadDay},
		{"2026-13-01", 0, domain.ErrBadDay},
		{"2026-00-10", 0, domain.ErrBadDay},
		{"2026-01-00", 0, domain.ErrBadDay},
		{"0000-01-01", 0, domain.ErrBadDay},
		{"2026-3-02", 0, domain.ErrBadDay},
		{"2026/03/02", 0, domain.ErrBadDay},
		{"20260302", 0, domain.ErrBadDay},
		{"2026-03-02T00:00:00Z", 0, domain.ErrBadDay},
		{"2026-0a-02", 0, domain.ErrBadDay},
		{"+026-03-02", 0, domain.ErrBadDay},
		{"", 0, domain.ErrBadDay},
	} {
		got, err := domain.ParseDay(c.in)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("ParseDay(%q) = %v, %v; want %v, %v", c.in, int32(got), err, int32(c.want), c.err)
		}
	}
}

func TestNewDay(t *testing.T) {
	t.Parallel()
	if d, err := domain.NewDay(2026, time.March, 2); d != 20260302 || err != nil {
		t.Fatalf("NewDay(2026-03-02) = %v, %v", d, err)
	}
	for _, c := range [][3]int{{2026, 2, 29}, {2026, 0, 1}, {2026, 13, 1}, {0, 1, 1}, {10000, 1, 1}, {2026, 1, 32}} {
		if _, err := domain.NewDay(c[0], time.Month(c[1]), c[2]); !errors.Is(err, domain.ErrBadDay) {
			t.Errorf("NewDay(%v) err = %v, want ErrBadDay", c, err)
		}
	}
}

func TestDayStringAndAppend(t *testing.T) {
	t.Parallel()
	if s := domain.Day(20260302).String(); s != "2026-03-02" {
		t.Fatalf("String = %q", s)
	}
	if s := domain.Day(10101).String(); s != "0001-01-01" {
		t.Fatalf("String of year 1 = %q", s)
	}
	if s := domain.Day(0).String(); s != "" {
		t.Fatalf("String of no day = %q, want empty", s)
	}
	if b := domain.Day(20261129).AppendTo([]byte("d=")); string(b) != "d=2026-11-29" {
		t.Fatalf("AppendTo = %q", b)
	}
}

// randomDay is a real date between the years 1900 and 2199.
func randomDay(r *rand.Rand) domain.Day {
	return domain.DayOf(time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(300*366)))
}

// TestDayProperties: formatting and parsing are inverse, days order as
// their dates do, and AddDays agrees with the calendar of package time.
func TestDayProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		d, e := randomDay(r), randomDay(r)
		if back, err := domain.ParseDay(d.String()); back != d || err != nil {
			t.Fatalf("ParseDay(%q) = %v, %v", d, back, err)
		}
		y, m, dd := d.Date()
		when := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
		ey, em, edd := e.Date()
		if (d < e) != when.Before(time.Date(ey, em, edd, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("%v < %v disagrees with the calendar", d, e)
		}
		n := r.IntN(2000) - 1000
		if got, want := d.AddDays(n), domain.DayOf(when.AddDate(0, 0, n)); got != want {
			t.Fatalf("%v.AddDays(%d) = %v, want %v", d, n, got, want)
		}
		if got := d.AddDays(n).AddDays(-n); got != d {
			t.Fatalf("%v + %d - %d = %v", d, n, n, got)
		}
	}
}

func TestAddDaysAcrossBoundaries(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		from domain.Day
		n    int
		want domain.Day
	}{
		{20261231, 1, 20270101},
		{20270101, -1, 20261231},
		{20240228, 1, 20240229},
		{20260228, 1, 20260301},
		{20260302, -30, 20260131},
		{20260302, 0, 20260302},
	} {
		if got := c.from.AddDays(c.n); got != c.want {
			t.Errorf("%v.AddDays(%d) = %v, want %v", c.from, c.n, got, c.want)
		}
	}
}

// TestDayOfAcrossZones: one instant is on different days in different
// zones, which is why a tick's day is judged in APP_TIMEZONE.
func TestDayOfAcrossZones(t *testing.T) {
	t.Parallel()
	instant := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		zone string
		want domain.Day
	}{
		{"UTC", 20260301},
		{"Asia/Tokyo", 20260302},       // +09:00
		{"America/New_York", 20260301}, // -05:00
		{"Pacific/Kiritimati", 20260302},
		{"Pacific/Pago_Pago", 20260301},
	} {
		if got := domain.DayOf(instant.In(zone(t, c.zone))); got != c.want {
			t.Errorf("DayOf(%v in %s) = %v, want %v", instant, c.zone, got, c.want)
		}
	}
	// Day.At is the inverse: the instant of a day and time in a zone.
	tokyo := zone(t, "Asia/Tokyo")
	if got := domain.Day(20260302).At(8*3600+30*60, tokyo); !got.Equal(instant) {
		t.Fatalf("At = %v, want %v", got, instant)
	}
	// On a day that loses an hour (New York, 2026-03-08), 12:00 is still
	// 12:00 local: At counts the time of day on the wall clock.
	ny := zone(t, "America/New_York")
	if got := domain.Day(20260308).At(12*3600, ny); got.Hour() != 12 || got.Day() != 8 {
		t.Fatalf("At across DST = %v", got)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	tokyo := zone(t, "Asia/Tokyo")
	// Kept 30 full days after it ends: dropped at the start of day + 31.
	if got, want := domain.Day(20260302).ExpiresAt(30, tokyo), time.Date(2026, 4, 2, 0, 0, 0, 0, tokyo); !got.Equal(want) {
		t.Fatalf("ExpiresAt = %v, want %v", got, want)
	}
	if got := domain.OldestKept(20260402, 30); got != 20260303 {
		t.Fatalf("OldestKept = %v, want 2026-03-03", got)
	}
	// The two agree: a day is kept exactly while now is before its expiry.
	r := rand.New(rand.NewPCG(9, 10))
	for range 2000 {
		d := randomDay(r)
		keep := 1 + r.IntN(60)
		now := d.At(0, tokyo).Add(time.Duration(r.IntN(100*24)) * time.Hour)
		kept := d >= domain.OldestKept(domain.DayOf(now.In(tokyo)), keep)
		if kept != now.Before(d.ExpiresAt(keep, tokyo)) {
			t.Fatalf("day %v, keep %d, now %v: OldestKept says kept=%v, ExpiresAt %v", d, keep, now, kept, d.ExpiresAt(keep, tokyo))
		}
	}
}

func TestQuoteCheckFresh(t *testing.T) {
	t.Parallel()
	tokyo := zone(t, "Asia/Tokyo")
	q := domain.Quote{Day: 20260302, At: 9*3600 + 59*60, Price: 1124} // 09:59:00
	closed := time.Date(2026, 3, 2, 9, 59, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		q      domain.Quote
		now    time.Time
		zone   *time.Location
		maxAge time.Duration
		stale  bool
	}{
		{"off", q, closed.Add(1000 * time.Hour), time.UTC, 0, false},
		{"off when negative", q, closed.Add(1000 * time.Hour), time.UTC, -time.Minute, false},
		{"fresh", q, closed.Add(14 * time.Minute), time.UTC, 15 * time.Minute, false},
		{"exactly the limit", q, closed.Add(15 * time.Minute), time.UTC, 15 * time.Minute, false},
		{"stale", q, closed.Add(15*time.Minute + time.Second), time.UTC, 15 * time.Minute, true},
		{"yesterday's close the next morning", q, closed.Add(23 * time.Hour), time.UTC, 2 * time.Hour, true},
		// The same tick read in Tokyo happened nine hours earlier.
		{"zone makes it older", q, closed.Add(time.Minute), tokyo, time.Hour, true},
		{"zone, fresh", q, closed.Add(-9*time.Hour + time.Minute), tokyo, time.Hour, false},
		{"undated, limit set", domain.Quote{At: 9 * 3600, Price: 1}, closed, time.UTC, time.Hour, true},
		{"undated, no limit", domain.Quote{At: 9 * 3600, Price: 1}, closed, time.UTC, 0, false},
	} {
		err := c.q.CheckFresh(c.now, c.zone, c.maxAge)
		if c.stale != errors.Is(err, domain.ErrStalePrice) || (!c.stale && err != nil) {
			t.Errorf("%s: CheckFresh = %v, want stale=%v", c.name, err, c.stale)
		}
	}
}
