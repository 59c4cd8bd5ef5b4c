package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"stockd/app"
	"stockd/domain"
	"stockd/ports"
)

// statusError carries a status a handler knows from its context (a body
// that does not parse is a 400, a stock unknown to a path is a 404).
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(status int, err error) error { return &statusError{status: status, err: err} }

// problem is an RFC 9457 problem body, plus the request's id so that a
// user's report can be found in the logs.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id,omitempty"`
}

// statusOf maps an error to its HTTP status, in one place.
func statusOf(err error) int {
	var se *statusError
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.As(err, &se):
		return se.status
	case errors.As(err, &he):
		return he.Code
	case errors.Is(err, domain.ErrUnknownStock), errors.Is(err, ports.ErrUserNotFound),
		errors.Is(err, domain.ErrBadQuantity), errors.Is(err, domain.ErrBadUser),
		errors.Is(err, ports.ErrKeyReused):
		return http.StatusUnprocessableEntity
	case errors.Is(err, app.ErrNoPrice), errors.Is(err, ports.ErrKeyInFlight):
		return http.StatusConflict
	case errors.Is(err, domain.ErrBadPageSize):
		return http.StatusBadRequest
	case errors.Is(err, app.ErrOrderPending), errors.Is(err, ports.ErrUnavailable), errors.Is(err, ports.ErrOutcomeUnknown),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// detailOf is what the client is told. Internal errors are not described:
// their text may hold what a client has no business knowing.
func detailOf(err error, status int) string {
	var he *echo.HTTPError
	switch {
	case status == http.StatusInternalServerError:
		return "an internal error occurred; quote the request id when reporting it"
	case errors.As(err, &he):
		if m, ok := he.Message.(string); ok {
			return m
		}
		return http.StatusText(status)
	case errors.Is(err, app.ErrOrderPending):
		return "the order was accepted and the credit debited; the order store is unavailable and the order will be recorded when it is back (retry with the same Idempotency-Key to get it)"
	case errors.Is(err, ports.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "a backing store is unavailable; nothing was changed, retry later"
	}
	return err.Error()
}

// errorHandler is the server's only writer of error bodies.
func errorHandler(log *slog.Logger, m *metrics) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status := statusOf(err)
		if errors.Is(err, context.Canceled) {
			// The client went away; there is nobody to answer.
			log.InfoContext(c.Request().Context(), "request abandoned by the client", "error", err,
				"request_id", requestID(c), "route", c.Path())
		} else if status >= 500 {
			log.ErrorContext(c.Request().Context(), "request failed", "error", err, "status", status,
				"request_id", requestID(c), "route", c.Path())
		}
		if status == http.StatusServiceUnavailable {
			m.storeErrors.WithLabelValues(c.Path()).Inc()
		}
		if status == http.StatusServiceUnavailable || status == http.StatusConflict || status == http.StatusTooManyRequests {
			c.Response().Header().Set("Retry-After", strconv.Itoa(1))
		}
		p := problem{
			Type:      "about:blank",
			Title:     http.StatusText(status),
			Status:    status,
			Detail:    detailOf(err, status),
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

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
