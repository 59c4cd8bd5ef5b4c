package http_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHeadWorksWhereverGetDoes: HEAD answers the status and headers of
// GET, with no body, on every GET route, the dashboard included.
func TestHeadWorksWhereverGetDoes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{"/", "/static/app.js", "/api/stocks", "/api/stocks/stock1/prices", "/api/orders",
		"/api/users/user1", "/healthz", "/readyz", "/openapi.yaml", "/problems/no-price", "/api/stocks/stock9/prices"} {
		get := f.do(t, http.MethodGet, target, "")
		head := f.do(t, http.MethodHead, target, "")
		assert.Equal(t, get.Code, head.Code, target)
		assert.Empty(t, head.Body.String(), target)
		assert.Equal(t, get.Header().Get("Content-Type"), head.Header().Get("Content-Type"), target)
		assert.Equal(t, get.Header().Get("ETag"), head.Header().Get("ETag"), target)
	}
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodHead, "/", "").Code)
	rec := f.do(t, http.MethodHead, "/api/buy-stock", "")
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "HEAD is not a POST")
	assert.Equal(t, "POST", rec.Header().Get("Allow"))
	metrics := f.do(t, http.MethodGet, "/metrics", "").Body.String()
	assert.Contains(t, metrics, `method="HEAD",route="/api/stocks"`, "a HEAD is counted as a HEAD")
}

func TestHeadOnAStreamSendsItsHeadersOnly(t *testing.T) {
	t.Parallel()
	s := newPriceServer(t, 0)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/api/stocks/stock1/stream", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
	assert.Empty(t, rec.Body.String())
}

func TestStaticFoldersAreNotListed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{"/static/", "/static/vendor/", "/static/vendor", "/static/."} {
		rec := f.do(t, http.MethodGet, target, "")
		assert.Equal(t, http.StatusNotFound, rec.Code, target)
		assert.NotContains(t, rec.Body.String(), "uPlot", target)
	}
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/static/vendor/uPlot.iife.min.js", "").Code)
}

func TestCompressedBodyIs415(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, enc := range []string{"gzip", "br", "identity, gzip"} {
		rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, "Content-Encoding", enc)
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, enc)
		assertProblem(t, rec, http.StatusUnsupportedMediaType, "unsupported-content-encoding")
	}
	f.assertUnchanged(t)
	rec := f.do(t, http.MethodPost, "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, "Content-Encoding", "identity")
	assert.Equal(t, http.StatusCreated, rec.Code, "identity is no encoding")
}

func TestTwoIdempotencyKeysAre400(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", strings.NewReader(`{"user":"user1","stockname":"stock1","quantity":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("Idempotency-Key", "k1")
	req.Header.Add("Idempotency-Key", "k2")
	rec := f.send(req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	assertProblem(t, rec, http.StatusBadRequest, "bad-idempotency-key")
	f.assertUnchanged(t)
}

func TestLimitMustBePlainDigits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, limit := range []string{"+5", "1e2", "-1", "5.0", " 5", "0x10", "99999999999999999999"} {
		rec := f.do(t, http.MethodGet, "/api/orders?limit="+strings.ReplaceAll(limit, " ", "%20"), "")
		assert.Equal(t, http.StatusBadRequest, rec.Code, limit)
		assertProblem(t, rec, http.StatusBadRequest, "bad-limit")
	}
	assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/orders?limit=5", "").Code)
}

// gunzip returns the body of rec, decompressed when it says gzip.
func gunzip(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if rec.Header().Get("Content-Encoding") != "gzip" {
		return rec.Body.String()
	}
	r, err := gzip.NewReader(rec.Body)
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}

// TestGzipWhenAccepted: JSON and static answers are compressed for a
// client that accepts gzip, and the same content comes out; a stream is
// never compressed (its events must arrive one by one).
func TestGzipWhenAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for m := range 300 { // a series of a few KB
		f.tick(t, "stock1", 10*3600+60*m, int64(100+m))
	}
	for _, target := range []string{"/api/stocks/stock1/prices", "/static/vendor/uPlot.iife.min.js", "/openapi.yaml"} {
		plain := f.do(t, http.MethodGet, target, "")
		zipped := f.do(t, http.MethodGet, target, "", "Accept-Encoding", "gzip")
		require.Equal(t, http.StatusOK, zipped.Code, target)
		assert.Equal(t, "gzip", zipped.Header().Get("Content-Encoding"), target)
		assert.Contains(t, zipped.Header().Values("Vary"), "Accept-Encoding", target)
		assert.Less(t, zipped.Body.Len(), plain.Body.Len(), target)
		assert.Equal(t, plain.Body.String(), gunzip(t, zipped), target)
		assert.Empty(t, plain.Header().Get("Content-Encoding"), target)
	}
	s := newPriceServer(t, 0)
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/stocks/stock1/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "a stream is not compressed")
	assert.Equal(t, "series", next(t, readEvents(resp.Body)).name)
}

// TestETagAndNotModified: the series and the dashboard's files carry an
// ETag; If-None-Match with it is a 304 with no body, until the content
// changes.
func TestETagAndNotModified(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{"/api/stocks/stock1/prices", "/api/stocks/stock1/prices?from=090000&to=090100", "/", "/static/app.js"} {
		first := f.do(t, http.MethodGet, target, "")
		require.Equal(t, http.StatusOK, first.Code, target)
		tag := first.Header().Get("ETag")
		require.Regexp(t, `^W/"[A-Za-z0-9_-]+"$`, tag, target)
		for _, inm := range []string{tag, strings.TrimPrefix(tag, "W/"), `"other", ` + tag, "*"} {
			again := f.do(t, http.MethodGet, target, "", "If-None-Match", inm, "Accept-Encoding", "gzip")
			assert.Equal(t, http.StatusNotModified, again.Code, "%s %s", target, inm)
			assert.Empty(t, again.Body.String(), target)
			assert.Equal(t, tag, again.Header().Get("ETag"), target)
			assert.Empty(t, again.Header().Get("Content-Encoding"), target)
		}
		assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, target, "", "If-None-Match", `"other"`).Code, target)
	}
	tag := f.do(t, http.MethodGet, "/api/stocks/stock1/prices", "").Header().Get("ETag")
	f.tick(t, "stock1", 9*3600+300, 120)
	changed := f.do(t, http.MethodGet, "/api/stocks/stock1/prices", "", "If-None-Match", tag)
	assert.Equal(t, http.StatusOK, changed.Code, "a new minute is a new ETag")
	assert.NotEqual(t, tag, changed.Header().Get("ETag"))
	assert.Empty(t, f.do(t, http.MethodGet, "/api/stocks/stock9/prices", "").Header().Get("ETag"), "no ETag on an error")
}
