package http_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"github.com/pb33f/libopenapi/utils"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/api"
	"stockd/internal/domaintest"
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
		{method: "POST", target: "/api/sell-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, status: 201},
		{method: "POST", target: "/api/sell-stock", body: `{"user":"user1","stockname":"stock1","quantity":1000}`, status: 201},
		{method: "POST", target: "/api/sell-stock", body: `{"user":"user1","stockname":"stock9","quantity":1}`, status: 422},
		{method: "POST", target: "/api/sell-stock", body: `{"user":"user1"}`, status: 400, invalid: true},
		{method: "GET", target: "/api/sell-stock", status: 405, asMethod: "POST"},
		{method: "GET", target: "/api/users/user1/positions", status: 200},
		{method: "GET", target: "/api/users/nobody/positions", status: 404},
		{method: "DELETE", target: "/api/users/user1/positions", status: 405, asMethod: "GET"},
		{method: "GET", target: "/api/orders?side=sell", status: 200},
		{method: "GET", target: "/api/orders?side=short", status: 400},
		{method: "GET", target: "/api/users/nobody", status: 404},
		{method: "GET", target: "/api/stocks/stock1/prices", status: 200},
		{method: "GET", target: "/api/stocks/stock1/prices", header: []string{"If-None-Match", "*"}, status: 304},
		{method: "GET", target: "/api/stocks/stock2/prices", status: 200},
		{method: "GET", target: "/api/stocks/stock9/prices", status: 404},
		{method: "GET", target: "/api/stocks/stock1/prices?date=2026-11-25", status: 200},
		{method: "GET", target: "/api/stocks/stock1/prices?date=2026-11-25&from=090000&to=095959", status: 200},
		{method: "GET", target: "/api/stocks/stock1/prices?date=2026-11-24", status: 404},
		{method: "GET", target: "/api/stocks/stock1/prices?date=2026-11-31", status: 400},
		{method: "GET", target: "/api/stocks/stock1/days", status: 200},
		{method: "GET", target: "/api/stocks/stock2/days", status: 200},
		{method: "GET", target: "/api/stocks/stock9/days", status: 404},
		{method: "POST", target: "/api/stocks/stock1/days", status: 405, asMethod: "GET"},
		{method: "GET", target: "/api/stocks", status: 200},
		{method: "GET", target: "/api/stocks?limit=2", status: 200},
		{method: "GET", target: "/api/stocks?q=stock&limit=1", status: 200},
		{method: "GET", target: "/api/stocks?stocks=stock3,stock1", status: 200},
		{method: "GET", target: "/api/stocks?stocks=stock3,stock9", status: 404},
		{method: "GET", target: "/api/stocks?limit=1001", status: 400},
		{method: "GET", target: "/api/stocks?q=a%20b", status: 400},
		{method: "GET", target: "/api/stocks?cursor=forged", status: 400},
		{method: "GET", target: "/api/stream", status: 400},
		{method: "GET", target: "/api/stream?stocks=stock1,,stock2", status: 400},
		{method: "GET", target: "/api/stream?stocks=stock1,stock9", status: 404},
		{method: "POST", target: "/api/stream?stocks=stock1", status: 405, asMethod: "GET"},
		{method: "GET", target: "/docs", status: 200},
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
		{method: "GET", target: "/api/stocks/stock1/days", status: 503},
		{method: "GET", target: "/api/stocks", status: 503},
	})
	stale := newFixture(t, withMaxPriceAge(time.Minute))
	checkConformance(t, stale, []conformanceCase{
		{method: "POST", target: "/api/buy-stock", body: `{"user":"user1","stockname":"stock1","quantity":1}`, status: 409},
	})
}

// TestEnumsHaveGoodNames: every enum of the description names its values
// for generated clients (x-enum-varnames, one unique name a value), so
// that oapi-codegen writes BuyResultAccept rather than a bare Accept.
func TestEnumsHaveGoodNames(t *testing.T) {
	t.Parallel()
	var doc any
	require.NoError(t, json.Unmarshal(openAPIJSON(t), &doc))
	seen := map[string]string{}
	enums := 0
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if values, ok := v["enum"].([]any); ok {
				enums++
				names, _ := v["x-enum-varnames"].([]any)
				if assert.Len(t, names, len(values), "%s: x-enum-varnames", at) {
					for _, n := range names {
						name, _ := n.(string)
						assert.Regexp(t, `^[A-Z][A-Za-z0-9]*$`, name, at)
						assert.Empty(t, seen[name], "%s: %s is also a name at %s", at, name, seen[name])
						seen[name] = at
					}
				}
			}
			for k, child := range v {
				walk(at+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", at, i), child)
			}
		}
	}
	walk("#", doc)
	assert.GreaterOrEqual(t, enums, 5, "BuyResult, OrderStatus, Health, Readiness and ProblemType at least")
}

// TestRequestIDIsNoParameter: X-Request-Id is described once, as a
// response header; as a parameter of each operation it made generated
// clients take a parameters struct on every call.
func TestRequestIDIsNoParameter(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []map[string]any `json:"parameters"`
		} `json:"paths"`
		Components struct {
			Parameters map[string]map[string]any `json:"parameters"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(openAPIJSON(t), &doc))
	for path, ops := range doc.Paths {
		for method, op := range ops {
			for _, p := range op.Parameters {
				assert.NotEqual(t, "#/components/parameters/RequestID", p["$ref"], "%s %s", method, path)
				assert.NotEqual(t, "X-Request-Id", p["name"], "%s %s", method, path)
			}
		}
	}
	for name, p := range doc.Components.Parameters {
		assert.NotEqual(t, "X-Request-Id", p["name"], name)
	}
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

func openAPIJSON(t *testing.T) []byte {
	t.Helper()
	b, err := utils.ConvertYAMLtoJSON(api.OpenAPI)
	require.NoError(t, err)
	return b
}

// openAPISchema is a schema of the description's components, for shapes
// that no response validator sees (a stream's events).
func openAPISchema(t *testing.T, name string) *base.Schema {
	t.Helper()
	doc, err := libopenapi.NewDocument(api.OpenAPI)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NoError(t, err)
	proxy, ok := model.Model.Components.Schemas.Get(name)
	require.True(t, ok, "no schema %s", name)
	s, err := proxy.BuildSchema()
	require.NoError(t, err)
	return s
}

// TestStreamEventsConformToOpenAPI: the stream's series event is a
// PriceSeries and its minute events are MinuteEvents, a new day's too.
func TestStreamEventsConformToOpenAPI(t *testing.T) {
	s := newPriceServer(t, time.Hour)
	srv := httptest.NewServer(s.handler)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/api/stocks/stock1/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	events := readEvents(resp.Body)
	series := next(t, events)
	require.Equal(t, "series", series.name)
	merge(t, s.prices,
		domaintest.Tick("stock1", march3, 9*3600+200, 130),
		domaintest.Tick("stock1", march4, 8*3600, 140),
	)
	minute := nextMinutes(t, events, 1)[0]
	assert.Contains(t, minute, `"2026-03-04"`)

	v := schema_validation.NewSchemaValidator()
	for _, ev := range []struct{ schema, data string }{{"PriceSeries", series.data}, {"MinuteEvent", minute}} {
		ok, errs := v.ValidateSchemaString(openAPISchema(t, ev.schema), ev.data)
		assert.True(t, ok, "%s %s: %s", ev.schema, ev.data, describe(errs))
	}
	// The check can fail: a minute without its date is not a MinuteEvent.
	ok, _ := v.ValidateSchemaString(openAPISchema(t, "MinuteEvent"), `{"time":"090000","price":1,"open":1,"high":1,"low":1}`)
	assert.False(t, ok)
}

// TestManyStreamEventsConformToOpenAPI: on a stream of many stocks, the
// series events are PriceSeries and the minute events StockMinuteEvents.
func TestManyStreamEventsConformToOpenAPI(t *testing.T) {
	s := newPriceServer(t, time.Hour)
	srv := serveEvents(t, s.handler, false)
	status, events := openEvents(t, srv, "/api/stream?stocks=stock2,stock1", "")
	require.Equal(t, http.StatusOK, status)
	series := []sseEvent{next(t, events), next(t, events)}
	merge(t, s.prices, domaintest.Tick("stock1", march4, 8*3600, 140))
	minute := nextMinutes(t, events, 1)[0]

	v := schema_validation.NewSchemaValidator()
	for _, ev := range []struct{ schema, data string }{{"PriceSeries", series[0].data}, {"PriceSeries", series[1].data}, {"StockMinuteEvent", minute}} {
		ok, errs := v.ValidateSchemaString(openAPISchema(t, ev.schema), ev.data)
		assert.True(t, ok, "%s %s: %s", ev.schema, ev.data, describe(errs))
	}
	// The check can fail: a minute of one stock's stream names no stock.
	ok, _ := v.ValidateSchemaString(openAPISchema(t, "StockMinuteEvent"), `{"date":"2026-03-04","time":"090000","price":1,"open":1,"high":1,"low":1}`)
	assert.False(t, ok)
}
