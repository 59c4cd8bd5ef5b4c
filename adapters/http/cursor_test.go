package http

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"stockd/app"
	"stockd/domain"
)

var testCursor = app.Cursor{
	AsOf:  time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC),
	After: domain.OrderPosition{CreatedAt: time.Date(2026, 11, 25, 17, 0, 0, 123456000, time.UTC), ID: 42},
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	k := newCursorCodec([]byte("key"))
	got, err := k.decode(k.encode(testCursor))
	require.NoError(t, err)
	assert.Equal(t, testCursor, got)
	assert.Equal(t, k.encode(testCursor), newCursorCodec([]byte("key")).encode(testCursor),
		"another process with the same key reads it")
}

// No edit of an issued cursor is accepted: every byte changed to every
// other value, every truncation, every extension, and the same cursor
// under another key.
func TestCursorRefusesEveryMutation(t *testing.T) {
	t.Parallel()
	k := newCursorCodec([]byte("key"))
	valid := k.encode(testCursor)
	raw, err := base64.RawURLEncoding.DecodeString(valid)
	require.NoError(t, err)

	for i := range raw {
		for b := range 256 {
			if byte(b) == raw[i] {
				continue
			}
			edited := append([]byte(nil), raw...)
			edited[i] = byte(b)
			_, err := k.decode(base64.RawURLEncoding.EncodeToString(edited))
			require.ErrorIs(t, err, errBadCursor, "byte %d set to %d", i, b)
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.\n\r "
	for i := range valid {
		for _, c := range []byte(alphabet) {
			if c == valid[i] {
				continue
			}
			edited := valid[:i] + string(c) + valid[i+1:]
			_, err := k.decode(edited)
			require.ErrorIs(t, err, errBadCursor, "character %d set to %q", i, c)
			_, err = k.decode(valid[:i] + string(c) + valid[i:])
			require.ErrorIs(t, err, errBadCursor, "%q inserted at %d", c, i)
		}
		_, err := k.decode(valid[:i])
		require.ErrorIs(t, err, errBadCursor, "cut to %d characters", i)
	}
	for _, c := range []byte(alphabet) {
		_, err := k.decode(valid + string(c))
		require.ErrorIs(t, err, errBadCursor, "%q appended", c)
	}
	_, err = newCursorCodec([]byte("another key")).decode(valid)
	require.ErrorIs(t, err, errBadCursor, "another key")
}

// FuzzCursor: whatever string a client sends, only one this service
// issued decodes, and it decodes to exactly what was issued.
func FuzzCursor(f *testing.F) {
	k := newCursorCodec([]byte("fuzz key"))
	valid := k.encode(testCursor)
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid + "A")
	f.Add("")
	f.Add("e30")
	f.Add("eyJhIjoxLCJjIjoxLCJpIjoxfQ") // the old unsigned form: {"a":1,"c":1,"i":1}
	stocks := k.encodeStocks("st", "stock1")
	f.Add(stocks)
	f.Add(stocks[:len(stocks)-2])
	f.Fuzz(func(t *testing.T, s string) {
		if prefix, after, err := k.decodeStocks(s); err == nil {
			if s != stocks || prefix != "st" || after != "stock1" {
				t.Fatalf("accepted a stocks cursor it did not issue: %q -> %q, %q", s, prefix, after)
			}
		}
		c, err := k.decode(s)
		if err != nil {
			return
		}
		if s != valid {
			t.Fatalf("accepted a cursor it did not issue: %q -> %+v", s, c)
		}
		if k.encode(c) != s {
			t.Fatalf("decoded %q to %+v, which encodes otherwise", s, c)
		}
	})
}

func TestCursorSecretIsFetchedOnFirstUseAndKept(t *testing.T) {
	t.Parallel()
	down := errors.New("order store down")
	calls := 0
	codecs := &cursorCodecs{fetch: func(context.Context) ([]byte, error) {
		calls++
		if calls == 1 {
			return nil, down
		}
		return []byte("the shared secret"), nil
	}}
	_, err := codecs.get(t.Context())
	require.ErrorIs(t, err, down, "a store that is down is told, not replaced by a random key")
	first, err := codecs.get(t.Context())
	require.NoError(t, err)
	again, err := codecs.get(t.Context())
	require.NoError(t, err)
	assert.Same(t, first, again)
	assert.Equal(t, 2, calls, "fetched until it succeeded, then kept")
	// The key is the secret's: another process with the same secret reads
	// this process's cursors.
	got, err := newCursorCodec([]byte("the shared secret")).decode(first.encode(testCursor))
	require.NoError(t, err)
	assert.Equal(t, testCursor, got)
}
