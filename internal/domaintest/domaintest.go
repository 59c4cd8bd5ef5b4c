// Package domaintest builds domain values for tests: the domain's own
// constructors, with a panic where a test's literal is wrong, so that a
// table of ticks reads as data.
package domaintest

import "stockd/domain"

// Tick is domain.NewTick, panicking on a tick the domain refuses.
func Tick(stock string, day domain.Day, at domain.TimeOfDay, price int64) domain.Tick {
	t, err := domain.NewTick(stock, day, at, price)
	if err != nil {
		panic(err)
	}
	return t
}

// Day is domain.ParseDay, panicking on a date that is not YYYY-MM-DD.
func Day(s string) domain.Day {
	d, err := domain.ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}
