package http_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"stockd/api"
)

// TestResponsesConformToOpenAPI runs real requests through the real
// handlers on memory stores and validates every request and response
// against api/openapi.yaml, so the description cannot drift from the code.
func TestResponsesConformToOpenAPI(t *testing.T) {
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, docErrs := v.ValidateDocument()
	require.True(t, ok, "%v", docErrs)

	h := newMemoryServer(t, false, 0).handler

	requests := []struct {
		method, target, body string
		status               int
	}{
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":10}`, 201},
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1000}`, 201},
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, 201},
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1"}`, 400},
		{"POST", "/api/buy-stock", `{"user":"nobody","stockname":"stock1","quantity":1}`, 422},
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock2","quantity":1}`, 409},
		{"GET", "/api/orders", "", 200},
		{"GET", "/api/orders?limit=1", "", 200},
		{"GET", "/api/orders?limit=0", "", 400},
		{"GET", "/api/stocks/stock1/prices", "", 200},
		{"GET", "/api/stocks/stock2/prices", "", 200},
		{"GET", "/api/stocks/stock9/prices", "", 404},
		{"GET", "/healthz", "", 200},
		{"GET", "/readyz", "", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/openapi.yaml", "", 200},
	}
	for _, r := range requests {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		req := httptest.NewRequest(r.method, "http://localhost:8080"+r.target, body)
		if r.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, r.status, rec.Code, "%s %s: %s", r.method, r.target, rec.Body.String())

		// The validator reads the bodies, so it gets fresh copies.
		vreq := httptest.NewRequest(r.method, "http://localhost:8080"+r.target, strings.NewReader(r.body))
		if r.body != "" {
			vreq.Header.Set("Content-Type", "application/json")
		}
		resp := rec.Result()
		check := v.ValidateHttpRequestResponse
		if r.status == http.StatusBadRequest {
			check = v.ValidateHttpResponse // the request is invalid by design
		}
		ok, verrs := check(vreq, resp)
		require.True(t, ok, "%s %s: %s", r.method, r.target, describe(verrs))
	}
}

// TestGuardResponsesConformToOpenAPI does the same for the answers of the
// token guard and the rate limit.
func TestGuardResponsesConformToOpenAPI(t *testing.T) {
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	g := newMemoryServer(t, true, 1)
	for _, c := range []struct {
		method, target, body, token string
		status                      int
	}{
		{"POST", "/api/buy-stock", `{"user":"user2","stockname":"stock1","quantity":1}`, g.token, 403},
		{"POST", "/api/buy-stock", `{"user":"user1","stockname":"stock1","quantity":1}`, g.token, 429},
		{"GET", "/api/orders", "", "", 401},
	} {
		rec := g.do(c.method, "http://localhost:8080"+c.target, c.body, c.token, "")
		require.Equal(t, c.status, rec.Code, rec.Body.String())
		vreq := httptest.NewRequest(c.method, "http://localhost:8080"+c.target, strings.NewReader(c.body))
		ok, verrs := v.ValidateHttpResponse(vreq, rec.Result())
		require.True(t, ok, "%s %s %d: %s", c.method, c.target, c.status, describe(verrs))
	}
}

func describe[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteString("; ")
	}
	return b.String()
}
