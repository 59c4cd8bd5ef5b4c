package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeBuyRequest: the decoder never panics, answers every refusal
// as a client problem (never a 500), and what it accepts is a JSON object
// of exactly the three members, which encoding/json reads the same way.
// What the plain-body scanner accepts, the token decoder reads the same.
func FuzzDecodeBuyRequest(f *testing.F) {
	for _, seed := range []string{
		`{"user":"user2","stockname":"stock1","quantity":100}`,
		`{"quantity":-1,"stockname":"","user":""}`,
		`{"user":"a=","user":"user1","stockname":"stock1","quantity":1}`,
		`{"user":"\u0075","stockname":"s","quantity":1e2}`,
		`{"user":"u","stockname":"s","quantity":9223372036854775807} `,
		`{"user":"u","stockname":"s","quantity":1}{}`,
		`[{"user":"u"}]`,
		`{"user":{"user":{}}}`,
		``, `null`, `"x"`, `{`,
		" {\t\"quantity\" :\r\n7 , \"stockname\":\"stock2\",\"user\":\"u-1\" }\n",
		`{"user":"u","stockname":"s","quantity":1,"quantity":2}`,
		`{"user":"u","stockname":"s","quantity":01}`,
		`{"user":"u","stockname":"s","quantity":123456789012345678}`,
		`{"user":"u\"","stockname":"s","quantity":1}`,
		`{"user":"u","stockname":"s","quantity":1,}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if fast, ok := scanBuyRequest(body); ok {
			slow, err := parseBuyRequest(bytes.NewReader(body))
			if err != nil || slow != fast {
				t.Fatalf("%q scanned as %+v, decoded as %+v (%v)", body, fast, slow, err)
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		got, err := decodeBuyRequest(req)
		if err != nil {
			kind, status, _ := problemOf(err)
			if status != http.StatusBadRequest && status != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused %q with %d %s", body, status, kind.slug)
			}
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(body, &members); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if len(members) != 3 {
			t.Fatalf("accepted %q with %d members", body, len(members))
		}
		var want struct {
			User      string `json:"user"`
			Stockname string `json:"stockname"`
			Quantity  int64  `json:"quantity"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if got != (buyRequest{User: want.User, Stockname: want.Stockname, Quantity: want.Quantity}) {
			t.Fatalf("%q read as %+v, encoding/json reads %+v", body, got, want)
		}
	})
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestBodyReadFailuresNameNoAddress(t *testing.T) {
	t.Parallel()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 18090}
	for _, tt := range []struct {
		name string
		err  error
		kind *problemType
	}{
		{"slow body", &net.OpError{Op: "read", Net: "tcp", Source: addr, Addr: addr, Err: os.ErrDeadlineExceeded}, probTimeout},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Source: addr, Addr: addr, Err: errors.New("connection reset by peer")}, probBadBody},
		{"too large", &http.MaxBytesError{Limit: MaxBodyBytes}, probTooLarge},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", errReader{tt.err})
		req.Header.Set("Content-Type", "application/json")
		_, err := decodeBuyRequest(req)
		kind, _, detail := problemOf(err)
		assert.Equal(t, tt.kind, kind, tt.name)
		assert.NotContains(t, detail, "127.0.0.1", tt.name)
		assert.NotContains(t, detail, "tcp", tt.name)
	}
}

func TestQuoteInputIsBounded(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `"user2"`, quoteInput("user2"))
	assert.Equal(t, `"a\nb"`, quoteInput("a\nb"), "control characters escaped")
	long := quoteInput(strings.Repeat("é", 100_000))
	require.Less(t, len(long), 200)
	assert.Contains(t, long, `"`+strings.Repeat("é", 64)+`"`)
	assert.Contains(t, long, "cut")
}

// onceReader gives its text on the first Read and fails every later one,
// as a client that sent a few bytes and went quiet would.
type onceReader struct {
	text string
	read bool
}

func (r *onceReader) Read(p []byte) (int, error) {
	if r.read {
		return 0, errors.New("read after the first bytes")
	}
	r.read = true
	return copy(p, r.text), nil
}

// TestABodyThatIsNoObjectIsRefusedAtItsFirstBytes: a body that shows it is
// no JSON object is refused from what came, without waiting for more.
func TestABodyThatIsNoObjectIsRefusedAtItsFirstBytes(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"x", " \n[", "\t]"} {
		req := httptest.NewRequest(http.MethodPost, "/api/buy-stock", &onceReader{text: text})
		req.Header.Set("Content-Type", "application/json")
		_, err := decodeBuyRequest(req)
		kind, status, _ := problemOf(err)
		assert.Equal(t, http.StatusBadRequest, status, "%q", text)
		assert.Equal(t, probBadBody, kind, "%q", text)
		assert.NotContains(t, err.Error(), "read after", "%q: read past the first bytes", text)
	}
}
