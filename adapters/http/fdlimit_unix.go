//go:build unix

package http

import (
	"log/slog"
	"syscall"
)

// StreamCapacity raises the process's soft limit of open descriptors to
// its hard limit, and returns how many streams may be open so that the
// rest of the API keeps descriptors to accept with: want (STREAM_LIMIT),
// or less when the limit leaves no headroom, said in the log. Each stream
// holds a connection, and with the descriptors gone the listener can
// accept nothing: BuyStock and /healthz would time out.
func StreamCapacity(want int, log *slog.Logger) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the descriptor limit; streams are limited by STREAM_LIMIT alone", "error", err)
		return want
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			log.Warn("cannot raise the descriptor limit", "soft", lim.Cur, "hard", lim.Max, "error", err)
		} else {
			lim = raised
		}
	}
	allowed := streamsWithin(lim.Cur)
	if uint64(want) <= allowed {
		return want
	}
	log.Warn("STREAM_LIMIT leaves no descriptors for the rest of the API: streams are limited to fewer",
		"stream_limit", want, "streams_allowed", allowed, "descriptor_limit", lim.Cur)
	return int(max(allowed, 1))
}

// streamsWithin is how many of limit descriptors streams may take: all
// but a quarter, and at least 256, kept for connections to the API, the
// stores and the files the process opens.
func streamsWithin(limit uint64) uint64 {
	headroom := max(limit/4, 256)
	if limit <= headroom {
		return 0
	}
	return limit - headroom
}
