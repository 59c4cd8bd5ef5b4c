package domain

import (
	"errors"
	"fmt"
	"time"
)

// Day is a trading day: a calendar date in the market's time zone
// (APP_TIMEZONE). It is held as the number yyyymmdd (2026-11-29 is
// 20261129), so that days order as numbers and cost nothing to compare or
// to use as a map key. The zero Day is no day: a series written before
// ticks had dates, or by another program, until a dated tick gives it one.
type Day int32

// ErrBadDay reports a date that is not a real YYYY-MM-DD.
var ErrBadDay = errors.New("date must be YYYY-MM-DD")

// ParseDay reads "YYYY-MM-DD". It allocates nothing, since the Kafka path
// calls it once per record.
func ParseDay(s string) (Day, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("%w: %q", ErrBadDay, s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, fmt.Errorf("%w: %q", ErrBadDay, s)
	}
	return Day(y*10000 + m*100 + d), nil
}

// NewDay returns the day y-m-d, or ErrBadDay when there is no such date.
func NewDay(y int, m time.Month, d int) (Day, error) {
	if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysIn(y, int(m)) {
		return 0, fmt.Errorf("%w: %04d-%02d-%02d", ErrBadDay, y, m, d)
	}
	return Day(y*10000 + int(m)*100 + d), nil
}

// DayOf returns the date of t in t's own location: convert t into the
// market's zone (t.In(zone)) before asking.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day(y*10000 + int(m)*100 + d)
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsZero reports whether d is no day.
func (d Day) IsZero() bool { return d == 0 }

// Date returns the year, month and day of d.
func (d Day) Date() (int, time.Month, int) {
	return int(d) / 10000, time.Month(int(d) / 100 % 100), int(d) % 100
}

// At returns the instant of time of day at on d in zone.
func (d Day) At(at TimeOfDay, zone *time.Location) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, int(at), 0, zone)
}

// AddDays returns the day n days after d (before, for a negative n).
func (d Day) AddDays(n int) Day {
	y, m, dd := d.Date()
	return DayOf(time.Date(y, m, dd+n, 12, 0, 0, 0, time.UTC))
}

// String formats d as YYYY-MM-DD ("" for no day).
func (d Day) String() string {
	if d.IsZero() {
		return ""
	}
	var b [10]byte
	return string(d.AppendTo(b[:0]))
}

// AppendTo appends d as YYYY-MM-DD to b.
func (d Day) AppendTo(b []byte) []byte {
	y, m, dd := d.Date()
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// Quote is a stock's latest price: the close of the last minute of its
// latest day, with the day and time of the tick that closed it.
type Quote struct {
	Day   Day
	At    TimeOfDay
	Price int64
}

// ErrStalePrice reports a latest price older than the maximum age a buy
// accepts (MAX_PRICE_AGE).
var ErrStalePrice = errors.New("the latest price is too old to buy at")

// CheckFresh refuses q with ErrStalePrice when its tick, read in zone, is
// older than maxAge at now. A maxAge of zero or less is no limit. A quote
// of no day (an undated series) has no age to judge and is refused too when
// a limit is set, since nothing says it is recent.
func (q Quote) CheckFresh(now time.Time, zone *time.Location, maxAge time.Duration) error {
	if maxAge <= 0 {
		return nil
	}
	if q.Day.IsZero() {
		return fmt.Errorf("%w: its day is unknown", ErrStalePrice)
	}
	if age := now.Sub(q.Day.At(q.At, zone)); age > maxAge {
		return fmt.Errorf("%w: %s %s is %s old", ErrStalePrice, q.Day, q.At, age.Truncate(time.Second))
	}
	return nil
}
