package ports

import "errors"

// ErrUnavailable wraps every failure to reach a backing server (a refused
// connection, a timeout, a server not ready to serve yet): the caller may
// retry later.
var ErrUnavailable = errors.New("store unavailable")
