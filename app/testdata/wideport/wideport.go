// Package wideport is a use case given a port wider than it calls, for
// the test of the check that finds such ports (app/ports_test.go).
package wideport

// Store has a method that UseCase never calls.
type Store interface {
	Get() int
	Put(v int)
}

// UseCase reads the store.
type UseCase struct{ store Store }

// NewUseCase wires the use case.
func NewUseCase(store Store) *UseCase { return &UseCase{store: store} }

// Run reads.
func (u *UseCase) Run() int { return u.store.Get() }
