package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 1 << 20

// buyRequest is the BuyStock body, every field present.
type buyRequest struct {
	User      string
	Stockname string
	Quantity  int64
}

// decodeBuyRequest accepts exactly one JSON object with the three fields
// and their types, each once, and nothing after it, sent as
// application/json. A form or text/plain body (what another site's page
// can make a browser send) is refused before it is read.
func decodeBuyRequest(r *http.Request) (buyRequest, error) {
	if err := requireJSON(r.Header.Get(echo.HeaderContentType)); err != nil {
		return buyRequest{}, err
	}
	if err := requireIdentity(r.Header.Values(echo.HeaderContentEncoding)); err != nil {
		return buyRequest{}, err
	}
	body := &recordingReader{r: http.MaxBytesReader(nil, r.Body, MaxBodyBytes)}
	// A body as clients send it is short and plain: read whole, it is
	// scanned without a decoder (which was a quarter of a buy's
	// allocations). Anything else, and anything longer, goes to the
	// decoder, which also says what is wrong with a body.
	buf := shortBodies.Get().(*[shortBody]byte)
	defer shortBodies.Put(buf) // what is read from it is copied out
	head, whole := readShort(body, buf[:0])
	if whole && body.err == nil {
		if req, ok := scanBuyRequest(head); ok {
			return req, nil
		}
	}
	req, err := parseBuyRequest(io.MultiReader(bytes.NewReader(head), body))
	if body.err != nil {
		return buyRequest{}, readProblem(body.err)
	}
	return req, err
}

// shortBody is how much of a body is read before it is decoded: a buy
// with a user and stock name of a few dozen characters each fits.
const shortBody = 512

// shortBodies holds the buffers bodies are read into: a 512-byte buffer
// made per request was garbage on every buy.
var shortBodies = sync.Pool{New: func() any { return new([shortBody]byte) }}

// readShort reads r into buf's spare capacity, and says whether that
// was the whole of r (its end came first). It stops early, not whole,
// once the body shows it is no JSON object: the decoder then answers at
// once, as it did before this read, rather than after a slow client's
// next bytes.
func readShort(r io.Reader, buf []byte) ([]byte, bool) {
	for len(buf) < cap(buf) {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, true
		}
		if err != nil {
			return buf, false
		}
		if i := skipJSONSpace(buf, 0); i < len(buf) && buf[i] != '{' {
			return buf, false
		}
	}
	return buf, false
}

// scanBuyRequest reads b when it is a buy in its plain form: one object
// of the three members, each once, in any order, strings of printable
// ASCII without escapes, a quantity of 1 to 18 digits without a leading
// zero, JSON white space anywhere between tokens. It says ok false for
// anything else, valid or not, and parseBuyRequest decides:
// FuzzDecodeBuyRequest holds that whatever this accepts, parseBuyRequest
// reads the same.
func scanBuyRequest(b []byte) (req buyRequest, ok bool) {
	i := skipJSONSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return req, false
	}
	var seenUser, seenStock, seenQuantity bool
	for {
		name, j, ok := plainJSONString(b, skipJSONSpace(b, i+1))
		if !ok {
			return req, false
		}
		i = skipJSONSpace(b, j)
		if i == len(b) || b[i] != ':' {
			return req, false
		}
		i = skipJSONSpace(b, i+1)
		switch string(name) {
		case "user", "stockname":
			v, j, ok := plainJSONString(b, i)
			if !ok {
				return req, false
			}
			if name[0] == 'u' {
				if seenUser {
					return req, false
				}
				seenUser, req.User = true, string(v)
			} else {
				if seenStock {
					return req, false
				}
				seenStock, req.Stockname = true, string(v)
			}
			i = j
		case "quantity":
			j := i
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			if seenQuantity || j == i || j-i > 18 || b[i] == '0' {
				return req, false
			}
			q, err := strconv.ParseInt(string(b[i:j]), 10, 64)
			if err != nil {
				return req, false
			}
			seenQuantity, req.Quantity, i = true, q, j
		default:
			return req, false
		}
		i = skipJSONSpace(b, i)
		if i == len(b) {
			return req, false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return req, false
		}
	}
	if skipJSONSpace(b, i+1) != len(b) {
		return req, false
	}
	return req, seenUser && seenStock && seenQuantity
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainJSONString reads the string starting at b[i] when it holds only
// printable ASCII and no escape: its contents and the index after it.
func plainJSONString(b []byte, i int) ([]byte, int, bool) {
	if i == len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func requireJSON(contentType string) error {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil || media != "application/json" {
		return fail(probMediaType, "", nil)
	}
	return nil
}

// requireIdentity refuses a compressed body: the service decodes none, and
// read as JSON a gzip body would be a misleading bad-body. 415 is what RFC
// 9110 (15.5.16) names for an unsupported Content-Encoding.
func requireIdentity(encodings []string) error {
	for _, v := range encodings {
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
				return fail(probEncoding, "", nil)
			}
		}
	}
	return nil
}

// recordingReader keeps the first error of the body other than its end,
// so that a body that could not be read (too large, too slow, cut off) is
// told from one that is not JSON.
type recordingReader struct {
	r   io.Reader
	err error
}

func (b *recordingReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

// readProblem words a failure to read the body. Its text (which names the
// connection's addresses) goes to no client.
func readProblem(err error) error {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return fail(probTooLarge, "", err)
	case errors.As(err, &ne) && ne.Timeout():
		return fail(probTimeout, "", err)
	}
	return fail(probBadBody, "the body could not be read to its end", err)
}

// parseBuyRequest walks the JSON tokens itself rather than unmarshalling:
// encoding/json silently keeps the last of two members with one name, and
// a duplicated member is how a crafted body smuggles a second value past
// a check. Values are scalars, so a nested object or array is refused at
// its first token, whatever its depth.
func parseBuyRequest(r io.Reader) (buyRequest, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return buyRequest{}, badJSON(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return buyRequest{}, badBody("body must be a JSON object")
	}
	var req buyRequest
	seen := make(map[string]bool, 3)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return buyRequest{}, badJSON(err)
		}
		name, _ := tok.(string) // json.Decoder yields member names as strings
		if seen[name] {
			return buyRequest{}, badBody(fmt.Sprintf("body: member %s appears more than once", quoteInput(name)))
		}
		seen[name] = true
		value, err := dec.Token()
		if err != nil {
			return buyRequest{}, badJSON(err)
		}
		switch name {
		case "user", "stockname":
			s, ok := value.(string)
			if !ok {
				return buyRequest{}, badBody(fmt.Sprintf("body: %q must be a string, not %s", name, kindOf(value)))
			}
			if name == "user" {
				req.User = s
			} else {
				req.Stockname = s
			}
		case "quantity":
			n, ok := value.(json.Number)
			q, err := strconv.ParseInt(string(n), 10, 64)
			if !ok || err != nil {
				return buyRequest{}, badBody(fmt.Sprintf(`body: "quantity" must be an integer from 1 to 9223372036854775807, not %s`, kindOf(value)))
			}
			req.Quantity = q
		default:
			return buyRequest{}, badBody(fmt.Sprintf("body: unknown member %s; the members are user, stockname and quantity", quoteInput(name)))
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return buyRequest{}, badJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return buyRequest{}, badBody("body: data after the JSON object")
	}
	for _, name := range []string{"user", "stockname", "quantity"} {
		if !seen[name] {
			return buyRequest{}, badBody(fmt.Sprintf("body: %q is missing", name))
		}
	}
	return req, nil
}

func badBody(detail string) error { return fail(probBadBody, detail, nil) }

// badJSON rewords a decoding error for the client, in the API's terms
// rather than Go's.
func badJSON(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return badBody("body is empty: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badBody("body is not valid JSON: it ends too early")
	case errors.As(err, &se):
		return badBody(fmt.Sprintf("body is not valid JSON at byte %d: %s", se.Offset, se.Error()))
	}
	return fail(probBadBody, "", err)
}

// kindOf names a JSON value for an error, repeating at most a bounded
// part of it.
func kindOf(v json.Token) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "the number " + quoteInput(string(v))
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	}
	return "another value"
}
