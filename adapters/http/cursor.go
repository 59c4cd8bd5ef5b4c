package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"stockd/app"
	"stockd/domain"
)

// cursorCodec turns a page position into an opaque cursor and back. A
// cursor carries the instant the first page was read, which decides what
// "today" is; an edited one could list what the rule hides, so each is
// authenticated with HMAC-SHA256 under a key shared by every API process,
// and anything this service did not issue is refused.
type cursorCodec struct {
	key []byte
}

// cursorVersion leads the payload, so that a later layout can be told
// from this one.
const cursorVersion = 1

const (
	cursorPayloadLen = 1 + 3*8 // version, as-of (Unix ns), created-at (Unix µs), id
	cursorLen        = cursorPayloadLen + sha256.Size
)

var errBadCursor = errors.New("cursor not issued by this service")

// cursorEncoding is strict base64url: with non-zero padding bits refused
// and the re-encoding compared (newlines are skipped by the decoder), one
// cursor has exactly one spelling.
var cursorEncoding = base64.RawURLEncoding.Strict()

// newCursorCodec derives the cursor key from secret, so that the secret
// itself is used for nothing but derivation.
func newCursorCodec(secret []byte) *cursorCodec {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("stockd cursor key v1"))
	return &cursorCodec{key: mac.Sum(nil)}
}

func (k *cursorCodec) sign(payload []byte) []byte {
	mac := hmac.New(sha256.New, k.key)
	mac.Write(payload)
	return mac.Sum(nil)
}

func (k *cursorCodec) encode(c app.Cursor) string {
	b := make([]byte, cursorPayloadLen, cursorLen)
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c.AsOf.UnixNano()))
	binary.BigEndian.PutUint64(b[9:], uint64(c.After.CreatedAt.UnixMicro()))
	binary.BigEndian.PutUint64(b[17:], uint64(c.After.ID))
	b = append(b, k.sign(b)...)
	return cursorEncoding.EncodeToString(b)
}

func (k *cursorCodec) decode(s string) (app.Cursor, error) {
	raw, err := cursorEncoding.DecodeString(s)
	if err != nil || len(raw) != cursorLen || cursorEncoding.EncodeToString(raw) != s {
		return app.Cursor{}, errBadCursor
	}
	payload, sum := raw[:cursorPayloadLen], raw[cursorPayloadLen:]
	if !hmac.Equal(sum, k.sign(payload)) || payload[0] != cursorVersion {
		return app.Cursor{}, errBadCursor
	}
	asOf := int64(binary.BigEndian.Uint64(payload[1:]))
	createdAt := int64(binary.BigEndian.Uint64(payload[9:]))
	id := int64(binary.BigEndian.Uint64(payload[17:]))
	return app.Cursor{
		AsOf:  time.Unix(0, asOf).UTC(),
		After: domain.OrderPosition{CreatedAt: time.UnixMicro(createdAt).UTC(), ID: id},
	}, nil
}

// cursorCodecs hands out the codec, built on first use from a secret that
// may live in a store (the order store keeps one for every API process):
// a process that starts while that store is down still serves, and its
// first listing fetches the secret once the store is back.
type cursorCodecs struct {
	mu    sync.Mutex
	codec *cursorCodec
	fetch func(context.Context) ([]byte, error)
}

func staticCursorCodecs(secret []byte) *cursorCodecs {
	return &cursorCodecs{codec: newCursorCodec(secret)}
}

func (c *cursorCodecs) get(ctx context.Context) (*cursorCodec, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codec == nil {
		secret, err := c.fetch(ctx)
		if err != nil {
			return nil, fmt.Errorf("cursor secret: %w", err)
		}
		c.codec = newCursorCodec(secret)
	}
	return c.codec, nil
}

// stockCursorVersion leads a stock listing's cursor, so that an orders
// cursor is never read as one (both are signed under the same key).
const stockCursorVersion = 2

// encodeStocks is the cursor of a stock listing's next page: the prefix
// searched and the last stock of the page. Neither is secret (every stock
// is public), but the cursor is signed like an orders cursor, so that
// clients treat both alike and the layout may change without a client
// having come to depend on it.
func (k *cursorCodec) encodeStocks(prefix, after string) string {
	b := make([]byte, 0, 2+len(prefix)+len(after)+sha256.Size)
	b = append(b, stockCursorVersion, byte(len(prefix)))
	b = append(append(b, prefix...), after...)
	b = append(b, k.sign(b)...)
	return cursorEncoding.EncodeToString(b)
}

// decodeStocks reads a cursor that encodeStocks wrote.
func (k *cursorCodec) decodeStocks(s string) (prefix, after string, err error) {
	raw, err := cursorEncoding.DecodeString(s)
	if err != nil || len(raw) < 2+sha256.Size || cursorEncoding.EncodeToString(raw) != s {
		return "", "", errBadCursor
	}
	payload, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(sum, k.sign(payload)) || payload[0] != stockCursorVersion || int(payload[1]) > len(payload)-2 {
		return "", "", errBadCursor
	}
	n := int(payload[1])
	return string(payload[2 : 2+n]), string(payload[2+n:]), nil
}
