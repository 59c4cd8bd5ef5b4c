package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// problemType is one kind of error a client can tell apart by its `type`
// URI alone, without parsing `detail`. The table below is the only place
// that maps errors to statuses and words; api/openapi.yaml documents each
// entry (a test holds the two together).
type problemType struct {
	slug   string // the last segment of the type URI
	status int    // the usual status; a handler may answer another (unknown-stock is 404 in a path)
	detail string // what the client is told, written for clients
}

// URI is the problem's `type`: a relative reference, resolved against the
// API's own address, served as documentation by GET /problems/{slug}.
func (p *problemType) URI() string { return problemBase + p.slug }

const problemBase = "/problems/"

// The kinds of problems. The detail texts never repeat error chains,
// addresses or unbounded input.
var (
	probUnknownUser    = &problemType{"unknown-user", http.StatusUnprocessableEntity, "the user does not exist"}
	probUnknownStock   = &problemType{"unknown-stock", http.StatusUnprocessableEntity, "the stock is not traded here"}
	probBadQuantity    = &problemType{"bad-quantity", http.StatusUnprocessableEntity, "quantity must be an integer of at least 1"}
	probBadBody        = &problemType{"bad-body", http.StatusBadRequest, "the body must be a JSON object with the fields user, stockname and quantity"}
	probMediaType      = &problemType{"unsupported-media-type", http.StatusUnsupportedMediaType, "the body must be sent as Content-Type: application/json"}
	probTooLarge       = &problemType{"body-too-large", http.StatusRequestEntityTooLarge, "the body is larger than 1 MiB"}
	probBadKey         = &problemType{"bad-idempotency-key", http.StatusBadRequest, "Idempotency-Key must be at most 255 bytes"}
	probKeyReused      = &problemType{"idempotency-key-reused", http.StatusUnprocessableEntity, "this Idempotency-Key was first used with another request; use a new key for a new request"}
	probKeyInFlight    = &problemType{"idempotency-key-in-flight", http.StatusConflict, "the first request with this Idempotency-Key has not finished; retry with the same key and body after the Retry-After delay to get its outcome, and do not send the order under a new key unless you mean a second order"}
	probNoPrice        = &problemType{"no-price", http.StatusConflict, "the stock has no price yet; retry once prices have been ingested"}
	probStalePrice     = &problemType{"stale-price", http.StatusConflict, "the stock's latest price is older than the service accepts to buy at (MAX_PRICE_AGE); nothing was changed, retry once newer prices have been ingested"}
	probDayNotFound    = &problemType{"day-not-found", http.StatusNotFound, "the stock has no prices of that trading day; GET /api/stocks/{stock}/days lists the days kept"}
	probBadDate        = &problemType{"bad-date", http.StatusBadRequest, "date must be a real date written YYYY-MM-DD"}
	probUnavailable    = &problemType{"store-unavailable", http.StatusServiceUnavailable, "a backing store is unavailable; nothing was changed, retry later"}
	probOutcome        = &problemType{"outcome-unknown", http.StatusServiceUnavailable, "a backing store did not confirm the write, so the order may or may not have been taken; retry with the same Idempotency-Key to learn its outcome"}
	probOrderPending   = &problemType{"order-pending", http.StatusServiceUnavailable, "the order was accepted and the credit debited; the order store is unavailable and the order will be recorded when it is back (retry with the same Idempotency-Key to get it)"}
	probUnauthentic    = &problemType{"unauthenticated", http.StatusUnauthorized, "a valid bearer token is required: Authorization: Bearer <token>"}
	probForbidden      = &problemType{"forbidden", http.StatusForbidden, "the token's user may act only for itself"}
	probRateLimited    = &problemType{"rate-limited", http.StatusTooManyRequests, "too many requests: slow down and retry after the Retry-After delay"}
	probBadCursor      = &problemType{"bad-cursor", http.StatusBadRequest, "cursor is not one this service gave out; pass the next of the previous page unchanged, or none for the first page"}
	probBadLimit       = &problemType{"bad-limit", http.StatusBadRequest, "limit must be an integer from 1 to 1000"}
	probBadQuery       = &problemType{"bad-query", http.StatusBadRequest, "the query string is malformed"}
	probNotFound       = &problemType{"not-found", http.StatusNotFound, "no such resource"}
	probMethod         = &problemType{"method-not-allowed", http.StatusMethodNotAllowed, "this method is not allowed here; the Allow header lists those that are"}
	probTimeout        = &problemType{"timeout", http.StatusRequestTimeout, "the request body did not arrive in time"}
	probInternal       = &problemType{"internal", http.StatusInternalServerError, "an internal error occurred; quote the request id when reporting it"}
	probEncoding       = &problemType{"unsupported-content-encoding", http.StatusUnsupportedMediaType, "the body must be sent uncompressed, without Content-Encoding"}
	probTooManyStreams = &problemType{"too-many-streams", http.StatusTooManyRequests, "this client has as many price streams open as it may (STREAM_LIMIT_PER_CLIENT); close one, or retry after the Retry-After delay"}
	probStreamsFull    = &problemType{"streams-full", http.StatusServiceUnavailable, "the server has as many price streams open as it may (STREAM_LIMIT); retry after the Retry-After delay"}
	probUnknownOrder   = &problemType{"unknown-order", http.StatusNotFound, "no order with this id is visible to the caller"}
	problemTypes       = []*problemType{probUnknownUser, probUnknownStock, probBadQuantity, probBadBody, probMediaType, probTooLarge, probBadKey, probKeyReused, probKeyInFlight, probNoPrice, probStalePrice, probDayNotFound, probBadDate, probUnavailable, probOutcome, probOrderPending, probUnauthentic, probForbidden, probRateLimited, probBadCursor, probBadLimit, probBadQuery, probNotFound, probMethod, probTimeout, probInternal, probEncoding, probTooManyStreams, probStreamsFull, probUnknownOrder}
	errMalformedQuery  = errors.New("malformed query string")
)

// sentinelProblems maps the errors of the inner layers to their kinds, in
// the order they are tried: the first match wins.
var sentinelProblems = []struct {
	err  error
	kind *problemType
}{
	{app.ErrOrderPending, probOrderPending},
	{ports.ErrOutcomeUnknown, probOutcome},
	{ports.ErrUnavailable, probUnavailable},
	{context.DeadlineExceeded, probUnavailable},
	{domain.ErrUnknownStock, probUnknownStock},
	{ports.ErrUserNotFound, probUnknownUser},
	{domain.ErrBadUser, probUnknownUser},
	{domain.ErrBadQuantity, probBadQuantity},
	{ports.ErrKeyReused, probKeyReused},
	{ports.ErrKeyInFlight, probKeyInFlight},
	{app.ErrNoPrice, probNoPrice},
	{domain.ErrStalePrice, probStalePrice},
	{ports.ErrDayNotFound, probDayNotFound},
	{domain.ErrBadDay, probBadDate},
	{domain.ErrBadPageSize, probBadLimit},
	{app.ErrUnauthenticated, probUnauthentic},
	{errMalformedQuery, probBadQuery},
}

// statusProblems gives a kind to the errors Echo raises itself (no route,
// another method) and to any status-only error.
var statusProblems = map[int]*problemType{
	http.StatusNotFound:              probNotFound,
	http.StatusMethodNotAllowed:      probMethod,
	http.StatusRequestEntityTooLarge: probTooLarge,
	http.StatusUnsupportedMediaType:  probMediaType,
	http.StatusRequestTimeout:        probTimeout,
	http.StatusTooManyRequests:       probRateLimited,
	http.StatusUnauthorized:          probUnauthentic,
	http.StatusForbidden:             probForbidden,
	http.StatusServiceUnavailable:    probUnavailable,
	http.StatusInternalServerError:   probInternal,
}

// problemError is an error the adapter itself raises with its kind known
// (a body that does not parse, a stock unknown to a path). status
// overrides the kind's usual one when not 0; detail, when set, replaces
// the kind's and must already be bounded.
type problemError struct {
	kind   *problemType
	status int
	detail string
	err    error
}

func (e *problemError) Error() string {
	if e.err != nil {
		return e.kind.slug + ": " + e.err.Error()
	}
	return e.kind.slug
}
func (e *problemError) Unwrap() error { return e.err }

// fail is a problem of kind with the kind's status, a detail for the
// client (bounded by the caller, "" for the kind's) and the cause for the
// log.
func fail(kind *problemType, detail string, cause error) error {
	return &problemError{kind: kind, detail: detail, err: cause}
}

// withStatus answers err with status: its kind is that of err when the
// table knows err (an unknown stock in a path is unknown-stock, 404), else
// that of the status.
func withStatus(status int, err error) error {
	kind, _, detail := problemOf(err)
	if kind == probInternal {
		if k, ok := statusProblems[status]; ok {
			kind, detail = k, k.detail
		}
	}
	return &problemError{kind: kind, status: status, detail: detail, err: err}
}

// inPath answers an unknown user or stock named in the URL path 404 (the
// resource does not exist) rather than 422; other errors pass unchanged.
func inPath(err error) error {
	if kind, _, _ := problemOf(err); kind == probUnknownUser || kind == probUnknownStock {
		return withStatus(http.StatusNotFound, err)
	}
	return err
}

// problem is an RFC 9457 problem body, plus the request's id so that a
// user's report can be found in the logs.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// problemOf maps an error to its kind, status and detail, in one place.
func problemOf(err error) (kind *problemType, status int, detail string) {
	var pe *problemError
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &pe):
		kind, status, detail = pe.kind, pe.status, pe.detail
	case errors.As(err, &mbe):
		kind = probTooLarge
	default:
		for _, s := range sentinelProblems {
			if errors.Is(err, s.err) {
				kind = s.kind
				break
			}
		}
		if kind == nil && errors.As(err, &he) {
			kind, status = statusProblems[he.Code], he.Code
		}
	}
	if kind == nil {
		kind = probInternal
	}
	if status == 0 {
		status = kind.status
	}
	if detail == "" {
		detail = kind.detail
	}
	return kind, status, detail
}

// statusOf is the status an error is answered with.
func statusOf(err error) int {
	_, status, _ := problemOf(err)
	return status
}

// errorHandler is the server's only writer of error bodies. It logs
// nothing: the access log's line of the request carries the error.
func errorHandler(m *metrics) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		kind, status, detail := problemOf(err)
		if status == http.StatusServiceUnavailable && kind != probStreamsFull {
			m.storeErrors.WithLabelValues(c.Path()).Inc()
		}
		if status == http.StatusServiceUnavailable || status == http.StatusConflict || status == http.StatusTooManyRequests {
			c.Response().Header().Set("Retry-After", strconv.Itoa(1))
		}
		p := problem{
			Type:      kind.URI(),
			Title:     http.StatusText(status),
			Status:    status,
			Detail:    detail,
			RequestID: requestID(c),
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, p)
	}
}

// problemDocs serves GET /problems/{slug}: what a problem type means, so
// that its URI leads somewhere.
func problemDocs(c echo.Context) error {
	for _, p := range problemTypes {
		if p.slug == c.Param("type") {
			return c.JSON(http.StatusOK, map[string]any{"type": p.URI(), "status": p.status, "title": http.StatusText(p.status), "detail": p.detail})
		}
	}
	return fail(probNotFound, "no such problem type", nil)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// maxEcho bounds what an error detail repeats of the client's input.
const maxEcho = 64

// quoteInput quotes s for an error detail, cut to maxEcho characters so
// that a 100 KB value is not sent back (nor logged) whole.
func quoteInput(s string) string {
	if utf8.RuneCountInString(s) <= maxEcho {
		return strconv.Quote(s)
	}
	n := 0
	for i := range s {
		if n == maxEcho {
			return strconv.Quote(s[:i]) + fmt.Sprintf(" (cut, %d bytes in all)", len(s))
		}
		n++
	}
	return strconv.Quote(s)
}

// withInput names the user or stock a use case refused, bounded, so that
// the client sees which value was wrong; other errors pass unchanged.
func withInput(err error, user, stock string) error {
	kind, _, _ := problemOf(err)
	switch kind {
	case probUnknownUser:
		return fail(kind, fmt.Sprintf("user %s does not exist", quoteInput(user)), err)
	case probUnknownStock:
		return fail(kind, fmt.Sprintf("stock %s is not traded here", quoteInput(stock)), err)
	}
	return err
}
