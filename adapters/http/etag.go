package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// etagged gives the 200 answers of a GET route an ETag computed from the
// body, and answers 304 with no body to a request whose If-None-Match
// names it, so that a poll or a reload of an unchanged answer costs no
// transfer. It buffers the body, so it belongs on routes whose answers are
// bounded (a day's series, a static file), never on a stream. The ETag is
// weak: it names the content, and gzip, which wraps this, changes the
// bytes on the wire but not the content.
func etagged(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return next(c)
		}
		res := c.Response()
		w := res.Writer
		buf := &bufferedAnswer{header: w.Header()}
		res.Writer = buf
		// A HEAD is served as the GET it stands for, so that both carry
		// the same ETag; the body is then dropped (headAsGet).
		head := r.Method == http.MethodHead
		if head {
			r.Method = http.MethodGet
		}
		// This middleware answers the condition, not the handler (a file
		// server would answer "*" itself, without the ETag).
		ifNoneMatch := r.Header.Get("If-None-Match")
		r.Header.Del("If-None-Match")
		err := next(c)
		if head {
			r.Method = http.MethodHead
		}
		res.Writer = w
		if err != nil && !res.Committed {
			return err // the error handler answers, unbuffered
		}
		status := buf.status
		if status == 0 {
			status = http.StatusOK
		}
		if status == http.StatusOK {
			sum := sha256.Sum256(buf.body.Bytes())
			tag := `W/"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
			w.Header().Set("ETag", tag)
			if matchesETag(ifNoneMatch, tag) {
				h := w.Header()
				h.Del(echo.HeaderContentLength)
				h.Del(echo.HeaderContentType)
				w.WriteHeader(http.StatusNotModified)
				res.Status, res.Size = http.StatusNotModified, 0 // what the log and metrics report
				return err
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(buf.body.Bytes()) // a client gone away is nobody to tell
		return err
	}
}

// matchesETag applies If-None-Match's weak comparison (RFC 9110 13.1.2):
// "*" or any listed tag equal to tag once W/ is set aside.
func matchesETag(ifNoneMatch, tag string) bool {
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	opaque := strings.TrimPrefix(tag, "W/")
	for _, t := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == opaque {
			return true
		}
	}
	return false
}

// bufferedAnswer holds a handler's status and body until the ETag is
// known; headers go to the real writer's map as they are set.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedAnswer) Header() http.Header { return b.header }

func (b *bufferedAnswer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedAnswer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
