package http_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"stockd/api"
	"stockd/ports"
)

// openAPIValidator is built once for every test of the package: parsing
// and checking the document is the slow part.
var openAPIValidator = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if ok, docErrs := v.ValidateDocument(); !ok {
		return nil, docErrs[0]
	}
	return v, nil
})

func newOpenAPIValidator(t *testing.T) validator.Validator {
	t.Helper()
	v, err := openAPIValidator()
	require.NoError(t, err)
	return v
}

// conformanceCase is one real request; invalid marks a request that
// breaks the description on purpose, so only its response is checked,
// and for a method the path does not have (a 405), as the response of
// the operation asMethod.
type conformanceCase struct {
	method, target, body string
	header               []string
	status               int
	invalid              bool
	asMethod             string
}

// checkConformance runs each request through f's real handler and
// validates the request and the response against api/openapi.yaml, so
// the description cannot drift from the code.
func checkConformance(t *testing.T, f *fixture, cases []conformanceCase) {
	t.Helper()
	v := newOpenAPIValidator(t)
	for _, r := range cases {
		newRequest := func(method string) *http.Request {
			var body io.Reader
			if r.body != "" {
				body = strings.NewReader(r.body)
			}
			req := httptest.NewRequest(method, "http://localhost:8080"+r.target, body)
			if r.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(r.header); i += 2 {
				req.Header.Set(r.header[i], r.header[i+1])
			}
			return req
		}
		rec := f.send(newRequest(r.method))
		require.Equal(t, r.status, rec.Code, "%s %s: %s", r.method, r.target, rec.Body.String())

		// The validator reads the bodies, so it gets a fresh request.
		check := v.ValidateHttpRequestResponse
		if r.invalid || r.status == http.StatusBadRequest {
			check = v.ValidateHttpResponse
		}
		method := r.method
		if r.asMethod != "" {
			method, check = r.asMethod, v.ValidateHttpResponse
		}
		ok, verrs := check(newRequest(method), rec.Result())
		require.True(t, ok, "%s %s %d: %s", r.method, r.target, r.status, describe(verrs))
	}
}

func TestResponsesConformToOpenAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	checkConformance(t, f, []conformanceCase{
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":10}`, status: 201},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1000}`, status: 201},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, status: 201},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, header: []string{"Idempotency-Key", "k1", "X-Request-Id", "conformance-1"}, status: 201},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":2}`, header: []string{"Idempotency-Key", "k1"}, status: 422},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1"}`, status: 400},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","user":"user1","stockname":"stock1","quantity":1}`, status: 400},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"nobody","stockname":"stock1","quantity":1}`, status: 422},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock2","quantity":1}`, status: 409},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, header: []string{"Content-Type", "text/plain"}, status: 415, invalid: true},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"` + strings.Repeat("u", 1<<20) + `","stockname":"stock1","quantity":1}`, status: 413, invalid: true},
		{method: "GET", target: "/api/buy-stock", status: 405, asMethod: "POST"},
		{method: "OPTIONS", target: "/api/buy-stock", status: 405, asMethod: "POST"},
		{method: "DELETE", target: "/healthz", status: 405, asMethod: "GET"},
		{method: "GET", target: "/api/orders", status: 200},
		{method: "GET", target: "/api/orders?limit=1", status: 200},
		{method: "GET", target: "/api/orders?user=user1", status: 200},
		{method: "GET", target: "/api/orders?limit=0", status: 400},
		{method: "GET", target: "/api/orders?cursor=forged", status: 400},
		{method: "GET", target: "/api/orders?limit=%2B5", status: 400},
		{method: "GET", target: "/api/orders/1", status: 200},
		{method: "GET", target: "/api/orders/999", status: 404},
		{method: "GET", target: "/api/orders/abc", status: 404},
		{method: "DELETE", target: "/api/orders/1", status: 405, asMethod: "GET"},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, header: []string{"Content-Encoding", "gzip"}, status: 415, invalid: true},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, header: []string{"Accept-Encoding", "gzip"}, status: 201},
		{method: "POST", target: "/api/orders", status: 405, asMethod: "GET"},
		{method: "OPTIONS", target: "/api/users/user1", status: 405, asMethod: "GET"},
		{method: "GET", target: "/api/users/user1", status: 200},
		{method: "GET", target: "/api/users/nobody", status: 404},
		{method: "GET", target: "/api/stocks/stock1/prices", status: 200},
		{method: "GET", target: "/api/stocks/stock1/prices", header: []string{"If-None-Match", "*"}, status: 304},
		{method: "GET", target: "/api/stocks/stock2/prices", status: 200},
		{method: "GET", target: "/api/stocks/stock9/prices", status: 404},
		{method: "GET", target: "/healthz", status: 200},
		{method: "HEAD", target: "/healthz", status: 200},
		{method: "GET", target: "/readyz", status: 200},
		{method: "HEAD", target: "/readyz", status: 200},
		{method: "GET", target: "/metrics", status: 200},
		{method: "GET", target: "/openapi.yaml", status: 200},
		{method: "GET", target: "/problems/no-price", status: 200},
		{method: "GET", target: "/problems/nothing", status: 404},
	})
	f.prices.err.set(ports.ErrUnavailable)
	checkConformance(t, f, []conformanceCase{
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, status: 503},
		{method: "GET", target: "/api/stocks/stock1/prices", status: 503},
	})
}

// TestGuardResponsesConformToOpenAPI does the same for the answers of the
// token guard and the rate limit.
func TestGuardResponsesConformToOpenAPI(t *testing.T) {
	t.Parallel()
	g := newFixture(t, withTokens(), withRateLimit(2))
	bearer := []string{"Authorization", "Bearer " + g.token}
	checkConformance(t, g, []conformanceCase{
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user2","stockname":"stock1","quantity":1}`, header: bearer, status: 403},
		{method: "GET", target: "/api/users/user2", header: bearer, status: 403},
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, header: bearer, status: 429},
		{method: "GET", target: "/api/orders", status: 401},
	})
}

func describe[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error())
		b.WriteString("; ")
	}
	return b.String()
}
