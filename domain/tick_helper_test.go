package domain_test

import "stockd/domain"

// mustTick builds a tick through domain.NewTick, so that a test's ticks are
// valid ones; a bad literal in a test is a bug of the test, hence the panic.
func mustTick(stock string, day domain.Day, at domain.TimeOfDay, price int64) domain.Tick {
	t, err := domain.NewTick(stock, day, at, price)
	if err != nil {
		panic(err)
	}
	return t
}
