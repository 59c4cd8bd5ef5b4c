package ports

import "time"

// Clock tells the time. The core never reads the system clock itself.
type Clock interface {
	Now() time.Time
}
