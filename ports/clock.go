package ports

import "time"

//go:generate go tool mockgen -destination=portsmock/clock.go -package=portsmock stockd/ports Clock

// Clock tells the time. The core never reads the system clock itself.
type Clock interface {
	Now() time.Time
}
